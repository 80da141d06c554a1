"""``vexp(x)``: exp for the fused kernels' elementwise loops, written so that LLVM vectorises them.

Numba here has no SVML, so ``np.exp`` in a loop is one scalar libm call per
element, which keeps the loop scalar (the sigmoid layers of the MNIST-size
network spent 15-23 ms of an epoch there).  This is the textbook method in
plain arithmetic: ``x = k ln2 + r`` with ``k = round(x / ln2)`` and a
Cody-Waite split of ln2 (``k * LN2_HI`` is exact, so ``r`` carries no error
from it), ``exp(r)`` by a polynomial on ``|r| <= ln2 / 2``, then times
``2**k`` built from integer bits of the exponent.  ``k`` comes from the
round-to-nearest trick (adding and subtracting ``1.5 * 2**52``), whose low
bits are ``k`` itself, so no float-to-integer conversion is needed (AVX2 has
none for 64-bit integers).  ``2**k`` is applied as two factors ``2**(k//2)``
and ``2**(k - k//2)``, both normal numbers for every clamped ``x``: overflow
gives inf, underflow rounds once into the subnormal range and then to 0; NaN
stays NaN.

Accuracy (``tests/test_vexp.py``): float64 within 1 ulp of ``np.exp`` over
-745..710 (its subnormal results included), float32 within 1 ulp of float32
``np.exp``.  Both dtypes are handled through ``overload``: ``vexp(x)`` on a
float32 works in float32 throughout (twice the lanes of float64).

The kernels that call it are cached keyed on their own source file (Numba checks
no other): after editing this file, clear the ``__pycache__`` kernel caches.
"""
from __future__ import annotations

import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

__all__ = ["vexp"]


def vexp(x):
    """exp(x) of one float64 or float32 number (the numpy engine keeps ``np.exp``/``expit``)."""
    return np.exp(x)


@intrinsic
def _bits(typingctx, x):
    """The IEEE bit pattern of a float as a signed integer of the same width (free: a bitcast)."""
    if not isinstance(x, types.Float):
        return None
    int_t = types.int64 if x.bitwidth == 64 else types.int32

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(int_t))
    return int_t(x), codegen


@intrinsic
def _float(typingctx, bits):
    """The float whose IEEE bit pattern is ``bits`` (int64 -> float64, int32 -> float32)."""
    if not isinstance(bits, types.Integer) or bits.bitwidth not in (32, 64):
        return None
    float_t = types.float64 if bits.bitwidth == 64 else types.float32

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(float_t))
    return float_t(bits), codegen


# float64.  LN2_HI: ln2 with its low 32 bits zero (fdlibm), so k * LN2_HI is exact for |k| < 2**20.
F64_MAX_X, F64_MIN_X = 710.0, -746.0  # beyond: exp overflows / rounds to 0 (limits of the clamp)
F64_INV_LN2 = 1.4426950408889634
F64_LN2_HI, F64_LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
F64_SHIFTER = 6755399441055744.0  # 1.5 * 2**52: x + SHIFTER rounds x to an integer in the low bits
F64_SHIFTER_BITS = np.float64(F64_SHIFTER).view(np.int64).item()
# Taylor coefficients 1/n!, n = 2..13: on |r| <= ln2/2 the truncation error is below 5e-18 (0.04 ulp)
F64_C = tuple(1.0 / float(np.prod(np.arange(1, n + 1, dtype=np.float64))) for n in range(2, 14))
(F64_C2, F64_C3, F64_C4, F64_C5, F64_C6, F64_C7, F64_C8, F64_C9, F64_C10, F64_C11, F64_C12, F64_C13) = F64_C


def _exp64(x):
    x = F64_MAX_X if x > F64_MAX_X else x  # comparisons are false for NaN: NaN goes through
    x = F64_MIN_X if x < F64_MIN_X else x
    t = x * F64_INV_LN2 + F64_SHIFTER
    kf = t - F64_SHIFTER
    k = _bits(t) - F64_SHIFTER_BITS
    r = (x - kf * F64_LN2_HI) - kf * F64_LN2_LO
    p = F64_C12 + r * F64_C13
    p = F64_C11 + r * p
    p = F64_C10 + r * p
    p = F64_C9 + r * p
    p = F64_C8 + r * p
    p = F64_C7 + r * p
    p = F64_C6 + r * p
    p = F64_C5 + r * p
    p = F64_C4 + r * p
    p = F64_C3 + r * p
    p = F64_C2 + r * p
    e = 1.0 + (r + r * r * p)
    k1 = k >> 1
    return e * _float((k1 + 1023) << 52) * _float((k - k1 + 1023) << 52)


# float32 (Cephes expf: LN2_HI has 9 significant bits; minimax polynomial, relative error ~1e-7)
F32_MAX_X, F32_MIN_X = np.float32(89.0), np.float32(-104.0)
F32_INV_LN2 = np.float32(1.44269504088896341)
F32_LN2_HI, F32_LN2_LO = np.float32(0.693359375), np.float32(-2.12194440e-4)
F32_SHIFTER = np.float32(12582912.0)  # 1.5 * 2**23
F32_SHIFTER_BITS = np.int32(np.float32(F32_SHIFTER).view(np.int32).item())
F32_P = tuple(np.float32(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
                                      1.6666665459e-1, 5.0000001201e-1))
F32_P0, F32_P1, F32_P2, F32_P3, F32_P4, F32_P5 = F32_P
F32_ONE = np.float32(1.0)


def _exp32(x):
    x = F32_MAX_X if x > F32_MAX_X else x
    x = F32_MIN_X if x < F32_MIN_X else x
    t = x * F32_INV_LN2 + F32_SHIFTER
    kf = t - F32_SHIFTER
    k = _bits(t) - F32_SHIFTER_BITS
    r = (x - kf * F32_LN2_HI) - kf * F32_LN2_LO
    p = F32_P1 + r * F32_P0
    p = F32_P2 + r * p
    p = F32_P3 + r * p
    p = F32_P4 + r * p
    p = F32_P5 + r * p
    e = F32_ONE + (r + r * r * p)
    k1 = k >> 1
    # Numba widens integer arithmetic to int64: back to int32 for the float32 bit pattern
    return e * _float(np.int32((k1 + 127) << 23)) * _float(np.int32((k - k1 + 127) << 23))


@overload(vexp, jit_options={"fastmath": {"contract"}})
def _vexp(x):
    if isinstance(x, types.Float):
        return _exp32 if x.bitwidth == 32 else _exp64
    return None
