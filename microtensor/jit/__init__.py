"""``microtensor.compile``: record a training step, replay it as straight-line NumPy.

``record.py`` records a call (the events), ``codegen.py`` compares two recordings and writes the
replay function, ``compiled.py`` holds the guards and the fallback to eager.
"""

from .compiled import CompiledStep, compile

__all__ = ["CompiledStep", "compile"]
