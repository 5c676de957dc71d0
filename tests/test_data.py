"""microtensor.utils.data: datasets, samplers, collation and the DataLoader.

Everything that does not involve random numbers is compared with ``torch.utils.data`` where
PyTorch is installed (batches, collation, lengths, errors: with shuffle=False the batches must
be identical); the random parts are tested for being permutations / partitions, for
reproducibility under ``manual_seed`` and generators, and statistically.
"""

from __future__ import annotations

import collections
import importlib
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import microtensor as mt
from microtensor.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)

try:
    import torch
    import torch.utils.data as tud
    from torch.utils.data._utils.collate import default_convert as torch_default_convert
except ImportError:  # pragma: no cover - the PyTorch comparisons skip
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")


def _norm(x: Any) -> Any:
    """A comparable form of a batch from either library."""
    if isinstance(x, mt.Tensor) or (torch is not None and isinstance(x, torch.Tensor)):
        return ("tensor", str(x.dtype).removeprefix("torch."), tuple(x.shape),
                x.detach().numpy().tolist())
    if isinstance(x, dict):
        return ("dict", {k: _norm(v) for k, v in x.items()})
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return ("namedtuple", type(x).__name__, [_norm(v) for v in x])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_norm(v) for v in x])
    if isinstance(x, np.ndarray):
        return ("ndarray", str(x.dtype), x.tolist())
    return ("value", type(x).__name__, x)


def _outcome(fn: Callable[[], Any]) -> Any:
    try:
        return ("value", _norm(fn()))
    except Exception as e:  # noqa: BLE001 - compared by type and message
        return ("error", type(e).__name__, str(e))


# -- imports --------------------------------------------------------------------------------------

def test_import_forms() -> None:
    mod = importlib.import_module("microtensor.utils.data")
    assert mt.utils.data is mod
    assert mod.DataLoader is DataLoader
    assert "utils" in mt.__all__


def test_get_worker_info_is_none_in_process() -> None:
    assert get_worker_info() is None


# -- datasets -------------------------------------------------------------------------------------

X = np.arange(14, dtype=np.float32).reshape(7, 2)
Y = np.arange(7, dtype=np.int64) % 3


def _tensor_dataset(lib: Any) -> Any:
    data = tud if lib is torch else mt.utils.data
    return data.TensorDataset(lib.from_numpy(X.copy()), lib.from_numpy(Y.copy()))


def test_tensor_dataset_items_and_length() -> None:
    ds = _tensor_dataset(mt)
    assert len(ds) == 7
    x, y = ds[3]
    np.testing.assert_array_equal(x.numpy(), X[3])
    assert y.item() == Y[3] and y.dtype == mt.int64 and y.shape == ()
    xs, ys = ds[1:4]
    np.testing.assert_array_equal(xs.numpy(), X[1:4])


def test_tensor_dataset_size_mismatch() -> None:
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(mt.zeros(3), mt.zeros(2))


def test_dataset_base_needs_getitem() -> None:
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
    assert isinstance(Dataset[int], object)  # subscriptable, as PyTorch's is


def test_subset_and_concat() -> None:
    ds = _tensor_dataset(mt)
    sub = Subset(ds, [5, 0, 2])
    assert len(sub) == 3
    np.testing.assert_array_equal(sub[0][0].numpy(), X[5])
    np.testing.assert_array_equal(sub[[0, 2]][0].numpy(), X[[5, 2]])
    both = ds + sub
    assert isinstance(both, ConcatDataset) and len(both) == 10
    np.testing.assert_array_equal(both[7][0].numpy(), X[5])
    np.testing.assert_array_equal(both[-1][0].numpy(), X[2])
    with pytest.raises(ValueError, match="absolute value of index"):
        both[-11]
    with pytest.raises(AssertionError, match="empty iterable"):
        ConcatDataset([])


class Stream(IterableDataset):
    def __init__(self, n: int, with_len: bool = True) -> None:
        self.n = n
        self.with_len = with_len

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.n))

    def __len__(self) -> int:
        if not self.with_len:
            raise TypeError("no len")
        return self.n


def test_chain_and_concat_of_iterables() -> None:
    chained = Stream(3) + Stream(2)
    assert isinstance(chained, ChainDataset)
    assert list(chained) == [0, 1, 2, 0, 1] and len(chained) == 5
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        ConcatDataset([Stream(3)])


# -- collation ------------------------------------------------------------------------------------

Point = collections.namedtuple("Point", "x y")


def _batches(lib: Any) -> list[Any]:
    t = lib.tensor
    return [
        [t([1.0, 2.0]), t([3.0, 4.0])],
        [t(1), t(2), t(3)],
        [t([[1, 2]], dtype=lib.int32), t([[3, 4]], dtype=lib.int32)],
        [t([1.0, 2.0]), t([1, 2])],
        [t([1.0, 2.0]), t([1.0, 2.0, 3.0])],
        [np.array([1, 2], dtype=np.int16), np.array([3, 4], dtype=np.int16)],
        [np.array([1.5]), np.array([2.5])],
        [np.array(["a"])],
        [np.float32(1), np.float32(2)],
        [np.int32(1), np.int32(2)],
        [np.float64(1.5), np.float64(2)],
        [np.bool_(True), np.bool_(False)],
        [1.0, 2.5],
        [1, 2.5],
        [3, 4],
        [True, False],
        ["a", "b"],
        [b"a", b"b"],
        [(1, "a"), (2, "b")],
        [[1, 2], [3, 4]],
        [[1, 2], [3]],
        [{"x": 1, "y": [1.0, 2.0]}, {"x": 2, "y": [3.0, 4.0]}],
        [{"image": np.zeros((2, 2), dtype=np.float32), "label": 3},
         {"image": np.ones((2, 2), dtype=np.float32), "label": 1}],
        [collections.OrderedDict(a=1), collections.OrderedDict(a=2)],
        [Point(1, 2.0), Point(3, 4.0)],
        [(t([1.0]), 0), (t([2.0]), 1)],
        [object()],
        [None],
    ]


@needs_torch
@pytest.mark.parametrize("i", range(len(_batches(mt))))
def test_default_collate_matches_torch(i: int) -> None:
    ours = _outcome(lambda: default_collate(_batches(mt)[i]))
    theirs = _outcome(lambda: tud.default_collate(_batches(torch)[i]))
    if ours[0] == "error":
        assert ours[:2] == theirs[:2]
        if "batch must contain" in theirs[2]:
            assert ours[2] == theirs[2]
    else:
        assert ours == theirs


def _samples(lib: Any) -> list[Any]:
    t = lib.tensor
    return [
        t([1.0, 2.0]),
        np.array([1, 2], dtype=np.int32),
        np.float64(2.0),
        np.array(["a"]),
        3,
        2.5,
        "text",
        (np.array([1.0]), 2),
        [np.float32(1), "a"],
        {"a": np.array([1, 2]), "b": (1, 2)},
        Point(np.array([1]), 2),
    ]


@needs_torch
@pytest.mark.parametrize("i", range(len(_samples(mt))))
def test_default_convert_matches_torch(i: int) -> None:
    assert _outcome(lambda: default_convert(_samples(mt)[i])) == _outcome(
        lambda: torch_default_convert(_samples(torch)[i]))


def test_default_collate_hand_checked() -> None:
    batch = default_collate([(mt.tensor([1.0, 2.0]), 0), (mt.tensor([3.0, 4.0]), 1)])
    assert isinstance(batch, list) and len(batch) == 2
    np.testing.assert_array_equal(batch[0].numpy(), [[1, 2], [3, 4]])
    assert batch[1].dtype == mt.int64 and batch[1].tolist() == [0, 1]
    assert default_collate([1.0, 2.0]).dtype == mt.float64  # Python floats: float64
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([mt.zeros(2), mt.zeros(3)])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
        default_collate([[1, 2], [3]])


# -- DataLoader: batches identical to PyTorch's without shuffling ---------------------------------

class Squares(Dataset):
    """A map-style dataset of (x, x**2, {"i": i}) tuples, made of Python numbers."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __getitem__(self, i: int) -> Any:
        if not 0 <= i < self.n:
            raise IndexError(i)
        return float(i), i * i, {"i": i, "name": f"s{i}"}

    def __len__(self) -> int:
        return self.n


class Batched(Squares):
    """Adds ``__getitems__``: the loader must call it once per batch."""

    calls = 0

    def __getitems__(self, indices: list[int]) -> list[Any]:
        type(self).calls += 1
        return [self[i] for i in indices]


LOADERS: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("tensor_default", lambda lib, d: d.DataLoader(_tensor_dataset(lib))),
    ("tensor_bs3", lambda lib, d: d.DataLoader(_tensor_dataset(lib), batch_size=3)),
    ("tensor_bs3_drop", lambda lib, d: d.DataLoader(_tensor_dataset(lib), batch_size=3,
                                                      drop_last=True)),
    ("tensor_bs7", lambda lib, d: d.DataLoader(_tensor_dataset(lib), batch_size=7,
                                                 drop_last=True)),
    ("tensor_bs8_drop", lambda lib, d: d.DataLoader(_tensor_dataset(lib), batch_size=8,
                                                      drop_last=True)),
    ("tensor_none", lambda lib, d: d.DataLoader(_tensor_dataset(lib), batch_size=None)),
    ("tensor_shuffle_false", lambda lib, d: d.DataLoader(_tensor_dataset(lib), batch_size=2,
                                                           shuffle=False)),
    ("python_numbers", lambda lib, d: d.DataLoader(Squares(5), batch_size=2)),
    ("python_none", lambda lib, d: d.DataLoader(Squares(3), batch_size=None)),
    ("getitems", lambda lib, d: d.DataLoader(Batched(5), batch_size=2)),
    ("list_dataset", lambda lib, d: d.DataLoader([1, 2, 3, 4, 5], batch_size=2)),
    ("numpy_dataset", lambda lib, d: d.DataLoader(list(X), batch_size=3)),
    ("sampler", lambda lib, d: d.DataLoader(_tensor_dataset(lib), sampler=[6, 0, 3, 3],
                                              batch_size=3)),
    ("sampler_object", lambda lib, d: d.DataLoader(
        _tensor_dataset(lib), sampler=d.SequentialSampler(range(5)), batch_size=2)),
    ("batch_sampler", lambda lib, d: d.DataLoader(_tensor_dataset(lib),
                                                    batch_sampler=[[2, 0], [1], [6, 5, 4]])),
    ("batch_sampler_object", lambda lib, d: d.DataLoader(
        _tensor_dataset(lib), batch_sampler=d.BatchSampler(range(7), 4, False))),
    ("collate_fn", lambda lib, d: d.DataLoader(Squares(5), batch_size=2,
                                                 collate_fn=lambda b: [s[1] for s in b])),
    ("collate_fn_none", lambda lib, d: d.DataLoader(Squares(3), batch_size=None,
                                                      collate_fn=lambda s: s[0])),
    ("workers", lambda lib, d: d.DataLoader(_tensor_dataset(lib), batch_size=4,
                                              num_workers=2)),
    ("subset", lambda lib, d: d.DataLoader(d.Subset(_tensor_dataset(lib), [4, 1, 5]),
                                             batch_size=2)),
    ("subset_getitems", lambda lib, d: d.DataLoader(d.Subset(Batched(6), [4, 1, 5]),
                                                      batch_size=2)),
    ("concat", lambda lib, d: d.DataLoader(_tensor_dataset(lib) + _tensor_dataset(lib),
                                             batch_size=5)),
    ("iterable", lambda lib, d: d.DataLoader(IterStream(lib, 7), batch_size=3)),
    ("iterable_drop", lambda lib, d: d.DataLoader(IterStream(lib, 7), batch_size=3,
                                                    drop_last=True)),
    ("iterable_exact", lambda lib, d: d.DataLoader(IterStream(lib, 6), batch_size=3)),
    ("iterable_none", lambda lib, d: d.DataLoader(IterStream(lib, 3), batch_size=None)),
    ("iterable_empty", lambda lib, d: d.DataLoader(IterStream(lib, 0), batch_size=2)),
]


def IterStream(lib: Any, n: int) -> Any:  # noqa: N802 - a class factory for both libraries
    base = tud.IterableDataset if lib is torch else IterableDataset

    class _Stream(base):  # type: ignore[misc, valid-type]
        def __iter__(self) -> Iterator[Any]:
            return iter([(float(i), [i, -i]) for i in range(n)])

        def __len__(self) -> int:
            return n

    return _Stream()


@needs_torch
@pytest.mark.parametrize("make", [m for _, m in LOADERS], ids=[n for n, _ in LOADERS])
def test_dataloader_batches_and_len_match_torch(make: Callable[[Any, Any], Any]) -> None:
    ours = make(mt, mt.utils.data)
    theirs = make(torch, tud)
    assert len(ours) == len(theirs)
    assert _norm(list(ours)) == _norm(list(theirs))
    assert _norm(list(ours)) == _norm(list(theirs))  # a second epoch: the same again


def test_getitems_is_called_once_per_batch() -> None:
    Batched.calls = 0
    batches = list(DataLoader(Batched(5), batch_size=2))
    assert Batched.calls == 3 and len(batches) == 3


def test_iterable_dataset_without_len() -> None:
    loader = DataLoader(Stream(5, with_len=False), batch_size=2)
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    with pytest.raises(TypeError):
        len(loader)


# -- DataLoader: errors ---------------------------------------------------------------------------

ERRORS: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("bs0", lambda lib, d: d.DataLoader(_tensor_dataset(lib), batch_size=0)),
    ("bs_neg", lambda lib, d: d.DataLoader(_tensor_dataset(lib), batch_size=-1)),
    ("bs_float", lambda lib, d: d.DataLoader(_tensor_dataset(lib), batch_size=2.0)),
    ("bs_bool", lambda lib, d: d.DataLoader(_tensor_dataset(lib), batch_size=True)),
    ("drop_last_int", lambda lib, d: d.DataLoader(_tensor_dataset(lib), drop_last=1)),
    ("shuffle_sampler", lambda lib, d: d.DataLoader(_tensor_dataset(lib), shuffle=True,
                                                      sampler=[0, 1])),
    ("none_drop_last", lambda lib, d: d.DataLoader(_tensor_dataset(lib), batch_size=None,
                                                     drop_last=True)),
    ("batch_sampler_bs", lambda lib, d: d.DataLoader(_tensor_dataset(lib), batch_size=2,
                                                       batch_sampler=[[0]])),
    ("batch_sampler_shuffle", lambda lib, d: d.DataLoader(_tensor_dataset(lib), shuffle=True,
                                                            batch_sampler=[[0]])),
    ("batch_sampler_sampler", lambda lib, d: d.DataLoader(_tensor_dataset(lib), sampler=[0],
                                                            batch_sampler=[[0]])),
    ("batch_sampler_drop", lambda lib, d: d.DataLoader(_tensor_dataset(lib), drop_last=True,
                                                         batch_sampler=[[0]])),
    ("workers_neg", lambda lib, d: d.DataLoader([1], num_workers=-1)),
    ("timeout_neg", lambda lib, d: d.DataLoader([1], timeout=-1)),
    ("persistent", lambda lib, d: d.DataLoader([1], persistent_workers=True)),
    ("prefetch", lambda lib, d: d.DataLoader([1], prefetch_factor=2)),
    ("prefetch_neg", lambda lib, d: d.DataLoader([1], num_workers=1, prefetch_factor=-1)),
    ("mp_context", lambda lib, d: d.DataLoader([1], multiprocessing_context="spawn")),
    ("iterable_shuffle", lambda lib, d: d.DataLoader(IterStream(lib, 3), shuffle=True)),
    ("iterable_sampler", lambda lib, d: d.DataLoader(IterStream(lib, 3), sampler=[0])),
    ("iterable_batch_sampler", lambda lib, d: d.DataLoader(IterStream(lib, 3),
                                                             batch_sampler=[[0]])),
    ("set_batch_size", lambda lib, d: setattr(d.DataLoader([1]), "batch_size", 3)),
    ("set_sampler", lambda lib, d: setattr(d.DataLoader([1]), "sampler", [0])),
    ("set_dataset", lambda lib, d: setattr(d.DataLoader([1]), "dataset", [2])),
    ("set_collate_fn", lambda lib, d: setattr(d.DataLoader([1]), "collate_fn", len)),
    ("unequal_sizes", lambda lib, d: list(d.DataLoader([lib.zeros(2), lib.zeros(3)],
                                                         batch_size=2))),
    ("random_sampler_replacement", lambda lib, d: d.RandomSampler([1, 2], replacement=1)),
    ("random_sampler_num0", lambda lib, d: d.RandomSampler([1, 2], num_samples=0)),
    ("random_sampler_empty", lambda lib, d: d.RandomSampler([])),
    ("random_sampler_float", lambda lib, d: d.RandomSampler([1, 2], num_samples=1.5)),
    ("batch_sampler_bs0", lambda lib, d: d.BatchSampler([0, 1], 0, False)),
    ("batch_sampler_drop_none", lambda lib, d: d.BatchSampler([0, 1], 1, None)),
    ("weighted_2d", lambda lib, d: d.WeightedRandomSampler([[1.0, 2.0]], 2)),
    ("weighted_num", lambda lib, d: d.WeightedRandomSampler([1.0, 2.0], 0)),
    ("weighted_replacement", lambda lib, d: d.WeightedRandomSampler([1.0, 2.0], 1, 0)),
    ("weighted_too_many", lambda lib, d: list(d.WeightedRandomSampler([1.0, 2.0], 3, False))),
    ("split_sum", lambda lib, d: d.random_split(range(10), [3, 3])),
    ("split_fraction", lambda lib, d: d.random_split(range(10), [1.5, -0.5])),
    ("split_fractions_over", lambda lib, d: d.random_split(range(10), [0.5, 0.6])),
]


@needs_torch
@pytest.mark.parametrize("make", [m for _, m in ERRORS], ids=[n for n, _ in ERRORS])
def test_errors_match_torch(make: Callable[[Any, Any], Any]) -> None:
    ours = _outcome(lambda: make(mt, mt.utils.data))
    theirs = _outcome(lambda: make(torch, tud))
    assert ours[0] == theirs[0] == "error" or ours == theirs
    assert ours[1] == theirs[1]
    if theirs[1] in ("ValueError", "TypeError") and "got" not in theirs[2]:
        assert ours[2] == theirs[2]  # PyTorch's wording (messages without object reprs)


# -- shuffling, samplers and random_split ---------------------------------------------------------

def _epoch(loader: DataLoader) -> list[int]:
    return [int(v) for batch in loader for v in batch[1].tolist()]


def test_shuffle_gives_a_new_permutation_each_epoch() -> None:
    ds = TensorDataset(mt.zeros(50, 1), mt.arange(50))
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    assert len(loader) == 7
    first, second = _epoch(loader), _epoch(loader)
    assert sorted(first) == sorted(second) == list(range(50))
    assert first != second and first != list(range(50))


def test_shuffle_is_reproducible_after_manual_seed() -> None:
    ds = TensorDataset(mt.arange(20.0), mt.arange(20))
    mt.manual_seed(3)
    a = _epoch(DataLoader(ds, batch_size=4, shuffle=True))
    mt.manual_seed(3)
    assert _epoch(DataLoader(ds, batch_size=4, shuffle=True)) == a


def test_shuffle_with_a_generator_is_reproducible_and_leaves_the_default_alone() -> None:
    ds = TensorDataset(mt.arange(20.0), mt.arange(20))
    state = mt.get_rng_state()
    a = _epoch(DataLoader(ds, batch_size=4, shuffle=True, generator=mt.Generator().manual_seed(1)))
    b = _epoch(DataLoader(ds, batch_size=4, shuffle=True, generator=mt.Generator().manual_seed(1)))
    assert a == b and sorted(a) == list(range(20))
    np.testing.assert_array_equal(mt.get_rng_state().numpy(), state.numpy())


def test_shuffle_orders_are_uniform() -> None:
    """Over many epochs every index is equally likely in the first position."""
    mt.manual_seed(0)
    loader = DataLoader(list(range(5)), batch_size=5, shuffle=True)
    firsts = np.array([next(iter(loader))[0].item() for _ in range(5000)])
    np.testing.assert_allclose(np.bincount(firsts, minlength=5) / 5000, [0.2] * 5, atol=0.025)


def test_random_sampler_options() -> None:
    g = mt.Generator().manual_seed(5)
    s = RandomSampler(range(4), num_samples=10, generator=g)
    draw = list(s)
    assert len(s) == 10 and len(draw) == 10
    assert sorted(draw[:4]) == sorted(draw[4:8]) == [0, 1, 2, 3]  # whole permutations first
    assert len(set(draw[8:])) == 2
    r = RandomSampler(range(3), replacement=True, num_samples=3000, generator=g)
    counts = np.bincount(list(r), minlength=3)
    assert len(r) == 3000 and np.all(np.abs(counts / 3000 - 1 / 3) < 0.03)
    assert list(SequentialSampler(range(3))) == [0, 1, 2]


def test_subset_random_and_weighted_samplers() -> None:
    g = mt.Generator().manual_seed(6)
    s = SubsetRandomSampler([10, 20, 30], generator=g)
    assert len(s) == 3 and sorted(s) == [10, 20, 30]
    w = WeightedRandomSampler([0.0, 1.0, 3.0], 8000, generator=g)
    counts = np.bincount(list(w), minlength=3) / 8000
    assert len(w) == 8000
    np.testing.assert_allclose(counts, [0.0, 0.25, 0.75], atol=0.02)
    no_rep = list(WeightedRandomSampler(mt.tensor([1.0, 1.0, 5.0]), 3, replacement=False,
                                        generator=g))
    assert sorted(no_rep) == [0, 1, 2]


@needs_torch
@pytest.mark.parametrize(("n", "bs", "drop"), [(7, 3, False), (7, 3, True), (6, 3, True),
                                                 (2, 5, False), (2, 5, True), (0, 2, False)])
def test_batch_sampler_matches_torch(n: int, bs: int, drop: bool) -> None:
    ours = BatchSampler(SequentialSampler(range(n)), bs, drop)
    theirs = tud.BatchSampler(tud.SequentialSampler(range(n)), bs, drop)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


@needs_torch
@pytest.mark.parametrize("lengths", [[3, 7], [10], [0, 10], [0.3, 0.7], [0.5, 0.5],
                                     [0.33, 0.33, 0.34], [0.1] * 10, [1 / 3] * 3, [0.25] * 4,
                                     [0.9, 0.1], [1.0]])
@pytest.mark.parametrize("n", [10, 11, 3])
def test_random_split_sizes_match_torch(lengths: list[Any], n: int) -> None:
    def run(lib: Any, d: Any) -> Any:
        import warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sizes = [len(s) for s in d.random_split(range(n), lengths,
                                                    generator=lib.Generator().manual_seed(0))]
        return sizes, [str(w.message) for w in caught]

    assert _outcome(lambda: run(mt, mt.utils.data)) == _outcome(lambda: run(torch, tud))


def test_random_split_is_a_partition_and_reproducible() -> None:
    ds = list(range(100, 120))
    parts = random_split(ds, [0.5, 0.3, 0.2], generator=mt.Generator().manual_seed(9))
    assert [len(p) for p in parts] == [10, 6, 4]
    items = [p[i] for p in parts for i in range(len(p))]
    assert sorted(items) == ds and items != ds
    again = random_split(ds, [10, 6, 4], generator=mt.Generator().manual_seed(9))
    assert [list(p.indices) for p in again] == [list(p.indices) for p in parts]
    mt.manual_seed(4)
    a = [list(p.indices) for p in random_split(ds, [5, 15])]
    mt.manual_seed(4)
    assert [list(p.indices) for p in random_split(ds, [5, 15])] == a


def test_random_split_warns_on_an_empty_split() -> None:
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(1), [1.0, 0.0])


def test_training_loop_with_a_dataloader() -> None:
    """A linear regression trained by minibatches reaches the true weights."""
    g = mt.Generator().manual_seed(0)
    x = mt.randn(256, 3, generator=g)
    w_true = mt.tensor([[1.5], [-2.0], [0.5]])
    y = x @ w_true + 0.25
    train, _ = random_split(TensorDataset(x, y), [0.75, 0.25], generator=g)
    loader = DataLoader(train, batch_size=32, shuffle=True, generator=g)
    model = mt.nn.Linear(3, 1)
    opt = mt.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(30):
        for xb, yb in loader:
            opt.zero_grad()
            mt.nn.functional.mse_loss(model(xb), yb).backward()
            opt.step()
    np.testing.assert_allclose(model.weight.detach().numpy(), w_true.numpy().T, atol=1e-3)
    assert math.isclose(model.bias.item(), 0.25, abs_tol=1e-3)
