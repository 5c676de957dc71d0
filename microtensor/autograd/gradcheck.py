"""Check analytical gradients against central finite differences, in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import GradientShapeError, grad, shape_checks
from .function import TensorBase


class GradcheckError(RuntimeError):
    """Raised when an analytical gradient disagrees with the numerical one or is not finite."""


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
    # A point eps away may leave the function's domain or overflow (sqrt near 0): the NaN or inf
    # it gives is reported as a non-finite Jacobian, so NumPy's warning about it is only noise.
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
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
    # NOTE: a backward may return a gradient in the broadcast shape of its op, e.g. (2, 3) for
    # an input of shape (3,) added to a (2, 3); the engine sums it to (3,) (Function's contract,
    # and PyTorch's). This pass goes through the engine like any backward() and compares values
    # after that sum, with the engine's strict shape check on: a gradient with more dimensions
    # than both its input and the op's output, e.g. (1, 3) for (3,) -> (3,), is a mistake that
    # the sum would hide, so it fails here (PyTorch's gradcheck lets it pass).
    out = _outputs(fn, inputs)[out_index]
    jacs = [np.zeros((out._data.size, inputs[i]._data.size)) for i in wrt]
    if not out.requires_grad:
        return jacs
    for r in range(out._data.size):
        g = np.zeros(out._data.size, dtype=out._data.dtype)
        g[r] = 1
        previous, shape_checks.strict = shape_checks.strict, True
        try:
            grads = grad(out, [inputs[i] for i in wrt], out._make(g.reshape(out._data.shape)),
                         retain_graph=True, allow_unused=True)
        except GradientShapeError as e:
            raise GradcheckError(str(e)) from None
        finally:
            shape_checks.strict = previous
        for jac, gi in zip(jacs, grads, strict=True):
            if gi is not None:
                jac[r] = gi._data.reshape(-1)
    return jacs


def _failure(a_jac: np.ndarray, n_jac: np.ndarray, atol: float, rtol: float, pair: str,
             out_shape: tuple[int, ...], in_shape: tuple[int, ...]) -> str | None:
    """Why the analytical and numerical Jacobians of ``pair`` ("output 0 with respect to input
    1") disagree, naming the first bad element in row-major order; None when they agree."""

    def element(r: int, k: int) -> str:
        out_el = tuple(int(n) for n in np.unravel_index(r, out_shape))
        in_el = tuple(int(n) for n in np.unravel_index(k, in_shape))
        return f"{pair}: d output{out_el} / d input{in_el}"

    # NOTE: NaN compares False with everything, so without this check a NaN on either side was
    # never "too far apart", and an infinite numerical entry made the tolerance infinite.
    a_bad, n_bad = ~np.isfinite(a_jac), ~np.isfinite(n_jac)
    nonfinite = a_bad | n_bad
    if nonfinite.any():
        r, k = np.argwhere(nonfinite)[0]
        side = ("backward and finite differences" if a_bad[r, k] and n_bad[r, k]
                else "backward" if a_bad[r, k] else "finite differences")
        hint = ("" if not n_bad[r, k] else "; the function is not finite or not differentiable "
                "within eps of the input (e.g. sqrt or log at 0), so nothing can be checked there")
        return (f"Non-finite Jacobian from {side} for {element(r, k)} is {a_jac[r, k]:.6g} by "
                f"backward and {n_jac[r, k]:.6g} by finite differences ({int(a_bad.sum())} of "
                f"{a_bad.size} entries are not finite by backward, {int(n_bad.sum())} by finite "
                f"differences){hint}")
    bad = np.abs(a_jac - n_jac) > atol + rtol * np.abs(n_jac)
    if not bad.any():
        return None
    r, k = np.argwhere(bad)[0]
    return (f"Jacobian mismatch for {element(r, k)} is {a_jac[r, k]:.6g} by backward but "
            f"{n_jac[r, k]:.6g} by finite differences (difference "
            f"{abs(a_jac[r, k] - n_jac[r, k]):.3g}; {int(bad.sum())} of {bad.size} entries "
            f"disagree)")


def gradcheck(fn: Callable[..., Any], inputs: Sequence[Any] | Any, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Compare the gradients that backward computes with central finite differences.

    A Jacobian entry that is NaN or infinite, by backward or by finite differences, fails the
    check. PyTorch's gradcheck also fails on NaN on either side, even NaN on both sides at the
    same element (a function returning NaN checks nothing); it accepts the same infinity on
    both sides, which we fail too: an infinite finite difference means the function overflows
    within ``eps`` of the input, so nothing was checked there.

    A backward that returns a gradient with more dimensions than both its input and its op's
    output (e.g. an extra leading dimension of size 1) fails too, although the engine would sum
    it to the right shape: PyTorch's gradcheck lets it pass.

    Args:
        fn: a function of ``inputs`` returning a tensor or a tuple of tensors.
        inputs: the arguments; those with ``requires_grad=True`` (float64) are checked.
        eps: the finite-difference step.
        atol, rtol: the tolerance: ``|analytical - numerical| <= atol + rtol * |numerical|``.
        raise_exception: raise ``GradcheckError`` naming the output, input and element that
            disagree or are not finite, and which side (backward or finite differences) is not
            finite (otherwise return False).

    Returns:
        True when every gradient is finite and matches.
    """
    inputs = list(inputs) if isinstance(inputs, (tuple, list)) else [inputs]
    wrt = _check_inputs(inputs, "gradcheck")
    for o, out in enumerate(_outputs(fn, inputs)):
        if not isinstance(out, TensorBase) or out._data.dtype.kind != "f":
            continue
        try:
            analytical = _analytical(fn, inputs, wrt, o)
        except GradcheckError:
            if raise_exception:
                raise
            return False
        for i, a_jac in zip(wrt, analytical, strict=True):
            n_jac = _numerical(fn, inputs, i, o, eps)
            msg = _failure(a_jac, n_jac, atol, rtol, f"output {o} with respect to input {i}",
                           out._data.shape, inputs[i]._data.shape)
            if msg is not None:
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(fn: Callable[..., Any], inputs: Sequence[Any] | Any,
                  grad_outputs: Sequence[Any] | None = None, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
                  seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of ``inputs -> grad(fn(inputs), inputs, v)``.

    ``v`` (``grad_outputs``) is random unless given, and is itself checked as an input. A NaN or
    infinite second derivative fails, as in ``gradcheck``. In messages, output ``j`` is the
    gradient of the ``j``-th input that requires grad, and inputs after ``fn``'s own are ``v``.
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
