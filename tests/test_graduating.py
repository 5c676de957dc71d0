"""Moving a model between microtensor and PyTorch through NumPy arrays gives the same outputs.

``docs/graduating-to-pytorch.md`` trains a model in its ```python blocks (which
``tests/test_docs.py`` runs without PyTorch) and moves it to PyTorch and back in its ```py
blocks. Here, where PyTorch is installed, both kinds run in page order in one namespace (as a
reader running the page would), and the outputs of the two libraries must agree.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_docs import FENCE, fenced_blocks

import microtensor as mt
from microtensor import nn

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "graduating-to-pytorch.md"


def run_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run the ```python blocks, then the ```py blocks, of the page in one namespace."""
    blocks = fenced_blocks(PAGE)
    python = [body for lang, body, _ in blocks if lang == "python"]
    py = [body for lang, body, _ in blocks if lang == "py"]
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    for i, block in enumerate([*python, *py]):
        code = compile(block, f"{PAGE.name} block {i + 1}", "exec")
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, namespace)  # noqa: S102 - running the documentation is the point
    return namespace


def test_page_has_both_halves() -> None:
    langs = [lang for lang, _, _ in fenced_blocks(PAGE)]
    assert langs.count("python") >= 2 and langs.count("py") >= 3
    # The microtensor half comes first: the ```py blocks read the files it writes.
    assert max(i for i, lang in enumerate(langs) if lang == "python") < langs.index("py")


def test_the_page_moves_the_model_both_ways(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    ns = run_page(tmp_path, monkeypatch)
    # microtensor's trained model gives PyTorch's outputs in PyTorch ...
    assert ns["ours"].dtype == ns["theirs"].dtype == np.float32
    assert ns["ours"].shape == ns["theirs"].shape == (300, 3)
    assert np.abs(ns["theirs"] - ns["ours"]).max() < 1e-6
    assert ns["accuracy"] > 0.95  # and it learned something worth moving
    # ... PyTorch kept training it (the weights changed) ...
    with np.load(tmp_path / "classifier.npz") as before, \
            np.load(tmp_path / "from_pytorch.npz") as after:
        assert sorted(before.files) == sorted(after.files)
        assert any(np.abs(before[k] - after[k]).max() > 1e-4 for k in before.files)
    # ... and microtensor, given PyTorch's weights, gives PyTorch's outputs.
    assert isinstance(ns["model"], nn.Module)
    assert ns["back"].shape == ns["pytorch_outputs"].shape == (300, 3)
    assert np.abs(ns["back"] - ns["pytorch_outputs"]).max() < 1e-6
    # The page's last model is microtensor's, its last outputs PyTorch's: nothing mixed up.
    assert not isinstance(ns["model"], torch.nn.Module)


def build(lib: Any) -> Any:
    """The same model in either library (``lib`` is ``microtensor`` or ``torch``)."""
    n = lib.nn
    return n.Sequential(n.Embedding(10, 8, padding_idx=0), n.LayerNorm(8), n.Flatten(),
                        n.Linear(24, 12), n.BatchNorm1d(12), n.GELU(), n.Linear(12, 4))


def as_arrays(model: Any) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in model.state_dict().items()}


def load_arrays(lib: Any, model: Any, arrays: dict[str, np.ndarray]) -> None:
    model.load_state_dict({k: lib.from_numpy(v) for k, v in arrays.items()})


def test_buffers_and_normalisation_layers_move_both_ways(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    tokens = np.random.default_rng(1).integers(0, 10, size=(16, 3))
    # Train a little in microtensor, so the running statistics and the counter move.
    mt.manual_seed(0)
    ours = build(mt)
    opt = mt.optim.SGD(ours.parameters(), lr=0.1)
    for _ in range(3):
        loss = ours(mt.from_numpy(tokens)).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    ours.eval()
    np.savez(tmp_path / "w.npz", **as_arrays(ours))

    theirs = build(torch)
    with np.load(tmp_path / "w.npz") as w:
        arrays = {k: w[k] for k in w.files}
    assert arrays["4.num_batches_tracked"].shape == () and \
        arrays["4.num_batches_tracked"].dtype == np.int64 and arrays["4.num_batches_tracked"] == 3
    load_arrays(torch, theirs, arrays)
    theirs.eval()
    assert set(theirs.state_dict()) == set(arrays)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(tokens)).numpy()
    with mt.no_grad():
        got = ours(mt.from_numpy(tokens)).numpy()
    assert np.abs(got - expected).max() < 1e-5

    # And back: a PyTorch model, trained a step so no value is an initial one, into microtensor.
    theirs.train()
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    theirs(torch.from_numpy(tokens)).square().mean().backward()
    topt.step()
    theirs.eval()
    back = build(mt)
    load_arrays(mt, back, {k: v.numpy() for k, v in theirs.state_dict().items()})
    back.eval()
    assert int(back.state_dict()["4.num_batches_tracked"].item()) == 4
    with torch.no_grad():
        expected = theirs(torch.from_numpy(tokens)).numpy()
    with mt.no_grad():
        got = back(mt.from_numpy(tokens)).numpy()
    assert np.abs(got - expected).max() < 1e-5


# -- docs/pytorch-compatibility.md: its lists of missing names stay true --------------------

COMPAT = ROOT / "docs" / "pytorch-compatibility.md"
_PREFIXES = {"torch": "", "Tensor": "Tensor.", "F": "nn.functional.", "Module": "nn.Module.",
             "Optimizer": "optim.Optimizer."}


def listed_missing() -> list[str]:
    """The names in the page's "Not yet" and "Not planned" paragraphs, as ``torch.`` paths.

    Only backticked dotted names with a known prefix (``torch.``, ``Tensor.``, ``F.``,
    ``Module.``, ``Optimizer.``) count; other backticked words are explanations.
    """
    text = FENCE.sub("", COMPAT.read_text(encoding="utf-8"))  # prose only
    names = []
    for paragraph in re.split(r"\n\s*\n", text):
        if not re.match(r"\*\*Not (yet|planned):\*\*", paragraph):
            continue
        for token in re.findall(r"`([A-Za-z_][\w.]*)`", paragraph):
            head, _, rest = token.partition(".")
            if rest and head in _PREFIXES:
                names.append("torch." + _PREFIXES[head] + rest)
    return names


def resolve(root: Any, package: str, path: str) -> Any:
    """``root.a.b.c`` for ``path`` "a.b.c", importing submodules as needed; None if absent."""
    obj = root
    for i, part in enumerate(path.split(".")):
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        if inspect.ismodule(obj):
            name = ".".join([package, *path.split(".")[:i + 1]])
            try:
                obj = importlib.import_module(name)
                continue
            except ImportError:
                return None
        return None
    return obj


def test_listed_missing_names_are_missing() -> None:
    names = listed_missing()
    assert len(names) > 150, f"only {len(names)} names found: is the page's format changed?"
    present = [n for n in names
               if resolve(mt, "microtensor", n.removeprefix("torch.")) is not None]
    assert not present, f"listed as missing in {COMPAT.name} but microtensor has them: {present}"


def test_listed_missing_names_exist_in_pytorch() -> None:
    torch = pytest.importorskip("torch")
    names = listed_missing()
    absent = [n for n in names if resolve(torch, "torch", n.removeprefix("torch.")) is None]
    assert not absent, f"listed in {COMPAT.name} but PyTorch has no such name: {absent}"
