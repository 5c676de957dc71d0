"""Creation functions (tensor, from_numpy, zeros, ..., randperm): PyTorch's values, dtypes and
errors, or a clear error where microtensor deliberately supports less.

Every case is asserted twice: on microtensor alone (with what PyTorch 2.13 does recorded next to
it), and, where PyTorch is installed, against PyTorch itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import microtensor as mt

try:
    import torch
except ImportError:  # the parity checks skip; the microtensor checks still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def _dt(m: Any, name: str) -> Any:
    """The dtype called ``name`` in module ``m`` (microtensor dtypes are NumPy dtypes)."""
    return getattr(torch, name) if m is torch else np.dtype(name)


# -- errors ----------------------------------------------------------------------------------------

# (id, call on a module m (microtensor or torch), exception, fragments of microtensor's message,
#  what PyTorch 2.13 says: a fragment of its message, "" when its wording differs from ours)
ERRORS: list[tuple[str, Callable[[Any], Any], type[Exception], list[str], str]] = [
    # arange: a step of the wrong sign, a zero step, an infinite range, a bool dtype
    ("arange_step_sign", lambda m: m.arange(0, 5, -1), RuntimeError,
     ["upper bound and lower bound inconsistent with step sign"],
     "upper bound and lower bound inconsistent with step sign"),
    ("arange_step_sign_down", lambda m: m.arange(5, 0, 1), RuntimeError,
     ["inconsistent with step sign"], "inconsistent with step sign"),
    ("arange_step_sign_float", lambda m: m.arange(0, 5, -1.5), RuntimeError,
     ["inconsistent with step sign"], "inconsistent with step sign"),
    ("arange_step_sign_int_dtype", lambda m: m.arange(0.9, 0.1, 1, dtype=_dt(m, "int64")),
     RuntimeError, ["inconsistent with step sign"], "inconsistent with step sign"),
    ("arange_step_zero", lambda m: m.arange(0, 5, 0), RuntimeError, ["step must be nonzero"],
     "step must be nonzero"),
    ("arange_step_nan", lambda m: m.arange(0, 5, float("nan")), RuntimeError,
     ["step must be nonzero"], "step must be nonzero"),
    # for int64 the step is truncated to an int first (PyTorch raises a ValueError here)
    ("arange_step_truncated_to_zero", lambda m: m.arange(0, 1, 0.1, dtype=_dt(m, "int64")),
     ValueError, ["step must be nonzero"], "step must be nonzero"),
    ("arange_inf", lambda m: m.arange(0.0, float("inf")), RuntimeError,
     ["unsupported range: 0 -> inf"], "unsupported range: 0 -> inf"),
    ("arange_nan", lambda m: m.arange(0.5, float("nan")), RuntimeError,
     ["unsupported range: 0.5 -> nan"], "unsupported range: 0.5 -> nan"),
    ("arange_bool", lambda m: m.arange(5, dtype=_dt(m, "bool")), NotImplementedError,
     ['"arange_cpu" not implemented for \'Bool\'', "bool"],
     '"arange_cpu" not implemented for \'Bool\''),
    ("arange_int64_overflow", lambda m: m.arange(0, 2**63), RuntimeError,
     ["value cannot be converted to type int64 without overflow"],
     "value cannot be converted to type int64_t without overflow"),
    ("arange_str", lambda m: m.arange("a"), TypeError,
     ["arange(): argument 'end' (position 1) must be Number, not str"],
     "arange(): argument 'end' (position 1) must be Number, not str"),
    ("arange_int_requires_grad", lambda m: m.arange(5, requires_grad=True), RuntimeError,
     ["Only Tensors of floating point", "int64"], "Only Tensors of floating point"),
    # linspace: negative or non-int steps, bool dtype, ends that do not fit the dtype
    ("linspace_negative_steps", lambda m: m.linspace(-1, 1, -1), RuntimeError,
     ["number of steps must be non-negative", "-1"], "number of steps must be non-negative"),
    ("linspace_float_steps", lambda m: m.linspace(0, 1, 2.0), TypeError,
     ["linspace(): argument 'steps' (position 3) must be int, not float"], ""),
    ("linspace_bool_steps", lambda m: m.linspace(0, 1, True), TypeError,
     ["argument 'steps'", "not bool"], ""),
    ("linspace_bool", lambda m: m.linspace(0, 1, 5, dtype=_dt(m, "bool")), NotImplementedError,
     ['"linspace_cpu" not implemented for \'Bool\''],
     '"linspace_cpu" not implemented for \'Bool\''),
    ("linspace_end_overflows_int8", lambda m: m.linspace(0, 300, 3, dtype=_dt(m, "int8")),
     RuntimeError, ["value cannot be converted to type int8 without overflow", "300"],
     "value cannot be converted to type int8_t without overflow"),
    ("linspace_end_overflows_float32", lambda m: m.linspace(0, 1e40, 3), RuntimeError,
     ["value cannot be converted to type float32 without overflow"],
     "value cannot be converted to type float without overflow"),
    ("linspace_int_requires_grad",
     lambda m: m.linspace(0, 1, 3, dtype=_dt(m, "int64"), requires_grad=True), RuntimeError,
     ["Only Tensors of floating point"], "Only Tensors of floating point"),
    # eye: negative or non-int sizes
    ("eye_negative_n", lambda m: m.eye(-1), RuntimeError,
     ["n must be greater or equal to 0, got -1"], "n must be greater or equal to 0, got -1"),
    ("eye_negative_m", lambda m: m.eye(2, -1), RuntimeError,
     ["m must be greater or equal to 0, got -1"], "m must be greater or equal to 0, got -1"),
    ("eye_float_n", lambda m: m.eye(2.0), TypeError,
     ["eye(): argument 'n' (position 1) must be int, not float"],
     "eye(): argument 'n' (position 1) must be int, not float"),
    ("eye_bool_n", lambda m: m.eye(True), TypeError, ["must be int, not bool"],
     "must be int, not bool"),
    ("eye_float_m", lambda m: m.eye(2, 2.0), TypeError, ["argument 'm'", "not float"], ""),
    # sizes that are not ints: PyTorch's wording ("failed to unpack the object at pos 2" when a
    # later element is wrong; we say "found element ... at pos 1" there too)
    ("zeros_float", lambda m: m.zeros(2.0), TypeError,
     ["zeros(): argument 'size' (position 1) must be tuple of ints, not float"],
     "zeros(): argument 'size' (position 1) must be tuple of ints, not float"),
    ("zeros_list_of_float", lambda m: m.zeros([2.0]), TypeError,
     ["zeros(): argument 'size' (position 1) must be tuple of ints, but found element of type "
      "float at pos 0"],
     "zeros(): argument 'size' (position 1) must be tuple of ints, but found element of type "
     "float at pos 0"),
    ("zeros_second_float", lambda m: m.zeros(2, 3.0), TypeError,
     ["zeros(): argument 'size'", "element of type float at pos 1"], "argument 'size'"),
    ("zeros_tuple_second_float", lambda m: m.zeros((2, 3.0)), TypeError,
     ["element of type float at pos 1"], "argument 'size'"),
    ("zeros_bool", lambda m: m.zeros(True), TypeError, ["tuple of ints, not bool"],
     "tuple of ints, not bool"),
    ("zeros_tuple_of_bool", lambda m: m.zeros((True,)), TypeError,
     ["found element of type bool at pos 0"], "found element of type bool at pos 0"),
    ("zeros_none", lambda m: m.zeros(None), TypeError, ["tuple of ints, not NoneType"],
     "tuple of ints, not NoneType"),
    ("zeros_str", lambda m: m.zeros("a"), TypeError, ["tuple of ints, not str"],
     "tuple of ints, not str"),
    ("zeros_ndarray", lambda m: m.zeros(np.array([2, 3])), TypeError,
     ["tuple of ints, not numpy.ndarray"], "tuple of ints, not numpy.ndarray"),
    ("zeros_numpy_float", lambda m: m.zeros(np.float64(2)), TypeError,
     ["tuple of ints, not numpy.float64"], "tuple of ints, not numpy.float64"),
    ("zeros_no_size", lambda m: m.zeros(), TypeError,
     ['zeros() missing 1 required positional arguments: "size"'],
     'zeros() missing 1 required positional arguments: "size"'),
    ("ones_float", lambda m: m.ones(2.5), TypeError,
     ["ones(): argument 'size' (position 1) must be tuple of ints, not float"],
     "ones(): argument 'size' (position 1) must be tuple of ints, not float"),
    ("empty_list_of_float", lambda m: m.empty([1.5]), TypeError,
     ["empty(): argument 'size' (position 1) must be tuple of ints, but found element of type "
      "float at pos 0"], "empty(): argument 'size' (position 1) must be tuple of ints, but found"),
    ("rand_float", lambda m: m.rand(1.0), TypeError,
     ["rand(): argument 'size' (position 1) must be tuple of ints, not float"],
     "rand(): argument 'size' (position 1) must be tuple of ints, not float"),
    ("randn_tuple_of_float", lambda m: m.randn((1.5,)), TypeError,
     ["randn(): argument 'size' (position 1) must be tuple of ints, but found element of type "
      "float at pos 0"], "randn(): argument 'size' (position 1) must be tuple of ints, but found"),
    ("full_tuple_of_float", lambda m: m.full((2.0,), 1), TypeError,
     ["full(): argument 'size' (position 1) must be tuple of ints, but found element of type "
      "float at pos 0"], "full(): argument 'size' (position 1) must be tuple of ints, but found"),
    ("full_int_size", lambda m: m.full(2, 1), TypeError,
     ["full(): argument 'size' (position 1) must be tuple of ints, not int"],
     "full(): argument 'size' (position 1) must be tuple of ints, not int"),
    ("randint_tuple_of_float", lambda m: m.randint(0, 5, (2.0,)), TypeError,
     ["randint(): argument 'size' must be tuple of ints, but found element of type float"], ""),
    ("randint_int_size", lambda m: m.randint(0, 5, 3), TypeError,
     ["randint(): argument 'size' must be tuple of ints, not int"], ""),
    # negative sizes (PyTorch's zeros words it "zeros: Dimension size must be non-negative.")
    ("zeros_negative", lambda m: m.zeros(-1), RuntimeError,
     ["Trying to create tensor with negative dimension -1: [-1]"], ""),
    ("zeros_negative_tuple", lambda m: m.zeros((2, -3)), RuntimeError,
     ["negative dimension -3: [2, -3]"], ""),
    ("ones_negative", lambda m: m.ones(-1), RuntimeError,
     ["Trying to create tensor with negative dimension -1: [-1]"],
     "Trying to create tensor with negative dimension -1: [-1]"),
    ("empty_negative", lambda m: m.empty(2, -1), RuntimeError,
     ["Trying to create tensor with negative dimension -1: [2, -1]"],
     "Trying to create tensor with negative dimension -1: [2, -1]"),
    ("full_negative", lambda m: m.full((2, -1), 1.0), RuntimeError,
     ["Trying to create tensor with negative dimension -1: [2, -1]"],
     "Trying to create tensor with negative dimension -1: [2, -1]"),
    ("rand_negative", lambda m: m.rand(-1), RuntimeError,
     ["Trying to create tensor with negative dimension -1: [-1]"],
     "Trying to create tensor with negative dimension -1: [-1]"),
    ("randn_negative", lambda m: m.randn(2, -1), RuntimeError,
     ["Trying to create tensor with negative dimension -1: [2, -1]"],
     "Trying to create tensor with negative dimension -1: [2, -1]"),
    ("randint_negative", lambda m: m.randint(0, 3, (2, -1)), RuntimeError,
     ["Trying to create tensor with negative dimension -1: [2, -1]"],
     "Trying to create tensor with negative dimension -1: [2, -1]"),
    # full: values that do not fit the dtype, values that are not numbers
    ("full_overflow_int8", lambda m: m.full((2,), 300, dtype=_dt(m, "int8")), RuntimeError,
     ["value cannot be converted to type int8 without overflow"],
     "value cannot be converted to type int8_t without overflow"),
    ("full_overflow_int64", lambda m: m.full((2,), 2**63), RuntimeError,
     ["value cannot be converted to type int64 without overflow"],
     "value cannot be converted to type int64_t without overflow"),
    ("full_nan_to_int", lambda m: m.full((2,), float("nan"), dtype=_dt(m, "int64")),
     RuntimeError, ["without overflow"], "without overflow"),
    ("full_negative_float_to_uint8", lambda m: m.full((2,), -1.0, dtype=_dt(m, "uint8")),
     RuntimeError, ["value cannot be converted to type uint8 without overflow"],
     "without overflow"),
    ("full_overflow_float32", lambda m: m.full((2,), 1e40), RuntimeError,
     ["value cannot be converted to type float32 without overflow"],
     "value cannot be converted to type float without overflow"),
    ("full_int_too_big", lambda m: m.full((2,), 2**64), OverflowError, ["int too big to convert"],
     "int too big to convert"),
    ("full_str", lambda m: m.full((2,), "a"), TypeError,
     ["full(): argument 'fill_value' (position 2) must be Number, not str"],
     "full(): argument 'fill_value' (position 2) must be Number, not str"),
    ("full_int_requires_grad", lambda m: m.full((2,), 1, requires_grad=True), RuntimeError,
     ["Only Tensors of floating point"], "Only Tensors of floating point"),
    ("full_like_overflow", lambda m: m.full_like(m.tensor([1, 2]), 2**63), RuntimeError,
     ["without overflow"], "without overflow"),
    # rand, randn and *_like on integer dtypes
    ("rand_int", lambda m: m.rand(3, dtype=_dt(m, "int64")), NotImplementedError,
     ['"check_uniform_bounds" not implemented for \'Long\''],
     '"check_uniform_bounds" not implemented for \'Long\''),
    ("rand_bool", lambda m: m.rand(3, dtype=_dt(m, "bool")), NotImplementedError,
     ["not implemented for 'Bool'"], "not implemented for 'Bool'"),
    ("randn_int", lambda m: m.randn(3, dtype=_dt(m, "int64")), NotImplementedError,
     ['"normal_kernel_cpu" not implemented for \'Long\''],
     '"normal_kernel_cpu" not implemented for \'Long\''),
    ("rand_like_int", lambda m: m.rand_like(m.tensor([1, 2])), NotImplementedError,
     ["not implemented for 'Long'"], "not implemented for 'Long'"),
    ("randn_like_int", lambda m: m.randn_like(m.tensor([1, 2])), NotImplementedError,
     ["not implemented for 'Long'"], "not implemented for 'Long'"),
    ("zeros_like_ndarray", lambda m: m.zeros_like(np.zeros(2)), TypeError,
     ["zeros_like(): argument 'input' (position 1) must be Tensor, not numpy.ndarray"],
     "zeros_like(): argument 'input' (position 1) must be Tensor, not numpy.ndarray"),
    ("zeros_like_int_requires_grad",
     lambda m: m.zeros_like(m.tensor([1, 2]), requires_grad=True), RuntimeError,
     ["Only Tensors of floating point"], "Only Tensors of floating point"),
    # randint: requires_grad on integers, bounds, dtype limits, missing or non-int arguments
    ("randint_requires_grad", lambda m: m.randint(0, 5, (3,), requires_grad=True), RuntimeError,
     ["Only Tensors of floating point", "int64"], "Only Tensors of floating point"),
    ("randint_empty_range", lambda m: m.randint(5, 5, (3,)), RuntimeError,
     ["random_ expects 'from' to be less than 'to', but got from=5 >= to=5"],
     "random_ expects 'from' to be less than 'to', but got from=5 >= to=5"),
    ("randint_reversed_range", lambda m: m.randint(5, 3, (3,)), RuntimeError,
     ["but got from=5 >= to=3"], "but got from=5 >= to=3"),
    ("randint_low_below_int8", lambda m: m.randint(-129, 0, (3,), dtype=_dt(m, "int8")),
     RuntimeError, ["from is out of bounds for int8"], "from is out of bounds for"),
    ("randint_high_above_uint8", lambda m: m.randint(0, 300, (3,), dtype=_dt(m, "uint8")),
     RuntimeError, ["to - 1 is out of bounds for uint8"], "to - 1 is out of bounds for"),
    ("randint_bool_range", lambda m: m.randint(0, 5, (3,), dtype=_dt(m, "bool")), RuntimeError,
     ["to - 1 is out of bounds for bool"], "to - 1 is out of bounds for bool"),
    ("randint_high_overflow", lambda m: m.randint(0, 2**63, (3,)), ValueError,
     ["Overflow when unpacking long long"], "Overflow when unpacking long long"),
    ("randint_float_bounds", lambda m: m.randint(0.5, 3.5, (3,)), TypeError,
     ["randint(): argument 'low' must be int, not float"], ""),
    ("randint_bool_high", lambda m: m.randint(True, (3,)), TypeError,
     ["argument 'high' must be int, not bool"], "must be int, not bool"),
    ("randint_no_size", lambda m: m.randint(5), TypeError, ["'size'"], ""),
    # randperm: negative or non-int n, dtypes that cannot hold n - 1, bool, requires_grad
    ("randperm_negative", lambda m: m.randperm(-1), RuntimeError,
     ["Trying to create tensor with negative dimension -1: [-1]"],
     "Trying to create tensor with negative dimension -1: [-1]"),
    ("randperm_float", lambda m: m.randperm(2.0), TypeError,
     ["randperm(): argument 'n' (position 1) must be int, not float"],
     "randperm(): argument 'n' (position 1) must be int, not float"),
    ("randperm_bool_dtype", lambda m: m.randperm(3, dtype=_dt(m, "bool")), NotImplementedError,
     ['"randperm" not implemented for \'Bool\''], '"randperm" not implemented for \'Bool\''),
    ("randperm_int8_overflow", lambda m: m.randperm(129, dtype=_dt(m, "int8")), RuntimeError,
     ["value cannot be converted to type int8 without overflow"],
     "value cannot be converted to type int8_t without overflow"),
    ("randperm_uint8_overflow", lambda m: m.randperm(257, dtype=_dt(m, "uint8")), RuntimeError,
     ["without overflow"], "without overflow"),
    ("randperm_float16_precision", lambda m: m.randperm(2050, dtype=_dt(m, "float16")),
     RuntimeError, ["n cannot be greater than", "Half"], "n cannot be greater than 2049"),
    ("randperm_requires_grad", lambda m: m.randperm(3, requires_grad=True), RuntimeError,
     ["Only Tensors of floating point"], "Only Tensors of floating point"),
    # tensor: Python ints must fit in int64 (there is no uint64); numbers must fit the dtype
    ("tensor_2_63", lambda m: m.tensor(2**63), ValueError,
     ["Overflow when unpacking long long", "9223372036854775808", "int64", "no uint64"],
     "Overflow when unpacking long long"),
    ("tensor_2_64", lambda m: m.tensor(2**64), ValueError,
     ["Overflow when unpacking long long", "18446744073709551616"],
     "Overflow when unpacking long long"),
    ("tensor_below_int64", lambda m: m.tensor(-(2**63) - 1), ValueError,
     ["Overflow when unpacking long long", "-9223372036854775809"],
     "Overflow when unpacking long long"),
    ("tensor_list_2_63", lambda m: m.tensor([1, 2**63]), ValueError,
     ["Overflow when unpacking long long"], "Overflow when unpacking long long"),
    ("tensor_mixed_sign_2_63", lambda m: m.tensor([-1, 2**63]), ValueError,
     ["Overflow when unpacking long long"], "Overflow when unpacking long long"),
    ("tensor_nested_2_64", lambda m: m.tensor([[1], [2**64]]), ValueError,
     ["Overflow when unpacking long long"], "Overflow when unpacking long long"),
    ("tensor_bool_and_2_63", lambda m: m.tensor([True, 2**63]), ValueError,
     ["Overflow when unpacking long long"], "Overflow when unpacking long long"),
    ("tensor_2_63_as_int64", lambda m: m.tensor(2**63, dtype=_dt(m, "int64")), ValueError,
     ["Overflow when unpacking long long"], "Overflow when unpacking long long"),
    ("tensor_300_as_int8", lambda m: m.tensor(300, dtype=_dt(m, "int8")), RuntimeError,
     ["value cannot be converted to type int8 without overflow"],
     "value cannot be converted to type int8 without overflow"),
    ("tensor_list_as_uint8", lambda m: m.tensor([1, 300], dtype=_dt(m, "uint8")), RuntimeError,
     ["value cannot be converted to type uint8 without overflow"],
     "value cannot be converted to type uint8 without overflow"),
    ("tensor_nan_as_int64", lambda m: m.tensor(float("nan"), dtype=_dt(m, "int64")),
     RuntimeError, ["without overflow"], "without overflow"),
    ("tensor_numpy_scalar_as_int8", lambda m: m.tensor(np.int64(300), dtype=_dt(m, "int8")),
     RuntimeError, ["without overflow"], "without overflow"),
    ("tensor_longdouble", lambda m: m.tensor(np.array([1.5], dtype=np.longdouble)), TypeError,
     ["unsupported dtype", "microtensor supports"], "longdouble"),
    ("tensor_byte_order", lambda m: m.tensor(np.arange(3.0).astype(">f8")), ValueError,
     ["byte order different from the native byte order"],
     "byte order different from the native byte order"),
    # from_numpy: not an array, or a dtype PyTorch has no tensor for
    ("from_numpy_list", lambda m: m.from_numpy([1]), TypeError, ["expected np.ndarray (got list)"],
     "expected np.ndarray (got list)"),
    ("from_numpy_str", lambda m: m.from_numpy(np.array(["a"])), TypeError,
     ["can't convert np.ndarray of type numpy.str_", "The only supported types are", "float32"],
     "can't convert np.ndarray of type numpy.str_. The only supported types are"),
    ("from_numpy_object", lambda m: m.from_numpy(np.array([None])), TypeError,
     ["can't convert np.ndarray of type numpy.object_", "float32", "uint8", "bool"],
     "can't convert np.ndarray of type numpy.object_. The only supported types are"),
    ("from_numpy_byte_order", lambda m: m.from_numpy(np.arange(3.0).astype(">f8")), ValueError,
     ["given numpy array has byte order different from the native byte order"],
     "given numpy array has byte order different from the native byte order"),
]


@pytest.mark.parametrize(("call", "exc", "fragments"),
                         [pytest.param(c, e, f, id=i) for i, c, e, f, _ in ERRORS])
def test_error(call: Callable[[Any], Any], exc: type[Exception], fragments: list[str]) -> None:
    with pytest.raises(exc) as info:
        call(mt)
    assert type(info.value) is exc
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


@needs_torch
@pytest.mark.parametrize(("call", "exc", "torch_says"),
                         [pytest.param(c, e, t, id=i) for i, c, e, _, t in ERRORS])
def test_error_matches_torch(call: Callable[[Any], Any], exc: type[Exception],
                             torch_says: str) -> None:
    with pytest.raises(exc) as info:
        call(torch)
    assert torch_says in str(info.value)


# Dtypes PyTorch supports but microtensor does not: a clear TypeError naming the dtype and the
# supported ones (PyTorch 2.13 gives uint16/uint32/uint64/complex tensors here).
UNSUPPORTED = [np.uint64, np.uint32, np.uint16, np.complex64, np.complex128]


@pytest.mark.parametrize("dtype", UNSUPPORTED, ids=lambda d: np.dtype(d).name)
def test_from_numpy_unsupported_dtype(dtype: Any) -> None:
    name = np.dtype(dtype).name
    with pytest.raises(TypeError) as info:
        mt.from_numpy(np.zeros(2, dtype=dtype))
    message = str(info.value)
    assert f"can't convert np.ndarray of type numpy.{name}" in message
    assert "float32, float64, int64, int32, bool, float16, int8, int16, uint8" in message
    assert "microtensor has no" in message


@pytest.mark.parametrize("dtype", UNSUPPORTED, ids=lambda d: np.dtype(d).name)
def test_tensor_of_unsupported_dtype(dtype: Any) -> None:
    with pytest.raises(TypeError, match=f"unsupported dtype {np.dtype(dtype).name}"):
        mt.tensor(np.zeros(2, dtype=dtype))
    with pytest.raises(TypeError, match="unsupported dtype uint64"):
        mt.tensor(np.uint64(5))  # PyTorch: TypeError "an integer is required"
    # Converting to a supported dtype is fine, as in PyTorch.
    assert mt.tensor(np.array([3], dtype=np.uint64), dtype=mt.int64).tolist() == [3]


# -- values and dtypes ---------------------------------------------------------------------------

def test_from_numpy_0d_shares_memory() -> None:
    a = np.array(3.0)
    t = mt.from_numpy(a)  # PyTorch: tensor(3., dtype=torch.float64), shape ()
    assert t.shape == () and t.dtype == mt.float64 and t.item() == 3.0
    a[()] = 5.0
    assert t.item() == 5.0
    assert mt.from_numpy(np.array(True)).dtype == mt.bool


def test_from_numpy_keeps_every_supported_dtype() -> None:
    for dtype in (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
                  np.uint8, np.bool_):
        a = np.zeros((2, 1), dtype=dtype)
        t = mt.from_numpy(a)
        assert t.dtype == dtype and t.shape == (2, 1) and t.numpy() is a


@pytest.mark.parametrize(("make", "values", "dtype"), [
    # what PyTorch 2.13 gives
    (lambda m: m.tensor(2**63 - 1), 2**63 - 1, "int64"),
    (lambda m: m.tensor(-(2**63)), -(2**63), "int64"),
    (lambda m: m.tensor([1.0, 2**63]), [1.0, 2.0**63], "float32"),
    (lambda m: m.tensor([1.5, 2**64]), [1.5, 2.0**64], "float32"),
    (lambda m: m.tensor(2**63, dtype=_dt(m, "float32")), 2.0**63, "float32"),
    (lambda m: m.tensor(2**64, dtype=_dt(m, "float64")), 2.0**64, "float64"),
    (lambda m: m.tensor([1, 2**63], dtype=_dt(m, "float32")), [1.0, 2.0**63], "float32"),
    (lambda m: m.tensor(2**63, dtype=_dt(m, "bool")), True, "bool"),
    (lambda m: m.tensor(-1, dtype=_dt(m, "uint8")), 255, "uint8"),  # ints wrap, floats do not
    (lambda m: m.tensor(-255, dtype=_dt(m, "uint8")), 1, "uint8"),
    (lambda m: m.tensor(1.5, dtype=_dt(m, "int64")), 1, "int64"),
    (lambda m: m.tensor(-1.5, dtype=_dt(m, "int64")), -1, "int64"),
    (lambda m: m.tensor(0.5, dtype=_dt(m, "bool")), True, "bool"),
    (lambda m: m.tensor(1e40, dtype=_dt(m, "float32")), float("inf"), "float32"),
    (lambda m: m.tensor(np.array([300]), dtype=_dt(m, "int8")), [44], "int8"),  # arrays wrap
    (lambda m: m.tensor([True, 2], dtype=_dt(m, "int8")), [1, 2], "int8"),
])
def test_tensor_values(make: Callable[[Any], Any], values: Any, dtype: str) -> None:
    t = make(mt)
    assert t.dtype == np.dtype(dtype) and t.tolist() == values
    if torch is not None:
        r = make(torch)
        assert str(r.dtype) == f"torch.{dtype}" and r.tolist() == values


@pytest.mark.parametrize(("make", "values", "dtype"), [
    (lambda m: m.full((2,), True), [True, True], "bool"),
    (lambda m: m.full((2,), 1), [1, 1], "int64"),
    (lambda m: m.full((2,), 1.5), [1.5, 1.5], "float32"),
    (lambda m: m.full((2,), True, dtype=_dt(m, "float32")), [1.0, 1.0], "float32"),
    (lambda m: m.full((2,), 2, dtype=_dt(m, "bool")), [True, True], "bool"),
    (lambda m: m.full((2,), 0.5, dtype=_dt(m, "bool")), [True, True], "bool"),
    (lambda m: m.full((2,), 1.5, dtype=_dt(m, "int64")), [1, 1], "int64"),
    (lambda m: m.full((2,), -1, dtype=_dt(m, "uint8")), [255, 255], "uint8"),
    (lambda m: m.full((2,), 2**63, dtype=_dt(m, "float64")), [2.0**63] * 2, "float64"),
    (lambda m: m.full((2,), float("inf")), [float("inf")] * 2, "float32"),
    (lambda m: m.full((2,), np.float64(1.5)), [1.5, 1.5], "float32"),  # NumPy numbers count
    (lambda m: m.full((2,), np.int32(1)), [1, 1], "int64"),  # as Python numbers, and a NumPy
    (lambda m: m.full((2,), np.bool_(True)), [1.0, 1.0], "float32"),  # bool as a float
    (lambda m: m.full((2,), m.tensor(1.5)), [1.5, 1.5], "float32"),
    (lambda m: m.full_like(m.tensor([1, 2]), 1.5), [1, 1], "int64"),
    (lambda m: m.full([2], 7), [7, 7], "int64"),
])
def test_full_values(make: Callable[[Any], Any], values: Any, dtype: str) -> None:
    t = make(mt)
    assert t.dtype == np.dtype(dtype) and t.tolist() == values
    if torch is not None:
        r = make(torch)
        assert str(r.dtype) == f"torch.{dtype}" and r.tolist() == values


@pytest.mark.parametrize(("make", "shape"), [
    (lambda m: m.zeros(np.int64(2)), (2,)), (lambda m: m.zeros(2, np.int32(3)), (2, 3)),
    (lambda m: m.zeros([np.int32(2)]), (2,)), (lambda m: m.zeros([]), ()),
    (lambda m: m.ones(()), ()), (lambda m: m.empty(0, 3), (0, 3)),
    (lambda m: m.rand([2, 1]), (2, 1)), (lambda m: m.randn((0,)), (0,)),
    (lambda m: m.full([], 2.0), ()), (lambda m: m.eye(0), (0, 0)), (lambda m: m.eye(2, 0), (2, 0)),
    (lambda m: m.eye(np.int64(2)), (2, 2)), (lambda m: m.randint(0, 5, ()), ()),
    (lambda m: m.randint(0, 5, [2, 3]), (2, 3)), (lambda m: m.randperm(0), (0,)),
])
def test_accepted_sizes(make: Callable[[Any], Any], shape: tuple[int, ...]) -> None:
    assert make(mt).shape == shape
    if torch is not None:
        assert tuple(make(torch).shape) == shape


def test_eye_dtypes() -> None:
    t = mt.eye(2, 3, dtype=mt.bool)  # PyTorch: [[True, False, False], [False, True, False]]
    assert t.dtype == mt.bool and t.tolist() == [[True, False, False], [False, True, False]]
    assert mt.eye(2, dtype=mt.float64, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        mt.eye(2, dtype=mt.int64, requires_grad=True)


# -- randint and randperm dtypes -------------------------------------------------------------------

@pytest.mark.parametrize(("dtype", "low", "high"), [
    ("int64", -3, 4), ("int32", 0, 5), ("int8", -128, 128), ("uint8", 0, 256), ("bool", 0, 2),
    ("float32", 0, 5), ("float64", -2, 3), ("float16", 0, 4),
])
def test_randint_dtype(dtype: str, low: int, high: int) -> None:
    mt.manual_seed(0)
    t = mt.randint(low, high, (2000,), dtype=np.dtype(dtype))
    assert t.dtype == np.dtype(dtype)  # PyTorch keeps the dtype asked for, floats included
    values = t.numpy().astype(np.int64)
    assert values.min() == low and values.max() == high - 1
    if torch is not None:
        assert torch.randint(low, high, (3,), dtype=_dt(torch, dtype)).dtype == _dt(torch, dtype)


def test_randint_forms_and_requires_grad() -> None:
    mt.manual_seed(0)
    assert mt.randint(5, (3,)).shape == (3,)  # randint(high, size)
    assert mt.randint(5, size=(2,)).numpy().max() < 5
    assert mt.randint(low=1, high=5, size=(200,)).numpy().min() == 1
    assert mt.randint(high=5, size=(2,)).dtype == mt.int64
    assert mt.randint(np.int64(5), (3,)).dtype == mt.int64
    t = mt.randint(0, 5, (3,), dtype=mt.float32, requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.dtype == mt.float32
    big = mt.randint(2**63 - 1, (3,))  # the whole int64 range is allowed
    assert big.dtype == mt.int64
    assert mt.randint(-(2**63), -(2**63) + 1, (2,)).tolist() == [-(2**63)] * 2


@pytest.mark.parametrize(("n", "dtype"), [
    (5, "int64"), (5, "int32"), (128, "int8"), (256, "uint8"), (300, "int16"),
    (7, "float32"), (7, "float64"), (2049, "float16"), (0, "int64"),
])
def test_randperm_dtype(n: int, dtype: str) -> None:
    t = mt.randperm(n, dtype=np.dtype(dtype))
    assert t.dtype == np.dtype(dtype) and sorted(t.numpy().astype(np.int64)) == list(range(n))
    if torch is not None:
        r = torch.randperm(n, dtype=_dt(torch, dtype))
        assert r.dtype == _dt(torch, dtype) and sorted(r.long().tolist()) == list(range(n))


def test_randperm_requires_grad_on_floats() -> None:
    t = mt.randperm(3, dtype=mt.float32, requires_grad=True)
    assert t.requires_grad and sorted(t.tolist()) == [0.0, 1.0, 2.0]
    assert mt.randperm(np.int64(3)).dtype == mt.int64


def test_rand_float16() -> None:
    assert mt.rand(3, dtype=np.float16).dtype == np.float16
    assert mt.rand_like(mt.ones(2, dtype=mt.float64)).dtype == mt.float64


# -- arange and linspace ---------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "dtype"), [
    # PyTorch: int64 when every argument is an int (bools count as ints), else the default dtype
    ((5,), "int64"), ((5.0,), "float32"), ((0, 5, 1.0), "float32"), ((0.0, 5), "float32"),
    ((np.int64(3),), "int64"), ((np.float64(3),), "float32"), ((np.float32(3),), "float32"),
    ((True,), "int64"), ((0, 5, True), "int64"), ((np.bool_(True),), "float32"),
])
def test_arange_dtype_inference(args: tuple[Any, ...], dtype: str) -> None:
    assert mt.arange(*args).dtype == np.dtype(dtype)
    if torch is not None:
        assert torch.arange(*args).dtype == _dt(torch, dtype)


def test_arange_float_args_follow_the_default_dtype() -> None:
    mt.set_default_dtype(mt.float64)  # conftest restores float32
    assert mt.arange(0.5, 2).dtype == mt.float64 and mt.arange(2).dtype == mt.int64
    assert mt.linspace(0, 1, 3).dtype == mt.float64


def test_arange_keyword_forms() -> None:
    assert mt.arange(end=3).tolist() == [0, 1, 2]  # as torch.arange(end=3)
    assert mt.arange(start=1, end=3).tolist() == [1, 2]
    assert mt.arange(1, 5, step=2).tolist() == [1, 3]
    assert mt.arange(mt.tensor(3)).tolist() == [0, 1, 2]  # a 0-d tensor is a number
    with pytest.raises(TypeError, match="'end'"):
        mt.arange()


# (function, args, dtype name or None, what PyTorch 2.13 gives)
VALUES: list[tuple[str, tuple[Any, ...], str | None, list[float]]] = [
    ("arange", (0, 1, 0.1), None, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]),
    ("arange", (1, 2.5, 0.5), None, [1.0, 1.5, 2.0]),
    ("arange", (-1, 1, 0.3), None, [-1.0, -0.7, -0.4, -0.1, 0.2, 0.5, 0.8]),
    ("arange", (0, 10, 3), None, [0, 3, 6, 9]),
    ("arange", (10, 0, -3), None, [10, 7, 4, 1]),
    ("arange", (0, 0, -1), None, []),
    ("arange", (0, 5, float("inf")), None, []),
    ("arange", (0, 3, 0.1), None, [i / 10 for i in range(30)]),
    ("arange", (0, 1, 1 / 3), None, [0.0, 1 / 3, 2 / 3]),
    ("arange", (0, 10, 3), "float32", [0.0, 3.0, 6.0, 9.0]),
    ("arange", (1, 2, 0.1), "float16", [1.0, 1.0996, 1.2002, 1.2998, 1.4004, 1.5, 1.5996,
                                        1.7002, 1.7998, 1.9004]),
    # integer dtypes: the arguments are truncated to ints; for int64 the length is computed from
    # the truncated arguments, for other integer dtypes from the exact ones
    ("arange", (0, 5, 1.5), "int64", [0, 1, 2, 3, 4]),
    ("arange", (0, 5, 1.5), "int32", [0, 1, 2, 3]),
    ("arange", (0.5, 5.5, 1.5), "int64", [0, 1, 2, 3, 4]),
    ("arange", (0.5, 5.5, 1.5), "int32", [0, 1, 2, 3]),
    ("arange", (0, 1.5, 1), "int64", [0]),
    ("arange", (0, 1.5, 1), "int32", [0, 1]),
    ("arange", (-2.5, 2.5), "int64", [-2, -1, 0, 1]),
    ("arange", (5, 0, -1.5), "int64", [5, 4, 3, 2, 1]),
    ("arange", (0, 5, 0.5), "int32", [0] * 10),
    ("arange", (0.5, 3), "int8", [0, 1, 2]),
    ("arange", (0, 130, 1), "int8", [*range(128), -128, -127]),  # wraps around, as PyTorch
    ("arange", (0, 5), "uint8", [0, 1, 2, 3, 4]),
    ("linspace", (0, 1, 5), None, [0.0, 0.25, 0.5, 0.75, 1.0]),
    ("linspace", (1, 0, 5), None, [1.0, 0.75, 0.5, 0.25, 0.0]),
    ("linspace", (-1, 1, 5), "float64", [-1.0, -0.5, 0.0, 0.5, 1.0]),
    ("linspace", (0, 1, 10), None, [i / 9 for i in range(10)]),
    ("linspace", (-3.7, 12.2, 33), None, [-3.7 + i * 15.9 / 32 for i in range(33)]),
    ("linspace", (0, 1, 1), None, [0.0]),
    ("linspace", (0, 1, 0), None, []),
    ("linspace", (True, False, 3), None, [1.0, 0.5, 0.0]),
    ("linspace", (0, 1, 5), "float16", [0.0, 0.25, 0.5, 0.75, 1.0]),
    ("linspace", (0, 1, 3), "int64", [0, 0, 1]),
    ("linspace", (0, 10, 4), "int64", [0, 3, 6, 10]),
    ("linspace", (-0.5, 2.7, 5), "int64", [0, 0, 1, 1, 2]),
    ("linspace", (0, 255, 5), "uint8", [0, 63, 127, 191, 255]),
    ("linspace", (-1, 5, 3), "uint8", [255, 130, 5]),  # -1 wraps to 255 first
    ("linspace", (0, 1, 1), "int64", [0]),
    ("linspace", (0, 2**63, 3), None, [0.0, 2.0**62, 2.0**63]),
]


def _close_to(got: np.ndarray, expected: Any, args: tuple[Any, ...]) -> None:
    """Integers exactly; floats to a couple of units in the last place of the range's size."""
    expected = np.asarray(expected, dtype=np.float64).reshape(got.shape)
    if got.dtype.kind != "f":
        np.testing.assert_array_equal(got, expected)
        return
    scale = max([abs(float(a)) for a in args[:2]] + [1e-30])
    atol = 2 * float(np.finfo(got.dtype).eps) * scale
    np.testing.assert_allclose(got.astype(np.float64), expected, rtol=0, atol=atol)


@pytest.mark.parametrize(("fn", "args", "dtype", "expected"),
                         [pytest.param(*row, id=f"{row[0]}{row[1]}-{row[2]}") for row in VALUES])
def test_arange_linspace_values(fn: str, args: tuple[Any, ...], dtype: str | None,
                                expected: list[float]) -> None:
    kwargs = {} if dtype is None else {"dtype": np.dtype(dtype)}
    t = getattr(mt, fn)(*args, **kwargs)
    want = np.dtype(dtype) if dtype else (mt.int64 if fn == "arange" and all(
        isinstance(a, int) for a in args) else mt.float32)
    assert t.dtype == want and t.shape == (len(expected),)
    _close_to(t.numpy(), expected, args)


@needs_torch
@pytest.mark.parametrize(("fn", "args", "dtype"),
                         [pytest.param(*row[:3], id=f"{row[0]}{row[1]}-{row[2]}")
                          for row in VALUES])
def test_arange_linspace_match_torch(fn: str, args: tuple[Any, ...], dtype: str | None) -> None:
    # NOTE: PyTorch's float results depend on the CPU's vector width (it adds i * step to a
    # vector's first value), so floats agree to within rounding and integers exactly.
    ours = getattr(mt, fn)(*args, **({} if dtype is None else {"dtype": np.dtype(dtype)}))
    theirs = getattr(torch, fn)(*args, **({} if dtype is None else {"dtype": _dt(torch, dtype)}))
    assert str(theirs.dtype) == f"torch.{ours.dtype}" and tuple(theirs.shape) == ours.shape
    _close_to(ours.numpy(), theirs.numpy(), args)


@needs_torch
@pytest.mark.parametrize(("fn", "args"), [
    ("arange", (0, 1, 0.01)), ("arange", (-5, 5, 0.1)), ("arange", (0, 1000, 0.37)),
    ("arange", (1e6, 1e6 + 1, 0.001)), ("arange", (0, 100, 0.7)), ("arange", (0.1, 7.3, 0.013)),
    ("linspace", (0, 1, 3000)), ("linspace", (3, 1000, 64)), ("linspace", (0, 10, 1000)),
    ("linspace", (1e-3, 1, 17)), ("linspace", (-1e3, 1e3, 1001)), ("linspace", (1, 100, 2049)),
])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32"])
def test_longer_ranges_match_torch(fn: str, args: tuple[Any, ...], dtype: str) -> None:
    call = getattr(torch, fn)
    try:
        theirs = call(*args, dtype=_dt(torch, dtype))
    except (RuntimeError, ValueError) as e:
        with pytest.raises(type(e)):
            getattr(mt, fn)(*args, dtype=np.dtype(dtype))
        return
    ours = getattr(mt, fn)(*args, dtype=np.dtype(dtype))
    assert str(theirs.dtype) == f"torch.{ours.dtype}" and tuple(theirs.shape) == ours.shape
    _close_to(ours.numpy(), theirs.numpy(), args)


def test_linspace_and_arange_give_inf_and_nan_as_torch() -> None:
    # PyTorch: linspace(nan, 1, 3) and linspace(0, inf, 3) are all nan; float16 past 65504 is inf
    assert np.isnan(mt.linspace(float("nan"), 1, 3).numpy()).all()
    assert np.isnan(mt.linspace(0, float("inf"), 3).numpy()).all()
    assert mt.arange(0, 70000, dtype=np.float16).numpy()[-1] == np.inf
    assert mt.linspace(0, 1, 3, requires_grad=True).requires_grad


def test_accelerator_queries_answer_like_pytorch_without_one() -> None:
    assert mt.accelerator.is_available() is False
    assert mt.accelerator.current_accelerator() is None
    assert mt.accelerator.device_count() == 0
    for fn in (mt.accelerator.current_device_index, mt.accelerator.synchronize):
        with pytest.raises(RuntimeError, match="none is available"):
            fn()
