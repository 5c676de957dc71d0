"""Small synthetic stand-ins for the data sets the tutorials download (no network here).

Imported by the programs as `from _synthetic import ...`; NumPy only, so the same arrays feed
PyTorch and microtensor.
"""
import numpy as np


def fashion_like(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n 28x28 float32 "images" in [0, 1] of 10 classes (a class-dependent stripe plus noise)
    and their int64 labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.uniform(0, 0.3, (n, 1, 28, 28)).astype(np.float32)
    for k in range(10):
        images[labels == k, 0, 2 * k + 4: 2 * k + 7, 4:24] += 0.7
    return images, labels.astype(np.int64)


def names(n: int, seed: int = 0) -> list[str]:
    """n made-up lowercase names (alternating consonants and vowels), like makemore's data."""
    rng = np.random.default_rng(seed)
    consonants, vowels = "bcdfghjklmnprstvz", "aeiouy"
    out = []
    for _ in range(n):
        length = int(rng.integers(3, 8))
        start = int(rng.integers(0, 2))
        out.append("".join(rng.choice(list(consonants if (i + start) % 2 == 0 else vowels))
                           for i in range(length)))
    return out


def moons(n: int, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's make_moons, written out): points, labels."""
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], 1)])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    x += rng.normal(0, noise, x.shape)
    return x, y
