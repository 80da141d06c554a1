"""The signatures of the ``cfunc``s that the fused kernels call by address (the registries' activation
blocks and optimizer steps, and the kernels' own forward pass), and those calls.

The fused kernels take the ``cfunc``s as one int64 array of addresses (``fns``, in the order of the
``FN_*`` constants) and call them with ``call_update``, ``call_f_block``, ... inside compiled code: as
first-class function arguments, Numba typed each one in Python on every call (~4 us apiece, six per
epoch call).  The adapter (:mod:`nntoolbox.engines`) fills ``fns`` only from ``cfunc``s compiled with
these signatures; the registries (and :func:`nntoolbox.kernels.fused.forward_kernel`) compile them from
here."""
from __future__ import annotations

from typing import Any, Callable

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

# slots of the kernels' ``fns`` argument
FN_UPDATE, FN_LOOKAHEAD, FN_ACT_F, FN_ACT_DF, FN_OUT_F, FN_OUT_DF, FN_FORWARD = range(7)


def _scalar(dtype: Any) -> types.Type:
    return dtype if isinstance(dtype, types.Type) else numba.from_dtype(np.dtype(dtype))


def f_block_signature(dtype: Any) -> types.Signature:
    """``f_block(z, n)``: an activation on a flat ``n x m`` block in place; 0, or 1 + the index of the
    element where the scalar function raised (a cfunc cannot raise: the kernels stop and Python re-raises)."""
    return types.int64(_scalar(dtype)[::1], types.int64)


def df_block_signature(dtype: Any) -> types.Signature:
    """``df_block(a, t)``: ``t *= f'(a)`` on flat blocks; returns as :func:`f_block_signature`."""
    a = _scalar(dtype)[::1]
    return types.int64(a, a)


def update_signature(dtype: Any) -> types.Signature:
    """``update(p, g, state, hyper, t)``: an optimizer step in place; 1 when it raised."""
    a = _scalar(dtype)
    return types.int64(a[::1], a[::1], a[:, ::1], types.float64[::1], types.float64)


def lookahead_signature(dtype: Any) -> types.Signature:
    """``lookahead(p, state, hyper, out)``: the look-ahead parameters into ``out``; 1 when it raised."""
    a = _scalar(dtype)
    return types.int64(a[::1], a[:, ::1], types.float64[::1], a[::1])


def forward_signature(dtype: Any, dropout: bool, standard: bool) -> types.Signature:
    """``forward(G, acts, m, aoff, sizes, lay, p, train, bn, stats, ioff, scal, xhats, std, sds, tmp, fns,
    keep, seed, raws)``: :func:`nntoolbox.kernels.fused._forward`; ``keep`` (dropout) and ``std``
    (standard batch norm) are None (``types.none``) without those features."""
    a = _scalar(dtype)
    i = types.int64
    return i(a[:, ::1], a[::1], i, i[::1], i[::1], i[:, ::1], a[::1], types.boolean, i, a[:, ::1], i[::1],
             types.float64[::1], a[::1], types.boolean if standard else types.none, a[::1], a[::1], i[::1],
             types.float64 if dropout else types.none, types.uint64, a[::1])


def _plain(t: types.Type) -> types.Type:
    """``t`` without what does not change its machine representation (array flags, literal values)."""
    return types.Array(t.dtype, t.ndim, t.layout) if isinstance(t, types.Array) else types.unliteral(t)


def _call(signature: Callable[[Any], types.Signature], addr: types.Type, args: tuple) -> Any:
    """The typing and code of ``call_*(addr, *args)``: a call of the cfunc at ``addr`` (an integer), of
    ``signature(dtype)`` with ``dtype`` the first argument's; arguments of other types do not compile.
    A plain indirect call: Numba's first-class call sites each also carry a fallback that takes the
    GIL to look the function up in Python (compile time for code that never runs here)."""
    if not (isinstance(addr, types.Integer) and isinstance(args[0], types.Array)):
        return None
    expected = signature(args[0].dtype)
    if tuple(_plain(a) for a in args) != expected.args:
        return None

    def codegen(context, builder, sig, llargs):
        fnty = ir.FunctionType(context.get_value_type(expected.return_type),
                               [context.get_value_type(a) for a in expected.args])
        return builder.call(builder.inttoptr(llargs[0], fnty.as_pointer()), llargs[1:])
    return expected.return_type(addr, *args), codegen


# the registries' kernels, called from the fused kernels: call_f_block(fns[FN_ACT_F], z, n), ...
@intrinsic
def call_f_block(typingctx, addr, z, n):  # noqa: ARG001 - the intrinsic protocol
    return _call(f_block_signature, addr, (z, n))


@intrinsic
def call_df_block(typingctx, addr, a, t):  # noqa: ARG001
    return _call(df_block_signature, addr, (a, t))


@intrinsic
def call_update(typingctx, addr, p, g, state, hyper, t):  # noqa: ARG001
    return _call(update_signature, addr, (p, g, state, hyper, t))


@intrinsic
def call_lookahead(typingctx, addr, p, state, hyper, out):  # noqa: ARG001
    return _call(lookahead_signature, addr, (p, state, hyper, out))


@intrinsic
def call_forward(typingctx, addr, G, acts, m, aoff, sizes, lay, p, train, bn, stats, ioff, scal, xhats,  # noqa: ARG001
                 std, sds, tmp, fns, keep, seed, raws):
    args = (G, acts, m, aoff, sizes, lay, p, train, bn, stats, ioff, scal, xhats, std, sds, tmp, fns, keep, seed,
            raws)
    return _call(lambda dt: forward_signature(dt, keep != types.none, std != types.none), addr, args)
