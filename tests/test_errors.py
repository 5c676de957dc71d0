"""Bad input gets a clear error: the right exception type, and a message that names the shapes,
dtypes, dims or arguments involved (PyTorch's wording where it has one)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import microtensor as mt


def _second_backward() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    y.backward()


def _grad_of_unused() -> None:
    x, z = mt.ones(1, requires_grad=True), mt.ones(1, requires_grad=True)
    mt.autograd.grad((x * 2.0).sum(), z)


def _inplace_leaf() -> None:
    w = mt.ones(2, requires_grad=True)
    w += 1


# (id, call, exception type, fragments that must all appear in the message)
ERRORS: list[tuple[str, Callable[[], Any], type[Exception], list[str]]] = [
    # matmul shape mismatch
    ("matmul_2d", lambda: mt.ones(2, 3) @ mt.ones(4, 5), RuntimeError, ["(2, 3)", "(4, 5)"]),
    ("matmul_1d", lambda: mt.ones(3) @ mt.ones(4), RuntimeError, ["(3,)", "(4,)"]),
    ("matmul_2d_1d", lambda: mt.matmul(mt.ones(2, 3), mt.ones(2)), RuntimeError,
     ["(2, 3)", "(2,)"]),
    ("matmul_batch", lambda: mt.ones(2, 3, 4) @ mt.ones(3, 4, 5), RuntimeError,
     ["batch", "(2, 3, 4)", "(3, 4, 5)"]),
    ("matmul_0d", lambda: mt.tensor(1.0) @ mt.ones(4), RuntimeError, ["at least 1D", "0D"]),
    # shapes that do not broadcast
    ("broadcast_add", lambda: mt.ones(2, 3) + mt.ones(4), RuntimeError,
     ["size of tensor a (3)", "tensor b (4)", "dimension 1", "(2, 3)", "(4,)"]),
    ("broadcast_mul", lambda: mt.ones(2, 3) * mt.ones(2, 1, 2), RuntimeError,
     ["(2, 3)", "(2, 1, 2)"]),
    ("broadcast_sub", lambda: mt.ones(5) - mt.ones(3), RuntimeError, ["(5,)", "(3,)"]),
    ("broadcast_div", lambda: mt.ones(5) / mt.ones(3), RuntimeError, ["(5,)", "(3,)"]),
    ("broadcast_pow", lambda: mt.ones(5) ** mt.ones(3), RuntimeError, ["(5,)", "(3,)"]),
    ("broadcast_maximum", lambda: mt.maximum(mt.ones(3), mt.ones(2)), RuntimeError,
     ["(3,)", "(2,)"]),
    ("broadcast_where", lambda: mt.where(mt.ones(3) > 0, mt.ones(2), 0.0), RuntimeError,
     ["(3,)", "(2,)"]),
    ("broadcast_ndarray", lambda: mt.ones(3) + np.ones(2), RuntimeError, ["(3,)", "(2,)"]),
    ("broadcast_shapes", lambda: mt.broadcast_shapes((2, 3), (3, 2)), RuntimeError,
     ["(2, 3)", "(3, 2)"]),
    ("expand", lambda: mt.ones(2, 3).expand(4, 3, 2), RuntimeError,
     ["expanded size", "[4, 3, 2]", "[2, 3]"]),
    ("expand_too_few", lambda: mt.ones(2, 3).expand(3), RuntimeError, ["number of sizes"]),
    # backward() on a non-scalar without gradient, or with a gradient of the wrong shape
    ("backward_non_scalar", lambda: (mt.ones(2, 3, requires_grad=True) * 2).backward(),
     RuntimeError, ["implicitly created only for scalar outputs", "(2, 3)"]),
    ("grad_non_scalar", lambda: mt.autograd.grad(mt.ones(2, requires_grad=True) * 2,
                                                 mt.ones(1, requires_grad=True)),
     RuntimeError, ["scalar outputs", "(2,)"]),
    ("gradient_wrong_shape", lambda: (mt.ones(2, requires_grad=True) * 2).backward(mt.ones(3)),
     RuntimeError, ["Mismatch in shape", "(3,)", "(2,)"]),
    ("grad_outputs_wrong_shape", lambda: mt.autograd.grad(
        mt.ones(2, 2, requires_grad=True) * 2, mt.ones(1, requires_grad=True), mt.ones(4)),
     RuntimeError, ["Mismatch in shape", "(4,)", "(2, 2)"]),
    # second backward through a released graph
    ("second_backward", _second_backward, RuntimeError,
     ["backward through the graph a second time", "retain_graph=True"]),
    # requires_grad=True on integer or bool tensors
    ("requires_grad_int", lambda: mt.tensor([1, 2], requires_grad=True), RuntimeError,
     ["floating point", "int64"]),
    ("requires_grad_bool", lambda: mt.tensor([True], requires_grad=True), RuntimeError,
     ["floating point", "bool"]),
    ("requires_grad_zeros_int", lambda: mt.zeros(2, dtype=mt.int32, requires_grad=True),
     RuntimeError, ["floating point", "int32"]),
    ("requires_grad_arange", lambda: mt.arange(3, requires_grad=True), RuntimeError,
     ["floating point", "int64"]),
    ("requires_grad__int", lambda: mt.tensor([1]).requires_grad_(), RuntimeError,
     ["floating point", "int64"]),
    # backward of a tensor that does not require grad
    ("backward_no_grad_leaf", lambda: mt.ones(2).sum().backward(), RuntimeError,
     ["does not require grad", "grad_fn"]),
    ("backward_under_no_grad", lambda: _backward_under_no_grad(), RuntimeError,
     ["does not require grad"]),
    ("grad_input_no_grad", lambda: mt.autograd.grad(mt.ones(1, requires_grad=True).sum(),
                                                    mt.ones(1)),
     RuntimeError, ["input 0", "does not require grad"]),
    ("grad_unused", _grad_of_unused, RuntimeError, ["input 0", "allow_unused=True"]),
    # out-of-range dim
    ("dim_sum", lambda: mt.ones(2, 3).sum(2), IndexError,
     ["Dimension out of range", "[-2, 1]", "got 2"]),
    ("dim_sum_tuple", lambda: mt.ones(2, 3).sum((0, -3)), IndexError, ["[-2, 1]", "got -3"]),
    ("dim_mean", lambda: mt.ones(2, 3).mean(-3), IndexError, ["[-2, 1]", "got -3"]),
    ("dim_var", lambda: mt.ones(4).var(1), IndexError, ["[-1, 0]", "got 1"]),
    ("dim_std", lambda: mt.ones(4).std(1), IndexError, ["[-1, 0]", "got 1"]),
    ("dim_prod", lambda: mt.ones(4).prod(1), IndexError, ["[-1, 0]", "got 1"]),
    ("dim_amax", lambda: mt.ones(4).amax(2), IndexError, ["[-1, 0]", "got 2"]),
    ("dim_max", lambda: mt.ones(4).max(1), IndexError, ["[-1, 0]", "got 1"]),
    ("dim_argmax", lambda: mt.ones(4).argmax(1), IndexError, ["[-1, 0]", "got 1"]),
    ("dim_softmax", lambda: mt.ones(2, 3).softmax(2), IndexError, ["[-2, 1]", "got 2"]),
    ("dim_log_softmax", lambda: mt.ones(2, 3).log_softmax(-3), IndexError, ["got -3"]),
    ("dim_logsumexp", lambda: mt.ones(2).logsumexp(1), IndexError, ["[-1, 0]", "got 1"]),
    ("dim_transpose", lambda: mt.ones(2, 3).transpose(0, 2), IndexError, ["[-2, 1]", "got 2"]),
    ("dim_permute", lambda: mt.ones(2, 3).permute(0, 2), IndexError, ["got 2"]),
    ("dim_unsqueeze", lambda: mt.ones(2, 3).unsqueeze(3), IndexError, ["[-3, 2]", "got 3"]),
    ("dim_squeeze", lambda: mt.ones(2).squeeze(1), IndexError, ["[-1, 0]", "got 1"]),
    ("dim_flatten", lambda: mt.ones(2).flatten(1), IndexError, ["got 1"]),
    ("dim_cat", lambda: mt.cat([mt.ones(2)], dim=1), IndexError, ["[-1, 0]", "got 1"]),
    ("dim_stack", lambda: mt.stack([mt.ones(2)], dim=2), IndexError, ["[-2, 1]", "got 2"]),
    ("dim_split", lambda: mt.ones(2).split(1, dim=1), IndexError, ["got 1"]),
    ("dim_chunk", lambda: mt.ones(2).chunk(2, dim=-2), IndexError, ["got -2"]),
    ("dim_size", lambda: mt.ones(2).size(1), IndexError, ["[-1, 0]", "got 1"]),
    ("dim_take_along", lambda: mt.ones(2, 2).take_along_dim(mt.tensor([[0]]), 2), IndexError,
     ["got 2"]),
    ("dim_repeated", lambda: mt.ones(2, 3).sum((1, -1)), RuntimeError, ["multiple times"]),
    # reshaping to an incompatible size
    ("reshape", lambda: mt.ones(2, 3).reshape(4, 2), RuntimeError,
     ["shape '[4, 2]' is invalid for input of size 6"]),
    ("view", lambda: mt.ones(2, 3).view(-1, 4), RuntimeError,
     ["shape '[-1, 4]' is invalid for input of size 6"]),
    ("reshape_two_inferred", lambda: mt.ones(6).reshape(-1, -1), RuntimeError,
     ["only one dimension can be inferred"]),
    ("reshape_negative", lambda: mt.ones(6).reshape(-2, -3), RuntimeError, ["invalid"]),
    # data that is not numeric
    ("data_str", lambda: mt.tensor("abc"), TypeError, ["str", "not numeric"]),
    ("data_bytes", lambda: mt.tensor(b"ab"), TypeError, ["bytes"]),
    ("data_list_of_str", lambda: mt.tensor(["a", "b"]), TypeError, ["numeric"]),
    ("data_none", lambda: mt.tensor(None), TypeError, ["NoneType"]),
    ("data_list_with_none", lambda: mt.tensor([1.0, None]), TypeError, ["numeric", "object"]),
    ("data_dict", lambda: mt.tensor({"a": 1}), TypeError, ["numeric"]),
    ("data_complex", lambda: mt.tensor([1j]), TypeError, ["complex"]),
    ("data_ragged", lambda: mt.tensor([[1, 2], [3]]), ValueError, ["ragged"]),
    ("data_ragged_deep", lambda: mt.tensor([[[1.0], [2.0]], [[3.0]]]), ValueError, ["ragged"]),
    ("data_str_array", lambda: mt.tensor(np.array(["a"])), TypeError, ["numeric", "<U1"]),
    ("operand_str", lambda: mt.ones(2) + "a", TypeError, ["str"]),
    ("operand_none", lambda: mt.ones(2) * None, TypeError, ["NoneType"]),
    # other misuse
    ("cat_shapes", lambda: mt.cat([mt.ones(2, 3), mt.ones(2, 4)]), RuntimeError,
     ["Expected size 3 but got size 4", "tensor number 1"]),
    ("cat_ndim", lambda: mt.cat([mt.ones(2, 3), mt.ones(3)]), RuntimeError,
     ["same number of dimensions"]),
    ("cat_empty", lambda: mt.cat([]), RuntimeError, ["non-empty"]),
    ("stack_shapes", lambda: mt.stack([mt.ones(2), mt.ones(3)]), RuntimeError, ["[2]", "[3]"]),
    ("permute_length", lambda: mt.ones(2, 3).permute(0), RuntimeError, ["input.dim() = 2",
                                                                         "len(dims) = 1"]),
    ("permute_duplicate", lambda: mt.ones(2, 3).permute(1, 1), RuntimeError, ["duplicate"]),
    ("split_sizes", lambda: mt.ones(5).split([2, 2]), RuntimeError, ["sum exactly to 5"]),
    ("chunk_zero", lambda: mt.ones(3).chunk(0), RuntimeError, ["greater than 0"]),
    ("item_many", lambda: mt.ones(2).item(), RuntimeError, ["2 elements", "(2,)"]),
    ("bool_many", lambda: bool(mt.ones(2)), RuntimeError, ["ambiguous", "(2,)"]),
    ("len_0d", lambda: len(mt.tensor(1.0)), TypeError, ["0-d"]),
    ("numpy_requires_grad", lambda: mt.ones(2, requires_grad=True).numpy(), RuntimeError,
     ["detach().numpy()"]),
    ("where_condition_dtype", lambda: mt.where(mt.ones(2), mt.ones(2), 0.0), TypeError,
     ["boolean", "float32"]),
    ("clamp_no_bounds", lambda: mt.ones(2).clamp(), RuntimeError, ["min", "max"]),
    ("mean_of_ints", lambda: mt.ones(2, dtype=mt.int64).mean(), RuntimeError,
     ["floating point", "int64"]),
    ("sub_bool", lambda: mt.tensor([True]) - mt.tensor([False]), RuntimeError, ["bool", "~"]),
    ("index_float", lambda: mt.ones(3)[mt.tensor([0.0, 1.0])], IndexError,
     ["long, int or bool", "float32"]),
    ("index_out_of_range", lambda: mt.ones(3)[5], IndexError, ["5", "size 3"]),
    ("index_mask_shape", lambda: mt.ones(3)[mt.tensor([True, False])], IndexError,
     ["(2,)", "(3,)"]),
    ("take_along_dtype", lambda: mt.ones(2, 3).take_along_dim(mt.tensor([[0.0]]), 1),
     RuntimeError, ["indices", "float32"]),
    ("take_along_ndim", lambda: mt.ones(2, 3).take_along_dim(mt.tensor([0]), 1), RuntimeError,
     ["2 dimensions for input", "1 dimensions for indices"]),
    ("dtype_unsupported", lambda: mt.ones(2, dtype=np.complex64), TypeError,
     ["unsupported dtype complex64"]),
    ("dtype_invalid", lambda: mt.tensor([1.0], dtype="foo"), TypeError, ["invalid dtype 'foo'"]),
    ("default_dtype_int", lambda: mt.set_default_dtype(mt.int64), TypeError,
     ["float32 and float64", "int64"]),
    ("size_negative", lambda: mt.zeros(-1), RuntimeError, ["negative dimension -1", "[-1]"]),
    ("arange_zero_step", lambda: mt.arange(0, 5, 0), RuntimeError, ["step"]),
    ("inplace_leaf", _inplace_leaf, RuntimeError,
     ["leaf Variable that requires grad", "in-place"]),
    ("inplace_int_division", lambda: mt.tensor([1, 2]).div_(2), RuntimeError,
     ["float64", "int64"]),
    ("gradcheck_float32", lambda: mt.autograd.gradcheck(
        lambda x: x * 2, [mt.ones(2, requires_grad=True)]), TypeError, ["float32", "float64"]),
]


def _backward_under_no_grad() -> None:
    x = mt.ones(2, requires_grad=True)
    with mt.no_grad():
        y = (x * 2.0).sum()
    y.backward()


@pytest.mark.parametrize(("call", "exc", "fragments"),
                         [pytest.param(c, e, f, id=i) for i, c, e, f in ERRORS])
def test_error(call: Callable[[], Any], exc: type[Exception], fragments: list[str]) -> None:
    with pytest.raises(exc) as info:
        call()
    assert type(info.value) is exc
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} not in {str(info.value)!r}"


def test_error_ids_are_unique() -> None:
    ids = [e[0] for e in ERRORS]
    assert len(ids) == len(set(ids))


def test_failed_op_leaves_no_partial_state() -> None:
    x = mt.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError):
        x + mt.ones(4)
    (x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 2.0))


def test_messages_are_single_sentences_without_numpy_internals() -> None:
    # Errors raised before NumPy runs: no "operands could not be broadcast together".
    with pytest.raises(RuntimeError) as info:
        mt.ones(2, 3) + mt.ones(4)
    assert "operands could not be broadcast" not in str(info.value)
    assert re.search(r"\(2, 3\).*\(4,\)", str(info.value))
