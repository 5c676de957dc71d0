"""The primitive ops: one ``Function`` subclass each, grouped by kind.

``elementwise`` (arithmetic, activations, floor and friends), ``reduce`` (sum, mean, amax,
var, std, norm, softmax, ...), ``shape`` (reshape, permute, indexing, clone, cat) and
``linalg`` (matmul). Composite ops (``stack``, ``split``, ``add`` with ``alpha``, ...) are
written with these on ``Tensor``.
"""
