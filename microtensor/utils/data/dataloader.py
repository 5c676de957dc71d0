"""``DataLoader``: batches of samples from a dataset, in the order a sampler gives.

Loading happens in the calling process: ``num_workers`` is checked as PyTorch checks it, but
no worker processes are started (so ``worker_init_fn`` is not called, and
``get_worker_info()`` is always None).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, Protocol, TypeVar

from ...random import Generator
from .collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

T_co = TypeVar("T_co", covariant=True)


class _Indexable(Protocol[T_co]):
    """What a DataLoader loads from: ``dataset[index]`` (a Dataset, a list, a tensor, ...)."""

    def __getitem__(self, index: Any, /) -> T_co: ...


# Attributes that cannot change once the loader exists (PyTorch's rule).
_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
           "persistent_workers")


def get_worker_info() -> None:
    """Information about the current worker process: None, since microtensor loads batches in
    the calling process (PyTorch returns None there too)."""
    return None


class _InfiniteConstantSampler(Sampler[Any]):
    """The sampler of an IterableDataset: None forever (the dataset decides what comes)."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


class DataLoader(Generic[T_co]):
    """Iterate over ``dataset`` in batches (PyTorch's ``torch.utils.data.DataLoader``).

    Args:
        dataset: a map-style dataset (``__getitem__``, ``__len__``: a ``Dataset``, a list, ...)
            or an ``IterableDataset``.
        batch_size: samples per batch (1 by default); None turns batching off: each sample is
            converted with ``default_convert`` instead of collated.
        shuffle: a new random order every epoch (a ``RandomSampler``).
        sampler: the order of the indices (exclusive with ``shuffle``).
        batch_sampler: yields whole lists of indices (exclusive with ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``).
        num_workers: accepted (must be >= 0), but batches are always loaded in this process.
        collate_fn: turns a list of samples into a batch (``default_collate`` by default).
        pin_memory: accepted and ignored (there is no accelerator).
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        timeout, worker_init_fn, multiprocessing_context, prefetch_factor, persistent_workers,
            pin_memory_device, in_order: accepted and checked as in PyTorch; without worker
            processes they have no effect.
        generator: the generator the ``RandomSampler`` of ``shuffle=True`` draws from.

    Raises:
        ValueError: conflicting options, with PyTorch's messages.
    """

    def __init__(self, dataset: Dataset[T_co] | _Indexable[T_co], batch_size: int | None = 1,
                 shuffle: bool | None = None, sampler: Sampler[Any] | Iterable[Any] | None = None,
                 batch_sampler: Sampler[Any] | Iterable[Any] | None = None,
                 num_workers: int = 0, collate_fn: Callable[[Any], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError(f"multiprocessing_context can only be used with multi-process "
                             f"loading (num_workers > 0), but got num_workers={num_workers}")

        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if isinstance(shuffle, bool) and shuffle:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            # (a map-style dataset has a __len__, which the Dataset base class cannot declare)
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)  # type: ignore[arg-type]
            else:
                sampler = SequentialSampler(dataset)  # type: ignore[arg-type]
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.persistent_workers = persistent_workers
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn: Callable[[Any], Any] = collate_fn
        self._iterable = iterable
        self._initialized = True

    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, "_initialized", False) and name in _FROZEN:
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> Iterator[Any]:
        """One epoch: the batches, each made by ``collate_fn``."""
        if self._iterable:
            return self._iterate_stream()
        return self._iterate_map()

    def _iterate_map(self) -> Iterator[Any]:
        dataset = self.dataset
        getitems: Callable[[list[Any]], list[Any]] | None = getattr(dataset, "__getitems__",
                                                                    None)
        batch_sampler = self.batch_sampler
        if batch_sampler is None:  # (not self._auto_collation)
            for index in self.sampler:
                yield self.collate_fn(dataset[index])
            return
        for indices in batch_sampler:
            if callable(getitems):
                samples = getitems(indices)
            else:
                samples = [dataset[i] for i in indices]
            yield self.collate_fn(samples)

    def _iterate_stream(self) -> Iterator[Any]:
        stream = iter(self.dataset)
        if not self._auto_collation:
            for sample in stream:
                yield self.collate_fn(sample)
            return
        size = self.batch_size
        while True:
            samples = []
            for sample in stream:
                samples.append(sample)
                if len(samples) == size:
                    break
            if not samples or (self.drop_last and len(samples) < size):  # type: ignore[operator]
                return
            yield self.collate_fn(samples)
            if len(samples) < size:  # type: ignore[operator]
                return

    def __len__(self) -> int:
        """The number of batches in an epoch (for an IterableDataset, from its ``len``)."""
        if self._iterable:
            length = len(self.dataset)  # type: ignore[arg-type]
            if self.batch_size is not None:
                if self.drop_last:
                    return length // self.batch_size
                return -(-length // self.batch_size)
            return length
        return len(self._index_sampler)
