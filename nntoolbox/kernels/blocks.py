"""Views into the kernels' flat work buffers, made without reference counting.

A view made in compiled code (``buf[off:off + n].reshape(rows, cols)``) costs an atomic reference
count up and down and a call of Numba's reshape helper: ~44 ns, and the chess epoch makes ~130 per
batch (5 % of it).  :func:`block` and :func:`flat` instead point a ``numba.carray`` (an array with no
owner to count) at the buffer.  Such a view must not outlive the buffer: the kernels make them from
buffers they hold for the whole call and never return them; and every view is checked to lie inside
its buffer (a compare), so a wrong offset raises instead of touching memory the buffer does not own.
"""
from __future__ import annotations

import numba
from numba import types
from numba.extending import intrinsic

from . import INTERNAL, njit


@intrinsic
def _pointer_at(typingctx, buf, off):  # noqa: ARG001 - the intrinsic protocol
    """The address of ``buf[off]`` (``buf`` a C-contiguous 1-D array; not bounds-checked: see callers)."""
    if not (isinstance(buf, types.Array) and buf.ndim == 1 and buf.layout == "C" and isinstance(off, types.Integer)):
        return None
    sig = types.CPointer(buf.dtype)(buf, off)

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        return builder.gep(data, [context.cast(builder, args[1], signature.args[1], types.intp)])
    return sig, codegen


@njit(**INTERNAL)
def _check(buf, off, n):
    if off < 0 or n < 0 or off + n > buf.shape[0]:
        raise IndexError("internal error: a view outside its work buffer")


@njit(**INTERNAL)
def block(buf, off, rows, cols):
    """``buf[off:off + rows*cols]`` as a C-contiguous ``rows x cols`` array (no reference count)."""
    _check(buf, off, rows * cols)
    return numba.carray(_pointer_at(buf, off), (rows, cols))


@njit(**INTERNAL)
def flat(buf, off, n):
    """``buf[off:off + n]`` (no reference count)."""
    _check(buf, off, n)
    return numba.carray(_pointer_at(buf, off), n)
