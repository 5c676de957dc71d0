"""The primitive ops: one ``Function`` subclass each, grouped by kind.

``elementwise`` (arithmetic, activations), ``reduce`` (sum, amax, softmax, ...), ``shape``
(reshape, permute, indexing, cat) and ``linalg`` (matmul). Composite ops (``mean``, ``var``,
``stack``, ...) are written with these on ``Tensor``.
"""
