"""Every differentiable op through ``gradcheck`` (float64 central differences), the smooth ones
also through ``gradgradcheck``; plus numerical stability at +/-1000.

One row per op variant: ``case(name, fn, *inputs)``. Each input array becomes a float64 leaf
that requires grad; ``fn`` receives those leaves. Inputs stay away from kinks (|x| away from 0
for abs and relu, distinct values for max, values away from the clamp bounds).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import microtensor as mt
import microtensor.nn.functional as F
from microtensor.autograd import gradcheck, gradgradcheck
from microtensor.ops.linalg import TransposedMatmul

_rng = np.random.default_rng(1234)


def u(*shape: int, lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
    """Uniform values in [lo, hi)."""
    return _rng.uniform(lo, hi, shape)


def pos(*shape: int) -> np.ndarray:
    """Positive values in [0.5, 2): safe for log, sqrt, division, non-integer powers."""
    return _rng.uniform(0.5, 2.0, shape)


def away(*shape: int) -> np.ndarray:
    """Values with 0.2 <= |x| < 1.5 and random signs: away from the kink of abs/relu at 0."""
    return _rng.choice([-1.0, 1.0], shape) * _rng.uniform(0.2, 1.5, shape)


def grid(*shape: int, offset: float = 0.0) -> np.ndarray:
    """Distinct values 0.1 apart (shuffled), plus ``offset``: no ties for max/min/sort."""
    n = int(np.prod(shape))
    return ((_rng.permutation(n) - n // 2) * 0.1 + offset).reshape(shape)


def mask(*shape: int) -> np.ndarray:
    """A boolean mask with both values present."""
    m = _rng.random(shape) < 0.5
    m.flat[0], m.flat[-1] = True, False
    return m


@dataclass
class Case:
    name: str
    fn: Callable[..., Any]
    inputs: tuple[np.ndarray, ...]
    smooth: bool = True  # also run gradgradcheck
    kwargs: dict[str, float] = field(default_factory=dict)  # gradcheck tolerances


def case(name: str, fn: Callable[..., Any], *inputs: np.ndarray, smooth: bool = True,
         **kwargs: float) -> Any:
    return pytest.param(Case(name, fn, inputs, smooth, kwargs), id=name)


# Masks and indices used as constants inside the cases.
M34 = mask(3, 4)
M3 = mask(3)
M234 = mask(2, 3, 4)
ORDER = np.argsort(u(3, 4), axis=1)

CASES = [
    # -- arithmetic: tensor/tensor with broadcasting, scalar on either side ----------------------
    case("add", lambda a, b: a + b, u(3, 4), u(3, 4)),
    case("add_bcast_row", lambda a, b: a + b, u(3, 4), u(4)),
    case("add_bcast_both", lambda a, b: a + b, u(2, 1, 4), u(3, 1)),
    case("add_0d", lambda a, b: a + b, u(3, 4), u()),
    case("add_scalar_right", lambda a: a + 2.5, u(3, 4)),
    case("add_scalar_left", lambda a: 2.5 + a, u(3, 4)),
    case("add_alpha", lambda a, b: mt.add(a, b, alpha=-2), u(3, 4), u(4)),
    case("sub", lambda a, b: a - b, u(3, 4), u(3, 4)),
    case("sub_bcast", lambda a, b: a - b, u(3, 1), u(1, 4)),
    case("sub_scalar_right", lambda a: a - 2.5, u(2, 3)),
    case("sub_scalar_left", lambda a: 2.5 - a, u(2, 3)),
    case("mul", lambda a, b: a * b, u(3, 4), u(3, 4)),
    case("mul_bcast", lambda a, b: a * b, u(2, 3, 1), u(3, 4)),
    case("mul_same_tensor", lambda a: a * a, u(3, 4)),
    case("mul_scalar_right", lambda a: a * -1.5, u(3, 4)),
    case("mul_scalar_left", lambda a: -1.5 * a, u(3, 4)),
    case("div", lambda a, b: a / b, u(3, 4), pos(3, 4)),
    case("div_bcast", lambda a, b: a / b, u(2, 3, 4), pos(4)),
    case("div_scalar_right", lambda a: a / 2.5, u(3, 4)),
    case("div_scalar_left", lambda a: 2.5 / a, pos(3, 4)),
    case("pow_tensor_tensor", lambda a, b: a**b, pos(3, 4), u(3, 4)),
    case("pow_bcast", lambda a, b: a**b, pos(2, 3, 4), u(4)),
    case("pow_int_scalar", lambda a: a**3, u(3, 4)),
    case("pow_square", lambda a: a**2, u(3, 4)),
    case("pow_float_scalar", lambda a: a**0.5, pos(3, 4)),
    case("pow_negative_scalar", lambda a: a**-1.5, pos(3, 4)),
    case("pow_zero_scalar", lambda a: a**0, u(3, 4)),
    case("pow_scalar_base", lambda a: 2.5**a, u(3, 4)),
    case("pow_method", lambda a: mt.pow(a, 2.0), u(3, 4)),
    case("neg", lambda a: -a, u(3, 4)),
    case("neg_method", lambda a: mt.neg(a), u(3, 4)),
    # -- elementwise functions -------------------------------------------------------------------
    case("abs", lambda a: a.abs(), away(3, 4)),
    case("exp", lambda a: a.exp(), u(3, 4)),
    case("log", lambda a: a.log(), pos(3, 4)),
    case("log1p", lambda a: a.log1p(), u(3, 4, lo=-0.5, hi=2.0)),
    case("sqrt", lambda a: a.sqrt(), pos(3, 4)),
    case("sin", lambda a: mt.sin(a), u(3, 4, lo=-3, hi=3)),
    case("cos", lambda a: mt.cos(a), u(3, 4, lo=-3, hi=3)),
    case("tanh", lambda a: a.tanh(), u(3, 4, lo=-2, hi=2)),
    case("sigmoid", lambda a: a.sigmoid(), u(3, 4, lo=-4, hi=4)),
    case("relu", lambda a: a.relu(), away(3, 4)),
    case("leaky_relu", lambda a: mt.leaky_relu(a, 0.1), away(3, 4)),
    case("leaky_relu_default", lambda a: a.leaky_relu(), away(3, 4)),
    case("softplus", lambda a: mt.softplus(a), u(3, 4, lo=-4, hi=4)),
    # beta * x on both sides of the threshold (values are away from it)
    case("softplus_beta_threshold", lambda a: a.softplus(beta=2.0, threshold=1.0),
         grid(3, 4, offset=0.05)),
    case("elementwise_0d", lambda a: mt.stack([a.sigmoid(), a.softplus(), a.tanh(), a.exp(),
                                               a.sin(), a.relu(), a.abs(), (a * a).sqrt()]),
         np.array(0.7)),
    case("clamp", lambda a: a.clamp(-0.3, 0.3), grid(3, 4, offset=0.05)),
    case("clamp_min", lambda a: a.clamp(min=-0.2), grid(3, 4, offset=0.05)),
    case("clamp_max", lambda a: mt.clamp(a, max=0.2), grid(3, 4, offset=0.05)),
    case("maximum", lambda a, b: mt.maximum(a, b), grid(3, 4), grid(3, 4, offset=0.05)),
    case("maximum_bcast", lambda a, b: a.maximum(b), grid(3, 4), grid(4, offset=0.05)),
    case("minimum", lambda a, b: mt.minimum(a, b), grid(3, 4), grid(3, 4, offset=0.05)),
    case("minimum_bcast", lambda a, b: a.minimum(b), grid(2, 1, 4), grid(3, 1, offset=0.05)),
    case("max_elementwise", lambda a, b: a.max(b), grid(3, 4), grid(3, 4, offset=0.05)),
    case("where", lambda a, b: mt.where(mt.tensor(M34), a, b), u(3, 4), u(3, 4)),
    case("where_bcast", lambda a, b: mt.where(mt.tensor(M34), a, b), u(4), u(3, 1)),
    case("where_scalar_other", lambda a: mt.where(mt.tensor(M34), a, 0.0), u(3, 4)),
    case("where_scalar_input", lambda a: mt.where(mt.tensor(M34), 1.5, a), u(3, 4)),
    # -- reductions ------------------------------------------------------------------------------
    case("sum_all", lambda a: a.sum(), u(2, 3, 4)),
    case("sum_dim", lambda a: a.sum(1), u(2, 3, 4)),
    case("sum_dim_neg_keepdim", lambda a: a.sum(dim=-1, keepdim=True), u(2, 3, 4)),
    case("sum_dim_tuple", lambda a: a.sum(dim=(0, 2)), u(2, 3, 4)),
    case("sum_dim_tuple_keepdim", lambda a: mt.sum(a, (0, 2), keepdim=True), u(2, 3, 4)),
    case("sum_0d", lambda a: a.sum(), u()),
    case("mean_all", lambda a: a.mean(), u(2, 3, 4)),
    case("mean_dim", lambda a: a.mean(1), u(2, 3, 4)),
    case("mean_dim_tuple_keepdim", lambda a: mt.mean(a, (0, -1), keepdim=True), u(2, 3, 4)),
    case("max_all", lambda a: a.max(), grid(3, 4)),
    case("max_dim_values", lambda a: a.max(dim=1).values, grid(3, 4)),
    case("max_dim_keepdim", lambda a: a.max(0, keepdim=True)[0], grid(3, 4)),
    case("max_dim_3d", lambda a: mt.max(a, -1).values, grid(2, 3, 4)),
    case("min_all", lambda a: a.min(), grid(3, 4)),
    case("min_dim_values", lambda a: a.min(dim=1).values, grid(3, 4)),
    case("min_dim_keepdim", lambda a: mt.min(a, 0, keepdim=True).values, grid(2, 3, 4)),
    case("amax_all", lambda a: a.amax(), grid(3, 4)),
    case("amax_dim", lambda a: a.amax(1), grid(2, 3, 4)),
    case("amax_dim_tuple_keepdim", lambda a: mt.amax(a, (0, 2), keepdim=True), grid(2, 3, 4)),
    case("amin_all", lambda a: a.amin(), grid(3, 4)),
    case("amin_dim_tuple", lambda a: mt.amin(a, (1, 2)), grid(2, 3, 4)),
    case("var_all", lambda a: a.var(), u(3, 4)),
    case("var_dim", lambda a: a.var(1), u(3, 4)),
    case("var_dim_tuple_keepdim", lambda a: mt.var(a, (0, 2), keepdim=True), u(2, 3, 4)),
    case("var_biased", lambda a: a.var(0, unbiased=False), u(3, 4)),
    case("var_correction", lambda a: a.var(dim=1, correction=0), u(3, 4)),
    case("std_all", lambda a: a.std(), u(3, 4)),
    case("std_dim_keepdim", lambda a: mt.std(a, -1, keepdim=True), u(2, 3, 4)),
    case("std_biased", lambda a: a.std(0, unbiased=False), u(3, 4)),
    case("prod_all", lambda a: a.prod(), u(2, 3, lo=0.5, hi=1.5)),
    case("prod_dim", lambda a: a.prod(1), u(3, 4)),
    case("prod_dim_keepdim", lambda a: mt.prod(a, 0, keepdim=True), u(3, 4)),
    # Products with zeros: the gradient is still the product of the other elements.
    case("prod_one_zero", lambda a: a.prod(1), np.array([[0.0, 0.5, -2.0], [1.5, 0.7, 0.9]]),
         smooth=False),
    case("prod_two_zeros", lambda a: a.prod(), np.array([[0.0, 0.5], [1.5, 0.0]]),
         smooth=False),
    case("prod_zero_all", lambda a: a.prod(), np.array([0.7, 0.0, 1.3]), smooth=False),
    case("logsumexp_dim", lambda a: a.logsumexp(1), u(3, 4, lo=-3, hi=3)),
    case("logsumexp_dim_keepdim", lambda a: mt.logsumexp(a, -1, keepdim=True),
         u(2, 3, 4, lo=-3, hi=3)),
    case("logsumexp_dim_tuple", lambda a: a.logsumexp((0, 2)), u(2, 3, 4, lo=-3, hi=3)),
    case("softmax_last", lambda a: a.softmax(-1), u(3, 4, lo=-3, hi=3)),
    case("softmax_dim0", lambda a: mt.softmax(a, 0), u(3, 4, lo=-3, hi=3)),
    case("softmax_3d", lambda a: a.softmax(1), u(2, 3, 4, lo=-3, hi=3)),
    case("log_softmax_last", lambda a: a.log_softmax(-1), u(3, 4, lo=-3, hi=3)),
    case("log_softmax_dim0", lambda a: mt.log_softmax(a, 0), u(3, 4, lo=-3, hi=3)),
    case("log_softmax_3d", lambda a: a.log_softmax(1), u(2, 3, 4, lo=-3, hi=3)),
    # -- matmul ----------------------------------------------------------------------------------
    case("matmul_1d_1d", lambda a, b: a @ b, u(4), u(4)),
    case("matmul_1d_2d", lambda a, b: a @ b, u(3), u(3, 4)),
    case("matmul_2d_1d", lambda a, b: a @ b, u(3, 4), u(4)),
    case("matmul_2d_2d", lambda a, b: a @ b, u(3, 4), u(4, 2)),
    case("matmul_batched", lambda a, b: mt.matmul(a, b), u(2, 3, 4), u(2, 4, 2)),
    case("matmul_batched_2d", lambda a, b: a @ b, u(2, 3, 4), u(4, 2)),
    case("matmul_2d_batched", lambda a, b: a.matmul(b), u(3, 4), u(2, 4, 2)),
    case("matmul_bcast_batched", lambda a, b: a @ b, u(2, 1, 3, 4), u(3, 4, 2)),
    case("matmul_1d_batched", lambda a, b: a @ b, u(4), u(2, 4, 3)),
    case("matmul_batched_1d", lambda a, b: a @ b, u(2, 3, 4), u(4)),
    # -- shape -----------------------------------------------------------------------------------
    case("reshape", lambda a: a.reshape(4, 3), u(3, 4)),
    case("reshape_infer", lambda a: mt.reshape(a, (2, -1)), u(3, 4)),
    case("view", lambda a: a.view(-1), u(3, 4)),
    case("transpose", lambda a: a.transpose(0, 2), u(2, 3, 4)),
    case("transpose_neg", lambda a: mt.transpose(a, -1, -2), u(2, 3, 4)),
    case("permute", lambda a: a.permute(2, 0, 1), u(2, 3, 4)),
    case("permute_tuple", lambda a: mt.permute(a, (1, 2, 0)), u(2, 3, 4)),
    case("T", lambda a: a.T, u(3, 4)),
    case("T_3d", lambda a: a.permute(2, 1, 0) * a.T, u(2, 3, 4)),
    case("squeeze_all", lambda a: a.squeeze(), u(3, 1, 4, 1)),
    case("squeeze_dim", lambda a: a.squeeze(1), u(3, 1, 4, 1)),
    case("unsqueeze", lambda a: a.unsqueeze(1), u(3, 4)),
    case("unsqueeze_neg", lambda a: mt.unsqueeze(a, -1), u(3, 4)),
    case("expand", lambda a: a.expand(2, 3, 4), u(3, 1)),
    case("expand_keep", lambda a: a.expand(-1, 4), u(3, 1)),
    case("expand_as", lambda a, b: a.expand_as(b) * b, u(4), u(3, 4)),
    case("flatten", lambda a: a.flatten(), u(2, 3, 4)),
    case("flatten_range", lambda a: mt.flatten(a, 1), u(2, 3, 4)),
    case("clone", lambda a: a.clone() * a, u(3, 4)),
    # -- indexing --------------------------------------------------------------------------------
    case("index_int", lambda a: a[1], u(3, 4)),
    case("index_neg_int", lambda a: a[-1, 2], u(3, 4)),
    case("index_slices", lambda a: a[1:, ::2], u(3, 4)),
    case("index_none", lambda a: a[None, :, 0], u(3, 4)),
    case("index_ellipsis", lambda a: a[..., 1], u(2, 3, 4)),
    case("index_ellipsis_none", lambda a: a[0, ..., None], u(2, 3, 4)),
    case("index_bool_mask", lambda a: a[mt.tensor(M34)], u(3, 4)),
    case("index_bool_rows", lambda a: a[M3], u(3, 4)),
    case("index_bool_mask_3d", lambda a: a[M234], u(2, 3, 4)),
    case("index_int_array_repeats", lambda a: a[[0, 2, 0, 0]], u(3, 4)),
    case("index_int_tensor_repeats", lambda a: a[:, mt.tensor([3, 1, 3])], u(3, 4)),
    case("index_two_arrays", lambda a: a[[0, 2, 0], [1, 1, 1]], u(3, 4)),
    case("index_2d_array", lambda a: a[np.array([[0, 1], [1, 1]])], u(3, 4)),
    case("index_array_slice", lambda a: a[[1, 1], 1:3], u(3, 4)),
    # -- joining and splitting -------------------------------------------------------------------
    case("cat_dim0", lambda a, b: mt.cat([a, b]), u(2, 3), u(4, 3)),
    case("cat_dim1_three", lambda a, b, c: mt.cat([a, b, c], dim=1), u(2, 3), u(2, 1), u(2, 2)),
    case("cat_neg_dim", lambda a, b: mt.cat((a, b), -1), u(2, 3, 1), u(2, 3, 2)),
    case("stack", lambda a, b: mt.stack([a, b]), u(3, 4), u(3, 4)),
    case("stack_last", lambda a, b: mt.stack([a, b, a], dim=-1), u(3, 4), u(3, 4)),
    case("split_int", lambda a: a.split(2)[1] * 2.0, u(5, 3)),
    case("split_sizes", lambda a: mt.cat([p * (i + 1.0) for i, p in enumerate(
        a.split([1, 3], dim=1))], dim=1), u(2, 4)),
    case("chunk", lambda a: mt.stack([p.sum() for p in a.chunk(3, dim=1)]), u(2, 7)),
    case("take_along_dim", lambda a: a.take_along_dim(mt.tensor(ORDER), 1), u(3, 4)),
    case("take_along_dim_repeats", lambda a: mt.take_along_dim(
        a, mt.tensor([[0, 0], [2, 0], [1, 1]]), dim=1), u(3, 4)),
    # -- dtype conversion (float32 inside: a larger step, a looser tolerance) ---------------------
    case("to_float32_and_back", lambda a: (a.to(mt.float32) * 3.0).to(mt.float64), u(3, 4),
         smooth=False, eps=1e-2, atol=1e-4),
    case("float_double", lambda a: a.float().sin().double(), u(3, 4), smooth=False, eps=1e-3,
         atol=1e-3),
    # -- compositions ----------------------------------------------------------------------------
    case("mlp_layer", lambda x, w, b: (x @ w + b).tanh().sum(-1), u(4, 3), u(3, 5), u(5)),
    case("softmax_cross_entropy", lambda z: -(z.log_softmax(-1)[[0, 1, 2], [1, 0, 3]]).mean(),
         u(3, 4)),
    case("normalise", lambda x: (x - x.mean(0)) / (x.std(0) + 1e-5), u(5, 3)),
    # -- the fused ops of the training hot path (their backwards are ops too) --------------------
    case("transposed_matmul", lambda a, b: TransposedMatmul.apply(a, b), u(4, 3), u(4, 2)),
    case("linear", lambda x, w, b: F.linear(x, w, b), u(4, 3), u(2, 3), u(2)),
    case("linear_batch_dims", lambda x, w, b: F.linear(x, w, b), u(2, 4, 3), u(2, 3), u(2)),
    case("bce_with_logits", lambda x, y: F.binary_cross_entropy_with_logits(x, y),
         u(4, 3, lo=-3, hi=3), u(4, 3, lo=0, hi=1)),
    case("bce_with_logits_sum", lambda x, y: F.binary_cross_entropy_with_logits(
        x, y, reduction="sum"), u(5, lo=-3, hi=3), u(5, lo=0, hi=1)),
    case("cross_entropy", lambda z: F.cross_entropy(z, mt.tensor([1, 0, 3])), u(3, 4)),
    case("cross_entropy_sum_ignored", lambda z: F.cross_entropy(
        z, mt.tensor([2, -100, 0, 2]), reduction="sum"), u(4, 3)),
    case("cross_entropy_none_ignored", lambda z: F.cross_entropy(
        z, mt.tensor([1, 5, 0]), ignore_index=5, reduction="none"), u(3, 4)),
    case("cross_entropy_mean_ignored", lambda z: F.cross_entropy(
        z, mt.tensor([1, 5, 0]), ignore_index=5), u(3, 4)),
    # -- normalisation, embeddings, activations and attention (issue 10) -------------------------
    case("batch_norm_train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         u(4, 3, 2), pos(3), u(3)),
    case("batch_norm_eval", lambda x, w, b: F.batch_norm(
        x, mt.tensor([0.1, -0.2, 0.3], dtype=mt.float64),
        mt.tensor([0.5, 1.0, 2.0], dtype=mt.float64), w, b), u(4, 3), pos(3), u(3)),
    case("layer_norm", lambda x, w, b: F.layer_norm(x, (3, 2), w, b), u(4, 3, 2), pos(3, 2),
         u(3, 2)),
    # (scale_grad_by_freq scales the true gradient on purpose: compared with PyTorch instead)
    case("embedding", lambda w: F.embedding(mt.tensor([[0, 2, 2], [1, 0, 3]]), w),
         u(4, 3), smooth=False),
    case("elu", lambda a: F.elu(a, alpha=0.7), away(3, 4)),
    case("silu", lambda a: F.silu(a), u(3, 4, lo=-4, hi=4)),
    case("mish", lambda a: F.mish(a), u(3, 4, lo=-4, hi=4)),
    case("hardtanh", lambda a: F.hardtanh(a, -0.5, 0.5), grid(3, 4, offset=0.01), smooth=False),
    case("relu6", lambda a: F.relu6(a * 8.0), grid(3, 4, offset=0.01), smooth=False),
    case("softsign", lambda a: F.softsign(a), away(3, 4)),
    case("hardsigmoid", lambda a: F.hardsigmoid(a * 5.0), grid(3, 4, offset=0.01), smooth=False),
    case("hardswish", lambda a: F.hardswish(a * 5.0), grid(3, 4, offset=0.01)),
    case("prelu", lambda a, w: F.prelu(a, w), away(2, 3, 2), u(3)),
    case("attention_masked", lambda q, k, v, m: F.scaled_dot_product_attention(
        q, k, v, attn_mask=m), u(2, 3, 4), u(2, 5, 4), u(2, 5, 2), u(3, 5)),
    case("attention_causal", lambda q, k, v: F.scaled_dot_product_attention(
        q, k, v, is_causal=True, scale=0.7), u(2, 3, 4), u(2, 5, 4), u(2, 5, 2)),
]


def _leaves(c: Case) -> list[mt.Tensor]:
    return [mt.tensor(a.copy(), dtype=mt.float64, requires_grad=True) for a in c.inputs]


@pytest.mark.parametrize("c", CASES)
def test_gradcheck(c: Case) -> None:
    assert gradcheck(c.fn, _leaves(c), **c.kwargs)


@pytest.mark.parametrize("c", [p for p in CASES if p.values[0].smooth])
def test_gradgradcheck(c: Case) -> None:
    assert gradgradcheck(c.fn, _leaves(c), **c.kwargs)


def test_case_names_are_unique() -> None:
    names = [p.values[0].name for p in CASES]
    assert len(names) == len(set(names))


# -- gradients at the kinks, as PyTorch defines them ---------------------------------------------

def test_relu_derivative_at_zero_is_zero() -> None:
    x = mt.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0])


def test_abs_derivative_at_zero_is_zero() -> None:
    x = mt.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 0.0, 1.0])


def test_ties_share_the_gradient() -> None:
    # amax and max() without dim split the gradient evenly between equal maxima.
    x = mt.tensor([1.0, 3.0, 3.0, 0.0], requires_grad=True)
    x.amax().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 0.5, 0.0])
    # maximum(a, b) gives half to each side where a == b.
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    b = mt.tensor([1.0, 0.0], requires_grad=True)
    mt.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 0.0])
    # max(dim) sends the gradient to the index it returns.
    y = mt.tensor([[2.0, 2.0, 1.0]], requires_grad=True)
    values, indices = y.max(dim=1)
    values.sum().backward()
    expected = np.zeros((1, 3))
    expected[0, indices.item()] = 1.0
    np.testing.assert_array_equal(y.grad.numpy(), expected)


def test_clamp_gradient_passes_at_the_bounds() -> None:
    x = mt.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True)
    x.clamp(-1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 1.0, 1.0, 0.0])


def test_pow_exponent_gradient_at_zero_base() -> None:
    # d/db 0**b is taken as 0 (as PyTorch), not 0 * log(0) = nan.
    a = mt.tensor([0.0, 2.0], dtype=mt.float64, requires_grad=True)
    b = mt.tensor([2.0, 3.0], dtype=mt.float64, requires_grad=True)
    (a**b).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 8.0 * np.log(2.0)])
    np.testing.assert_allclose(a.grad.numpy(), [0.0, 12.0])


# -- numerical stability -------------------------------------------------------------------------

STABLE = {
    "sigmoid": lambda x: x.sigmoid(),
    "softplus": lambda x: x.softplus(),
    "logsumexp": lambda x: x.logsumexp(0),
    "log_softmax": lambda x: x.log_softmax(0),
    "softmax": lambda x: x.softmax(0),
    "tanh": lambda x: x.tanh(),
}


@pytest.mark.parametrize("dtype", [mt.float32, mt.float64], ids=str)
@pytest.mark.parametrize("name", list(STABLE))
def test_stable_at_large_inputs(name: str, dtype: Any) -> None:
    x = mt.tensor([-1000.0, -20.0, 0.0, 20.0, 1000.0], dtype=dtype, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow/invalid-value warning from NumPy
        y = STABLE[name](x)
        (y * mt.tensor([1.0, -2.0, 3.0, -4.0, 5.0], dtype=dtype)).sum().backward()
    assert y.dtype == dtype and x.grad.dtype == dtype
    assert np.isfinite(y.numpy() if not y.requires_grad else y.detach().numpy()).all()
    assert np.isfinite(x.grad.numpy()).all()


def test_stable_values_at_large_inputs() -> None:
    x = mt.tensor([-1000.0, 0.0, 1000.0], dtype=mt.float64)
    np.testing.assert_allclose(x.sigmoid().numpy(), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(x.softplus().numpy(), [0.0, np.log(2.0), 1000.0])
    np.testing.assert_allclose(x.logsumexp(0).item(), 1000.0)
    np.testing.assert_allclose(x.log_softmax(0).numpy(), [-2000.0, -1000.0, 0.0])
    # The gradient of logsumexp is the softmax: all on the largest element.
    x.requires_grad_()
    x.logsumexp(0).backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 1.0])


def test_logsumexp_all_minus_inf() -> None:
    # log(0) = -inf without a NaN from inf - inf
    x = mt.tensor([-np.inf, -np.inf], dtype=mt.float64)
    assert x.logsumexp(0).item() == -np.inf
