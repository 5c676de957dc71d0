"""``microtensor.diagnose``: why a network does not learn, with the evidence and the fix.

>>> from microtensor import diagnose
>>> report = diagnose.check(model, loss_fn, inputs, targets, optimizer=opt)  # doctest: +SKIP
>>> print(report)                                                             # doctest: +SKIP
>>> with diagnose.watch(model, opt) as doctor:    # around the user's own loop  # doctest: +SKIP
...     train(model, opt)                                                       # doctest: +SKIP
>>> print(doctor.report())                                                    # doctest: +SKIP

Files: ``findings.py`` (``Finding`` and the vocabulary of codes), ``report.py`` (``Report``),
``trace.py`` (one forward/backward pass read from the graph), ``static.py`` (checks without
training), ``probe.py`` (short training runs on copies), ``check.py`` (the entry point),
``watch.py`` (hooks that diagnose the user's own training loop while it runs).
"""

from .check import check
from .findings import CODES, HINT, PROBLEM, Finding
from .report import Report
from .watch import Watch, watch

__all__ = ["CODES", "HINT", "PROBLEM", "Finding", "Report", "Watch", "check", "watch"]
