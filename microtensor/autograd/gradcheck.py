"""Check analytical gradients against central finite differences, in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import grad
from .function import TensorBase


class GradcheckError(RuntimeError):
    """Raised when an analytical gradient disagrees with the numerical one."""


def _outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> list[Any]:
    out = fn(*inputs)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _check_inputs(inputs: Sequence[Any], name: str) -> list[int]:
    wrt = []
    for i, x in enumerate(inputs):
        if isinstance(x, TensorBase) and x.requires_grad:
            if x._data.dtype != np.float64:
                raise TypeError(f"{name}: input {i} has dtype {x._data.dtype}; finite differences "
                                f"need float64 to be accurate. Use .double() on the inputs.")
            wrt.append(i)
    if not wrt:
        raise ValueError(f"{name}: no input requires grad, so there is nothing to check")
    return wrt


def _numerical(fn: Callable[..., Any], inputs: Sequence[Any], i: int, out_index: int,
               eps: float) -> np.ndarray:
    """d out[out_index] / d inputs[i] by central differences: shape out.shape + input.shape."""
    x = inputs[i]._data
    out_size = _outputs(fn, inputs)[out_index]._data.size
    jac = np.zeros((out_size, x.size))
    for k in range(x.size):
        at = np.unravel_index(k, x.shape)  # perturb the input's own array, whatever its layout
        orig = x[at]
        x[at] = orig + eps
        plus = _outputs(fn, inputs)[out_index]._data.astype(np.float64).reshape(-1)
        x[at] = orig - eps
        minus = _outputs(fn, inputs)[out_index]._data.astype(np.float64).reshape(-1)
        x[at] = orig
        jac[:, k] = (plus - minus) / (2 * eps)
    return jac


def _analytical(fn: Callable[..., Any], inputs: Sequence[Any], wrt: list[int],
                out_index: int) -> list[np.ndarray]:
    """Rows of the Jacobian, one backward pass per output element."""
    out = _outputs(fn, inputs)[out_index]
    jacs = [np.zeros((out._data.size, inputs[i]._data.size)) for i in wrt]
    if not out.requires_grad:
        return jacs
    for r in range(out._data.size):
        g = np.zeros(out._data.size, dtype=out._data.dtype)
        g[r] = 1
        grads = grad(out, [inputs[i] for i in wrt], out._make(g.reshape(out._data.shape)),
                     retain_graph=True, allow_unused=True)
        for jac, gi in zip(jacs, grads, strict=True):
            if gi is not None:
                jac[r] = gi._data.reshape(-1)
    return jacs


def gradcheck(fn: Callable[..., Any], inputs: Sequence[Any] | Any, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Compare the gradients that backward computes with central finite differences.

    Args:
        fn: a function of ``inputs`` returning a tensor or a tuple of tensors.
        inputs: the arguments; those with ``requires_grad=True`` (float64) are checked.
        eps: the finite-difference step.
        atol, rtol: the tolerance: ``|analytical - numerical| <= atol + rtol * |numerical|``.
        raise_exception: raise ``GradcheckError`` naming the input, output and element that
            disagree (otherwise return False).

    Returns:
        True when every gradient matches.
    """
    inputs = list(inputs) if isinstance(inputs, (tuple, list)) else [inputs]
    wrt = _check_inputs(inputs, "gradcheck")
    for o, out in enumerate(_outputs(fn, inputs)):
        if not isinstance(out, TensorBase) or out._data.dtype.kind != "f":
            continue
        analytical = _analytical(fn, inputs, wrt, o)
        for i, a_jac in zip(wrt, analytical, strict=True):
            n_jac = _numerical(fn, inputs, i, o, eps)
            bad = np.abs(a_jac - n_jac) > atol + rtol * np.abs(n_jac)
            if bad.any():
                r, k = np.argwhere(bad)[0]
                in_el = np.unravel_index(k, inputs[i]._data.shape)
                out_el = np.unravel_index(r, out._data.shape)
                msg = (f"Jacobian mismatch for output {o} with respect to input {i}: "
                       f"d output{tuple(map(int, out_el))} / d input{tuple(map(int, in_el))} is "
                       f"{a_jac[r, k]:.6g} by backward but {n_jac[r, k]:.6g} by finite "
                       f"differences (difference {abs(a_jac[r, k] - n_jac[r, k]):.3g}; "
                       f"{int(bad.sum())} of {bad.size} entries disagree)")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(fn: Callable[..., Any], inputs: Sequence[Any] | Any,
                  grad_outputs: Sequence[Any] | None = None, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
                  seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of ``inputs -> grad(fn(inputs), inputs, v)``.

    ``v`` (``grad_outputs``) is random unless given, and is itself checked as an input.
    """
    inputs = list(inputs) if isinstance(inputs, (tuple, list)) else [inputs]
    wrt = _check_inputs(inputs, "gradgradcheck")
    outs = _outputs(fn, inputs)
    rng = np.random.default_rng(seed)
    if grad_outputs is None:
        grad_outputs = [o._make(rng.standard_normal(o._data.shape), True) for o in outs]
    else:
        grad_outputs = [v.detach().requires_grad_() for v in grad_outputs]
    n = len(inputs)

    def first_derivative(*args: Any) -> tuple[Any, ...]:
        xs, vs = list(args[:n]), list(args[n:])
        ys = _outputs(fn, xs)
        return grad(ys, [xs[i] for i in wrt], vs, create_graph=True, allow_unused=True)

    return gradcheck(first_derivative, inputs + grad_outputs, eps, atol, rtol, raise_exception)
