"""The checks that need no training: one forward and backward pass (a ``Trace``) is enough.

Each function returns a list of findings (empty when all is well). They read the trace of a
copy of the model at its initial weights, the data, the loss function and the optimizer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import Function, GradcheckError, gradcheck
from ..nn import Module
from ..ops.elementwise import Add, Cast, Clamp, Div, Mul, Neg, Relu, Sigmoid, Sub, Tanh, Where
from ..ops.reduce import LogSoftmax, Mean, Softmax, Sum
from ..ops.shape import Cat, Clone, Expand, Index, Permute, Reshape
from ..optim import Optimizer
from ..tensor import Tensor
from .findings import HINT, PITFALLS, PROBLEM, Finding
from .trace import Layer, Trace, as_array, is_custom, spread, units_view

DEFAULT_GAIN = 1 / math.sqrt(3)  # nn.Linear's default init: std(W) sqrt(fan_in) = 1/sqrt(3)
SMALL_GAIN, LARGE_GAIN = 0.1, 10.0  # ~6x below, ~17x above the default: "far from" it


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


# -- errors and shapes --------------------------------------------------------------------------

def expected_target_shape(kind: str, output: Tensor, targets: Any) -> tuple[int, ...] | None:
    """The target shape the loss needs for this output, or None when any shape may be right."""
    shape = tuple(output.shape)
    if kind == "unknown":  # a loss of its own: only a float target that would broadcast
        if not isinstance(targets, Tensor) or targets.dtype.kind != "f":
            return None
        try:
            broadcast = np.broadcast_shapes(shape, tuple(targets.shape))
        except ValueError:
            return None
        return shape if broadcast != shape or targets.ndim != len(shape) else None
    if kind in ("ce", "nll"):
        if isinstance(targets, Tensor) and targets.dtype.kind == "f" and kind == "ce":
            return shape  # class probabilities
        return shape[:1] + shape[2:] if len(shape) > 1 else ()
    return shape


def errors(trace: Trace, kind: str, targets: Any) -> list[Finding]:
    """``target-shape`` for predictions and targets of different shapes; ``forward-error`` and
    ``loss-error`` for a model or loss that raises."""
    out = []
    if trace.output is not None and isinstance(targets, Tensor):
        want = expected_target_shape(kind, trace.output, targets)
        if want is not None and tuple(targets.shape) != want:
            got = tuple(targets.shape)
            reshape = (f"targets.reshape{_shape(want)}" if math.prod(want) == math.prod(got)
                       else f"targets of shape {_shape(want)}")
            evidence: dict[str, object] = {"output shape": _shape(tuple(trace.output.shape)),
                                           "target shape": _shape(got)}
            if trace.error is not None and trace.error_in == "loss":
                evidence["error"] = str(trace.error).splitlines()[0]
            out.append(Finding(
                "target-shape", PROBLEM,
                f"the model's output has shape {_shape(tuple(trace.output.shape))} but the "
                f"targets have shape {_shape(got)}: a loss that broadcasts them compares every "
                f"prediction with every target, and microtensor's losses refuse them",
                f"Give the targets the shape the loss expects: {reshape}.",
                evidence=evidence))
            return out
    if trace.error is not None and trace.error_in in ("forward", "loss"):
        code = "forward-error" if trace.error_in == "forward" else "loss-error"
        what = "model(inputs)" if trace.error_in == "forward" else "loss_fn(model(inputs), targets)"
        out.append(Finding(
            code, PROBLEM, f"{what} raised {type(trace.error).__name__}: "
            f"{str(trace.error).splitlines()[0] if str(trace.error) else ''}",
            "Read the error message: it names the shapes or dtypes that do not fit.",
            evidence={"error": f"{type(trace.error).__name__}: {trace.error}"}))
    return out


def activation_loss_mismatch(trace: Trace, kind: str) -> list[Finding]:
    """A sigmoid before BCEWithLogitsLoss, a softmax before CrossEntropyLoss, raw scores
    (no sigmoid) before BCELoss, or NLLLoss without a log-softmax."""
    op = trace.output_op
    name = op.__name__ if op is not None else "none"
    anchor = f"{PITFALLS}#softmax-before-crossentropyloss-and-other-mismatched-outputs"
    if kind == "bce-logits" and op is Sigmoid:
        return [Finding(
            "activation-loss-mismatch", PROBLEM,
            "the model ends with a sigmoid, and BCEWithLogitsLoss applies a sigmoid again: it "
            "expects raw scores (logits), so it scores sigmoid(sigmoid(z)), which stays "
            "between 0.5 and 0.73",
            "Remove the final Sigmoid (keep BCEWithLogitsLoss), or keep it and use BCELoss.",
            evidence={"output op": name, "loss": "BCEWithLogitsLoss"})]
    if kind == "ce" and op in (Softmax, LogSoftmax):
        return [Finding(
            "activation-loss-mismatch", PROBLEM,
            f"the model ends with a {name}, and CrossEntropyLoss applies log-softmax itself: "
            f"it expects raw scores (logits), so the probabilities are squashed twice and the "
            f"gradients shrink",
            f"Remove the final {name} (CrossEntropyLoss takes logits), or use NLLLoss after a "
            f"LogSoftmax.",
            evidence={"output op": name, "loss": "CrossEntropyLoss"}, doc=anchor)]
    if kind == "nll" and op is not LogSoftmax and op is not None and not is_custom(op):
        return [Finding(
            "activation-loss-mismatch", PROBLEM,
            f"NLLLoss expects log-probabilities, but the model ends with {name}",
            "End the model with nn.LogSoftmax(dim=1), or drop it and use CrossEntropyLoss "
            "on the raw scores.",
            evidence={"output op": name, "loss": "NLLLoss"}, doc=anchor)]
    if kind == "bce":
        outside = trace.error is not None and "between 0 and 1" in str(trace.error)
        # (ops that can keep a sigmoid's output within [0, 1] are given the benefit of doubt)
        unbounded = op is not None and not is_custom(op) and \
            op not in (Sigmoid, Softmax, Clamp, Div, Mul, Where, Index, Reshape)
        if outside or unbounded:
            return [Finding(
                "activation-loss-mismatch", PROBLEM,
                f"BCELoss expects probabilities in [0, 1], but the model ends with {name}, "
                f"not a sigmoid",
                "End the model with nn.Sigmoid(), or better, keep the raw scores and use "
                "nn.BCEWithLogitsLoss.",
                evidence={"output op": name, "loss": "BCELoss"}, doc=anchor)]
    return []


# -- architecture -------------------------------------------------------------------------------

_LINEAR_OPS: tuple[type[Function], ...] = (Add, Sub, Neg, Mul, Div, Cast, Reshape, Permute,
                                           Expand, Clone, Index, Cat, Sum, Mean)


def no_hidden_nonlinearity(trace: Trace) -> list[Finding]:
    """Two weight layers with only linear ops between them: together they are one linear map."""
    by_output = {id(layer.output): layer for layer in trace.layers}
    pairs: list[tuple[Layer, Layer]] = []
    for second in trace.layers:
        stack = [second.input]
        seen: set[int] = set()
        while stack:
            t = stack.pop()
            if id(t) in seen or t.grad_fn is None:
                continue
            seen.add(id(t))
            if id(t) in by_output:
                pairs.append((by_output[id(t)], second))
                continue
            ctx = t.grad_fn
            tensors = [a for a in ctx.inputs if isinstance(a, Tensor) and a.requires_grad]
            if ctx.fn not in _LINEAR_OPS or (ctx.fn in (Mul, Div) and len(tensors) != 1):
                continue  # a nonlinear op (or a product of two signals) separates the layers
            stack.extend(tensors)
    if not pairs:
        return []
    names = [f"{a.module or a.weight_name} -> {b.module or b.weight_name}" for a, b in pairs]
    return [Finding(
        "no-hidden-nonlinearity", PROBLEM,
        f"{'; '.join(names)}: weight layers follow each other with no activation between "
        f"them, so together they compute one linear function of their input (a linear model "
        f"cannot solve XOR, however many such layers it has)",
        "Put a nonlinearity (nn.ReLU(), nn.Tanh() or nn.Sigmoid()) after each hidden layer.",
        where=tuple(dict.fromkeys(n for a, b in pairs for n in (a.module, b.module))),
        evidence={"layers": [f"{a.weight_name} -> {b.weight_name}" for a, b in pairs]})]


# -- initialisation -------------------------------------------------------------------------------

def symmetric_groups(layer: Layer) -> list[list[int]]:
    """Groups (of two or more) of units of ``layer`` whose incoming weights are identical."""
    rows = layer.unit_rows()
    if rows.shape[0] < 2:
        return []
    groups: dict[bytes, list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(row.tobytes(), []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def symmetric_units(trace: Trace) -> list[Finding]:
    """Units of a layer with identical incoming weights (zero or constant initialisation)."""
    out = []
    for layer in trace.layers:
        groups = symmetric_groups(layer)
        if not groups:
            continue
        n_units = layer.unit_rows().shape[0]
        largest = max(len(g) for g in groups)
        out.append(Finding(
            "symmetric-units", PROBLEM,
            f"{sum(len(g) for g in groups)} of the {n_units} units of {layer.module or 'the model'}"
            f" have identical weights: identical units compute the same value and receive the "
            f"same gradient, so they stay identical and do the work of one",
            "Initialise the weights randomly (nn.Linear's default does); only biases may start "
            "equal.",
            where=(layer.weight_name,),
            evidence={"identical groups": [g for g in groups], "largest group": largest,
                      "units": n_units}))
    return out


def _constant(layer: Layer) -> bool:
    w = layer.unit_rows()
    return bool(np.all(w == w.flat[0])) if w.size else True


def _activation_after(trace: Trace, layer: Layer) -> type[Function] | None:
    """The hidden activation op applied to the layer's output, if any."""
    for act in trace.activations:
        if act.is_model_output:
            continue
        ctx = act.output.grad_fn
        if ctx is not None and ctx.inputs and ctx.inputs[0] is layer.output:
            return act.op
    return None


def layer_gains(trace: Trace) -> list[tuple[Layer, float, float]]:
    """(layer, gain, output spread) for each layer whose input varies: the gain is how much the
    layer scales the spread of its input (about 0.58 with nn.Linear's default init)."""
    out = []
    for layer in trace.layers:
        spread_in = spread(layer.input)
        if spread_in > 1e-12:
            spread_out = spread(layer.output)
            out.append((layer, spread_out / spread_in, spread_out))
    return out


def _list(values: list[float]) -> str:
    """1 value as "0.01", 2 as "0.01 and 0.02", more as "0.01, 0.02 and 0.03"."""
    text = [f"{v:.2g}" for v in values]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]


def init_scale(trace: Trace) -> list[Finding]:
    """Weights far from the scale that keeps activations of order one, measured layer by layer
    as the gain of each layer on the actual inputs."""
    gains = layer_gains(trace)
    small = [(la, g) for la, g, _ in gains if g < SMALL_GAIN and not _constant(la)]
    large = [(la, g) for la, g, _ in gains if g > LARGE_GAIN and not _constant(la)]
    if not small and not large:
        return []
    evidence: dict[str, object] = {
        "gain per layer": [round(g, 4) for _, g, _ in gains],
        "activation spread per layer": [round(s, 6) for _, _, s in gains],
        "default-init gain": round(DEFAULT_GAIN, 2),
    }
    flagged = small or large
    where = tuple(la.weight_name for la, _ in flagged)
    factor = float(np.exp(np.mean([np.log(g / DEFAULT_GAIN) for _, g in flagged])))
    if small:
        after = {_activation_after(trace, la) for la, _ in small}
        relu = Relu in after and not (after & {Sigmoid, Tanh})
        doc = (f"{PITFALLS}#small-relu-weights-a-long-delay" if relu
               else f"{PITFALLS}#small-sigmoid-weights-an-almost-linear-network")
        why = ("ReLU layers pass on a tiny copy of the signal, and the gradients are tiny too: "
               "training waits for the weights to grow" if relu else
               "the units work in the almost straight middle of their activation, so the "
               "network computes an almost linear function, and the gradients that would bend "
               "it are tiny")
        message = (f"the weights of {', '.join(where)} are about {1 / factor:.0f} times too "
                   f"small: each layer scales the spread of its input by "
                   f"{_list([g for _, g in small])} where nn.Linear's default initialisation "
                   f"gives about {DEFAULT_GAIN:.2f}; {why}")
    else:
        doc = f"{PITFALLS}#large-weights-saturated-units"
        message = (f"the weights of {', '.join(where)} are about {factor:.0f} times too "
                   f"large: each layer scales the spread of its input by "
                   f"{_list([g for _, g in large])} where nn.Linear's default initialisation "
                   f"gives about {DEFAULT_GAIN:.2f}; sigmoid and tanh units saturate, and "
                   f"outputs and gradients grow")
    return [Finding(
        "init-scale", PROBLEM, message,
        "Keep nn.Linear's default initialisation (or use nn.init.xavier_uniform_ for "
        "sigmoid/tanh, nn.init.kaiming_uniform_ for ReLU) instead of rescaling the weights.",
        where=where, evidence=evidence, doc=doc)]


def saturated_units(trace: Trace) -> list[Finding]:
    """Hidden sigmoid/tanh units at their limits (slope below 4% of its maximum) for at least
    3 inputs in 4."""
    out = []
    for act in trace.activations:
        if act.is_model_output or act.op not in (Sigmoid, Tanh):
            continue
        a = units_view(as_array(act.output))
        flat = (a < 0.01) | (a > 0.99) if act.op is Sigmoid else np.abs(a) > 0.98
        saturated = flat.mean(axis=0) >= 0.75
        if saturated.mean() >= 0.5:
            out.append(Finding(
                "saturated-units", PROBLEM,
                f"{int(saturated.sum())} of the {saturated.size} {act.op.__name__.lower()} "
                f"units of {act.module or 'the model'} are at their limits for (nearly) every "
                f"input: their slope is almost 0, so almost no gradient passes through them",
                "Scale the inputs to order one and keep nn.Linear's default initialisation "
                "(large weights or inputs push units to their limits).",
                where=(act.module,) if act.module else (),
                evidence={"saturated units": int(saturated.sum()), "units": saturated.size,
                          "fraction of inputs at the limits": round(float(flat.mean()), 3)}))
    return out


def dead_units(trace: Trace, stuck: bool) -> list[Finding]:
    """Hidden ReLU units that output 0 for every input (they get no gradient and never
    recover): a problem when a whole layer is dead, or half of it while training is stuck."""
    out = []
    for act in trace.activations:
        if act.is_model_output or act.op is not Relu:
            continue
        a = units_view(as_array(act.output))
        dead = np.all(a == 0, axis=0)
        fraction = float(dead.mean())
        if fraction < 0.5:
            continue
        severity = PROBLEM if fraction == 1.0 or stuck else HINT
        out.append(Finding(
            "dead-units", severity,
            f"{int(dead.sum())} of the {dead.size} ReLU units of {act.module or 'the model'} "
            f"output 0 for every input: they pass no gradient, so they never recover",
            "Use more hidden units, nn.LeakyReLU, a smaller learning rate, or inputs "
            "scaled to order one; nn.Linear's default initialisation with a positive bias "
            "helps too.",
            where=(act.module,) if act.module else (),
            evidence={"dead units": int(dead.sum()), "units": dead.size}))
    return out


def vanishing_gradients(trace: Trace) -> list[Finding]:
    """Relative gradients (|grad| / |weight|) that shrink by orders of magnitude toward the
    input."""
    rel: list[tuple[Layer, float]] = []
    for layer in trace.layers:
        g = layer.weight.grad
        w = float(np.linalg.norm(as_array(layer.weight)))
        if g is not None and w > 0:
            rel.append((layer, float(np.linalg.norm(as_array(g))) / w))
    if len(rel) < 3:
        return []
    first, largest = rel[0][1], max(r for _, r in rel)
    if not (largest > 0 and first < 1e-3 * largest):
        return []
    return [Finding(
        "vanishing-gradients", PROBLEM,
        f"the gradients shrink {largest / max(first, 1e-300):.0e} times from the output "
        f"layers to {rel[0][0].weight_name}: the layers near the input barely learn",
        "Use ReLU (or tanh) hidden units instead of sigmoid, fewer layers, or an "
        "initialisation matched to the activation (nn.init.kaiming_uniform_ for ReLU).",
        where=(rel[0][0].weight_name,),
        evidence={"|grad| / |weight| per layer": [float(f"{r:.3g}") for _, r in rel]})]


# -- parameters and data -------------------------------------------------------------------------

def frozen_parameters(model: Module, optimizer: Optimizer | None, trace: Trace) -> list[Finding]:
    """Parameters that training cannot change: requires_grad off, not in the optimizer, or cut
    from the loss's graph (no gradient)."""
    named = list(model.named_parameters())
    in_opt = ({id(p) for g in optimizer.param_groups for p in g["params"]}
              if optimizer is not None else {id(p) for _, p in named})
    off = [n for n, p in named if not p.requires_grad]
    missing = [n for n, p in named if p.requires_grad and id(p) not in in_opt]
    cut = [n for n, p in named if id(p) in in_opt and n in trace.without_grad]
    out = []
    if missing:
        out.append(Finding(
            "frozen-parameters", PROBLEM,
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not in the optimizer: "
            f"step() never changes {'it' if len(missing) == 1 else 'them'}",
            "Create the optimizer after building the whole model, from model.parameters().",
            where=tuple(missing), evidence={"parameters not in the optimizer": len(missing)}))
    if cut:
        out.append(Finding(
            "frozen-parameters", PROBLEM,
            f"{', '.join(cut)} get no gradient from the loss: the forward pass does not use "
            f"{'it' if len(cut) == 1 else 'them'}, or uses a detached copy (.detach(), .data)",
            "Compute the output from the parameters themselves, without .detach() or .data.",
            where=tuple(cut), evidence={"parameters without a gradient": len(cut)}))
    if off:
        everything = len(off) == len(named)
        out.append(Finding(
            "frozen-parameters", PROBLEM if everything else HINT,
            f"{', '.join(off)} {'has' if len(off) == 1 else 'have'} requires_grad=False: "
            f"training does not change {'it' if len(off) == 1 else 'them'}"
            + (" (every parameter of the model)" if everything else " (fine if intended)"),
            "Call model.requires_grad_(True), or leave out the requires_grad_(False) call.",
            where=tuple(off), evidence={"frozen": len(off), "parameters": len(named)}))
    return out


def unscaled_inputs(inputs: Any) -> list[Finding]:
    """Input features far from order one, or with scales orders of magnitude apart."""
    if not isinstance(inputs, Tensor) or inputs.dtype.kind != "f" or inputs.ndim < 2:
        return []
    a = units_view(as_array(inputs))
    scale = np.sqrt(np.mean(a * a, axis=0))
    scale = scale[scale > 0]
    if scale.size == 0 or not np.all(np.isfinite(scale)):
        return []
    largest, smallest = float(scale.max()), float(scale.min())
    if largest <= 50 and largest >= 0.02 and largest / smallest <= 1000:
        return []
    return [Finding(
        "unscaled-inputs", PROBLEM,
        f"the input features have root-mean-square sizes from {smallest:.3g} to {largest:.3g}: "
        f"far from order one (or orders of magnitude apart), which saturates units and makes "
        f"one learning rate wrong for some weights",
        "Standardise each feature: x = (x - x.mean(0)) / x.std(0), with the training "
        "data's statistics.",
        evidence={"largest feature scale": largest, "smallest feature scale": smallest})]


# -- user-defined Functions ----------------------------------------------------------------------

_GRADCHECK_SIZE = 64  # elements: gradcheck runs one backward per output element


def bad_backward(trace: Trace) -> list[Finding]:
    """Each user-defined Function in the graph, checked with gradcheck in float64 on (a slice
    of) the inputs it actually received."""
    out = []
    checked: set[type[Function]] = set()
    for node in trace.custom:
        fn = node.ctx.fn
        if fn in checked:
            continue
        checked.add(fn)
        args = list(node.ctx.inputs)
        tensors = [a for a in args if isinstance(a, Tensor)]
        if sum(t.numel() for t in tensors) > _GRADCHECK_SIZE:
            firsts = {t.shape[0] if t.ndim else None for t in tensors}
            if len(firsts) != 1 or None in firsts:
                continue
            args = [a[:2] if isinstance(a, Tensor) else a for a in args]
        leaves: list[Tensor] = []
        positions: list[int] = []
        for i, a in enumerate(args):
            if isinstance(a, Tensor) and a.dtype.kind == "f":
                copy = Tensor(as_array(a))
                if node.ctx.needs_input_grad[i]:
                    copy.requires_grad_(True)
                    leaves.append(copy)
                    positions.append(i)
                args[i] = copy
        if not leaves:
            continue
        kwargs = node.ctx.kwargs

        def call(*xs: Tensor, fn: type[Function] = fn, args: list[Any] = args,
                 positions: list[int] = positions, kwargs: dict[str, Any] = kwargs) -> Tensor:
            filled = list(args)
            for i, x in zip(positions, xs, strict=True):
                filled[i] = x
            return fn.apply(*filled, **kwargs)

        try:
            gradcheck(call, leaves)
        except (GradcheckError, RuntimeError, ValueError, TypeError) as err:
            out.append(Finding(
                "bad-backward", PROBLEM,
                f"the backward of {fn.__name__} (a Function you wrote) disagrees with finite "
                f"differences on the inputs it received: {str(err).splitlines()[0]}",
                f"Fix {fn.__name__}.backward (check which quantity each derivative is applied "
                f"to), or compose the forward from built-in ops and let autograd derive it.",
                where=(node.module,) if node.module else (),
                evidence={"function": fn.__name__, "gradcheck": str(err).splitlines()[0]}))
    return out

