"""Every public name has a docstring that says what it computes.

Public names are those in ``__all__`` of ``microtensor`` and of its ``nn``, ``optim``,
``autograd`` and ``viz`` modules, plus the functions and classes of ``nn.functional``,
``nn.init`` and ``optim.lr_scheduler``. Public classes defined in microtensor are also checked
method by method: a method may inherit its docstring from the base class it overrides.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import microtensor as mt
from microtensor import autograd, nn, optim, viz

MODULES_WITH_ALL = [mt, nn, optim, autograd, viz]
MODULES_WITHOUT_ALL = [nn.functional, nn.init, optim.lr_scheduler]


def _own_doc(obj: Any) -> str:
    """The object's own docstring (for a class, not one inherited from a base class)."""
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    return (doc or "").strip()


def _public_names() -> list[tuple[str, Any]]:
    names = []
    for module in MODULES_WITH_ALL:
        assert hasattr(module, "__all__"), f"{module.__name__} has no __all__"
        names += [(f"{module.__name__}.{n}", getattr(module, n)) for n in module.__all__]
    for module in MODULES_WITHOUT_ALL:
        names += [(f"{module.__name__}.{n}", obj) for n, obj in vars(module).items()
                  if not n.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
                  and obj.__module__ == module.__name__]
    return names


PUBLIC = _public_names()


def _is_ours(cls: type) -> bool:
    return cls.__module__.startswith("microtensor")


@pytest.mark.parametrize(("name", "obj"), PUBLIC, ids=[n for n, _ in PUBLIC])
def test_public_name_has_docstring(name: str, obj: Any) -> None:
    assert _own_doc(obj), f"{name} has no docstring"


def _public_methods() -> list[tuple[str, Any]]:
    seen: set[int] = set()
    methods = []
    for name, cls in PUBLIC:
        if not inspect.isclass(cls) or not _is_ours(cls) or id(cls) in seen:
            continue
        seen.add(id(cls))
        for attr, value in vars(cls).items():
            if attr.startswith("_"):
                continue
            func = value.fget if isinstance(value, property) else getattr(value, "__func__",
                                                                          value)
            if inspect.isfunction(func):
                methods.append((f"{name}.{attr}", (cls, attr, func)))
    return methods


METHODS = _public_methods()


@pytest.mark.parametrize(("name", "method"), METHODS, ids=[n for n, _ in METHODS])
def test_public_method_has_docstring(name: str, method: tuple[type, str, Any]) -> None:
    cls, attr, func = method
    if (func.__doc__ or "").strip():
        return
    # An override may rely on the docstring of the method it overrides (e.g. extra_repr).
    inherited = [inspect.getdoc(getattr(base, attr)) for base in cls.__mro__[1:]
                 if attr in vars(base)]
    assert any(inherited), f"{name} has no docstring, and overrides nothing documented"


def test_the_check_covers_the_api() -> None:
    # Guard against the lists above silently shrinking (e.g. a module losing its __all__).
    names = {n for n, _ in PUBLIC}
    for expected in ["microtensor.Tensor", "microtensor.tensor", "microtensor.no_grad",
                     "microtensor.nn.Linear", "microtensor.nn.functional.cross_entropy",
                     "microtensor.nn.init.kaiming_uniform_", "microtensor.optim.Adam",
                     "microtensor.optim.lr_scheduler.StepLR", "microtensor.autograd.Function",
                     "microtensor.autograd.gradcheck", "microtensor.viz.save_graph"]:
        assert expected in names
    assert len(METHODS) > 100  # Tensor alone has more than 100 public methods
