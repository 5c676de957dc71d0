"""Vectorised special functions that NumPy lacks: ``erf``, ``erfc`` and ``erfinv`` in float64.

Accurate to a few units in the last place (about 2e-15 relative, checked against Python's
``math.erf``/``math.erfc`` and SciPy in the tests), with no Python loop over elements.

Two definitions, slow but accurate, are evaluated at import only, to build the tables of the
fast evaluation:

* the series erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (1 * 3 * ... * (2n+1)), whose
  terms are all positive (no cancellation);
* the continued fraction erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x +
  ...)))), evaluated from the bottom up.

The fast evaluation, on whole arrays:

* |x| < 0.5: erf(x) = x * P(x^2), P the Taylor polynomial (13 terms), by Horner's rule;
* 0.5 <= |x| < 6: erfcx(x) = exp(x^2) erfc(x), smooth and slowly varying, by Chebyshev
  interpolants of degree 10 on 22 pieces of width 0.25 (their coefficients computed at import
  from the definitions above), then erfc(x) = exp(-x^2) erfcx(x) and erf(x) = 1 - erfc(x);
* |x| >= 6: the continued fraction (30 levels);
* erfc(-x) = 2 - erfc(x), erf(-x) = -erf(x).

``erfinv(y)`` starts from M. Giles' single-precision polynomial approximation ("Approximating
the erfinv function", GPU Computing Gems, 2011) and takes Halley steps on erf(x) = y, with the
residual taken through erfc where |y| > 0.5 so that it stays accurate near |y| = 1.
"""

from __future__ import annotations

import math

import numpy as np

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# -- the definitions (slow, accurate): the tables are computed from them --------------------------


def _erf_series(x: np.ndarray) -> np.ndarray:
    """erf(x) by its series of positive terms (about 30 terms at |x| = 1)."""
    x2 = x * x
    term = x.copy()
    total = x.copy()
    n = 0
    while True:  # a loop over terms (whole arrays), until every term is below rounding
        n += 1
        term *= x2 * (2.0 / (2 * n + 1))
        total += term
        if not (np.abs(term) > np.abs(total) * 1e-17).any():
            break
    return _TWO_OVER_SQRT_PI * np.exp(-x2) * total


def _erfc_fraction(x: np.ndarray, depth: int | None = None) -> np.ndarray:
    """erfc(x) for x >= 0.75 by its continued fraction, which converges more slowly near 0: 400
    levels below x = 1.5, 120 below 2, 60 above (each to about 5e-16), or ``depth`` levels."""
    x = np.minimum(x, 30.0)  # erfc(30) underflows to 0 anyway; keeps x * x finite
    f = np.empty_like(x)
    ranges = ((0.0, np.inf, depth),) if depth else ((0.0, 1.5, 400), (1.5, 2.0, 120),
                                                     (2.0, np.inf, 60))
    for lo, hi, levels in ranges:
        part = (x >= lo) & (x < hi)
        if part.any():
            xp = x[part]
            fp = xp.copy()
            for k in range(levels, 0, -1):  # a loop over levels, on whole arrays
                fp = xp + (k / 2.0) / fp
            f[part] = fp
    return _exp_minus_square(x) / (math.sqrt(math.pi) * f)


def _exp_minus_square(x: np.ndarray) -> np.ndarray:
    """exp(-x^2) without the rounding error of x * x, which exp magnifies by x^2 (Cephes'
    trick): x = z + d with z a multiple of 1/16, so z * z is exact, and
    exp(-x^2) = exp(-z^2) exp(-d (x + z))."""
    z = np.round(x * 16.0) / 16.0
    return np.exp(-z * z) * np.exp(-(x - z) * (x + z))


# -- the fast evaluation ----------------------------------------------------------------------

_SMALL = 0.5  # Taylor below, Chebyshev pieces above
_WIDTH = 0.25
_PIECES = 22  # [0.5, 6)
_LARGE = _SMALL + _WIDTH * _PIECES
_DEGREE = 10
# erf(x) / x = 2/sqrt(pi) sum_n (-1)^n x^(2n) / (n! (2n+1)): 13 terms are exact to 1e-17 at 0.5
_TAYLOR = [_TWO_OVER_SQRT_PI * (-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(13)]


def _erfcx_reference(x: np.ndarray) -> np.ndarray:
    """exp(x^2) erfc(x) for x >= 0.5 from the definitions (for the tables)."""
    erfc_x = np.where(x < 0.75, 1.0 - _erf_series(np.minimum(x, 0.75)),
                      _erfc_fraction(np.maximum(x, 0.75)))
    return erfc_x / _exp_minus_square(x)


def _chebyshev_table() -> np.ndarray:
    """The Chebyshev coefficients of erfcx on each piece, one row per coefficient: interpolation
    at the Chebyshev points, c_k = 2/n sum_j f(x_j) cos(k theta_j) (c_0 halved)."""
    n = _DEGREE + 1
    theta = np.pi * (np.arange(n) + 0.5) / n
    cosines = np.cos(np.outer(np.arange(n), theta))
    lows = _SMALL + _WIDTH * np.arange(_PIECES)
    nodes = (lows + _WIDTH / 2)[:, None] + (_WIDTH / 2) * np.cos(theta)[None, :]
    values = _erfcx_reference(nodes.ravel()).reshape(_PIECES, n)
    coefficients = values @ cosines.T * (2.0 / n)
    coefficients[:, 0] /= 2
    return np.ascontiguousarray(coefficients.T)


_CHEBYSHEV = _chebyshev_table()
_EXP_SQUARES = np.exp(-(np.arange(16 * _LARGE + 1) / 16.0) ** 2)  # exp(-z^2), z = k / 16


def _erf_small(x: np.ndarray) -> np.ndarray:
    """erf(x) for |x| < 0.5 by its Taylor polynomial (Horner's rule in x^2)."""
    x2 = x * x
    p = np.full_like(x, _TAYLOR[-1])
    for c in reversed(_TAYLOR[:-1]):
        p *= x2
        p += c
    return x * p


def _erfcx(x: np.ndarray) -> np.ndarray:
    """exp(x^2) erfc(x) for 0.5 <= x < 6: the piece's Chebyshev series by Clenshaw's rule."""
    piece = np.minimum(((x - _SMALL) * (1 / _WIDTH)).astype(np.intp), _PIECES - 1)
    t = (x - (_SMALL + _WIDTH / 2) - piece * _WIDTH) * (2 / _WIDTH)  # in [-1, 1]
    t2 = t + t
    b1, b2 = _CHEBYSHEV[_DEGREE][piece], np.zeros_like(x)
    for k in range(_DEGREE - 1, 0, -1):  # a loop over coefficients, on whole arrays
        b = t2 * b1
        b -= b2
        b += _CHEBYSHEV[k][piece]
        b1, b2 = b, b1
    return _CHEBYSHEV[0][piece] + t * b1 - b2


def _erfc_positive(x: np.ndarray) -> np.ndarray:
    """erfc(x) for x >= 0.5 (relative accuracy kept down to the underflow near x = 26.5)."""
    mid = x < _LARGE
    out = np.empty_like(x)
    xm = x[mid]
    k = np.rint(xm * 16.0)  # exp(-x^2) as in _exp_minus_square, exp(-z^2) from a table
    z = k * (1 / 16)
    out[mid] = _EXP_SQUARES[k.astype(np.intp)] * np.exp((z - xm) * (xm + z)) * _erfcx(xm)
    out[~mid] = _erfc_fraction(x[~mid], depth=30)
    return out


def erf(x: np.ndarray) -> np.ndarray:
    """The error function 2/sqrt(pi) * integral_0^x exp(-t^2) dt, elementwise, in x's dtype."""
    a = np.asarray(x, dtype=np.float64)
    ax = np.abs(a)
    small = ax < _SMALL
    out = np.empty_like(a)
    out[small] = _erf_small(a[small])
    big = ~small & ~np.isnan(a)
    out[big] = np.copysign(1.0 - _erfc_positive(ax[big]), a[big])
    out[np.isnan(a)] = np.nan
    return out.astype(np.result_type(x, np.float16), copy=False)


def erfc(x: np.ndarray) -> np.ndarray:
    """The complementary error function 1 - erf(x), accurate where it is tiny (large x)."""
    a = np.asarray(x, dtype=np.float64)
    ax = np.abs(a)
    small = ax < _SMALL
    out = np.empty_like(a)
    out[small] = 1.0 - _erf_small(a[small])
    big = ~small & ~np.isnan(a)
    tail = _erfc_positive(ax[big])
    out[big] = np.where(a[big] > 0, tail, 2.0 - tail)
    out[np.isnan(a)] = np.nan
    return out.astype(np.result_type(x, np.float16), copy=False)


# -- erfinv ----------------------------------------------------------------------------------------

def _giles(y: np.ndarray) -> np.ndarray:
    """erfinv(y) to about 1e-7 relative (Giles' single-precision polynomials), |y| < 1."""
    with np.errstate(divide="ignore"):
        w = -np.log((1.0 - y) * (1.0 + y))
    central = w < 5.0
    wc = w - 2.5
    p = np.full_like(y, 2.81022636e-08)
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p = c + p * wc
    wt = np.sqrt(np.maximum(w, 5.0)) - 3.0
    q = np.full_like(y, -0.000200214257)
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        q = c + q * wt
    return np.where(central, p, q) * y


def erfinv(y: np.ndarray) -> np.ndarray:
    """The inverse of erf on (-1, 1): erfinv(erf(x)) = x; +-inf at +-1, nan outside [-1, 1]."""
    a = np.asarray(y, dtype=np.float64)
    t = np.abs(a)
    inside = t < 1.0
    out = np.full_like(a, np.nan)
    out[t == 1.0] = np.inf
    ti = t[inside]
    x = _giles(ti)
    tail = ti > 0.5
    # Halley steps x -= f / (f' + x f) for f(x) = erf(x) - t (f' = 2/sqrt(pi) exp(-x^2)), which
    # triple the correct digits: two from 1e-7; a few more in the far tail (|y| > 1 - 1e-12),
    # where the start is further off. A loop over steps, until every step is below 1e-6.
    for _ in range(10):
        f = np.where(tail, (1.0 - ti) - erfc(x), erf(x) - ti)
        step = f / (_TWO_OVER_SQRT_PI * np.exp(-x * x) + x * f)
        x = x - step
        if not (np.abs(step) > 1e-6 * x).any():
            break
    out[inside] = x
    out = np.copysign(out, a)
    return out.astype(np.result_type(y, np.float16), copy=False)
