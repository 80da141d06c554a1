"""Views into the kernels' flat work buffers, made without reference counting.

A view made in compiled code (``buf[off:off + n].reshape(rows, cols)``) costs an atomic reference
count up and down and a call of Numba's reshape helper: ~44 ns, and the chess epoch makes ~130 per
batch (5 % of it).  :func:`block` and :func:`flat` instead build an array with no owner (a null
meminfo, as ``numba.carray`` makes) over the buffer, in place (intrinsics), so that the batch loops
can be compiled without reference counting at all (``_nrt=False``: a view there costs no call of
NRT_incref/NRT_decref either).  Such a view must not outlive the buffer: the kernels make them from
buffers they hold for the whole call and never return them; and every view is checked to lie inside
its buffer (a compare), so a wrong offset raises instead of touching memory the buffer does not own.
"""
from __future__ import annotations

from numba import types
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array

from . import INTERNAL, njit


def _view(shape_args: tuple[int, ...]):
    """Codegen of :func:`_view2`/:func:`_view1`: the array over ``buf[off:]`` of the shape in the
    arguments ``shape_args``, C-contiguous, with a null meminfo (no owner: as ``numba.carray`` makes)."""
    def codegen(context, builder, signature, args):
        ret = signature.return_type
        src = context.make_array(signature.args[0])(context, builder, args[0])
        off, *shape = (context.cast(builder, args[i], signature.args[i], types.intp) for i in (1, *shape_args))
        itemsize = context.get_constant(types.intp, context.get_abi_sizeof(context.get_data_type(ret.dtype)))
        strides = [itemsize] if len(shape) == 1 else [builder.mul(shape[1], itemsize), itemsize]
        out = context.make_array(ret)(context, builder)
        populate_array(out, data=builder.gep(src.data, [off]), shape=shape, strides=strides, itemsize=itemsize,
                       meminfo=None)
        return out._getvalue()
    return codegen


def _is_buffer(buf, *ints) -> bool:
    return (isinstance(buf, types.Array) and buf.ndim == 1 and buf.layout == "C"
            and all(isinstance(a, types.Integer) for a in ints))


# The views are built in place by intrinsics, not returned by a jitted function (``numba.carray``'s
# implementation is one): a kernel compiled without reference counting (``_nrt=False``: no call to
# NRT_incref/NRT_decref per view, see :func:`.fused.forward_kernel`) can make them too.  Not
# bounds-checked: see :func:`block`.
@intrinsic
def _view2(typingctx, buf, off, rows, cols):  # noqa: ARG001 - the intrinsic protocol
    if not _is_buffer(buf, off, rows, cols):
        return None
    return types.Array(buf.dtype, 2, "C")(buf, off, rows, cols), _view((2, 3))


@intrinsic
def _view1(typingctx, buf, off, n):  # noqa: ARG001
    if not _is_buffer(buf, off, n):
        return None
    return types.Array(buf.dtype, 1, "C")(buf, off, n), _view((2,))


@njit(**INTERNAL)
def _check(buf, off, n):
    if off < 0 or n < 0 or off + n > buf.shape[0]:
        raise IndexError("internal error: a view outside its work buffer")


@njit(inline='always', **INTERNAL)
def block(buf, off, rows, cols):
    """``buf[off:off + rows*cols]`` as a C-contiguous ``rows x cols`` array (no reference count)."""
    _check(buf, off, rows * cols)
    return _view2(buf, off, rows, cols)


@njit(inline='always', **INTERNAL)
def flat(buf, off, n):
    """``buf[off:off + n]`` (no reference count)."""
    _check(buf, off, n)
    return _view1(buf, off, n)
