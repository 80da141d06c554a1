"""The signatures of the registries' kernels that the fused kernels call (activation blocks, optimizer
steps), and those kernels by address.

The fused kernels take the registries' ``cfunc``s as one int64 array of addresses (``fns``, in the
order of the ``FN_*`` constants) and turn each back into a function with ``update_at``, ``f_block_at``, ... inside
compiled code: as first-class function arguments, Numba typed each one in Python on every call
(~4 us apiece, six per epoch call).  The adapter (:mod:`nntoolbox.engines`) fills ``fns`` only from
``cfunc``s compiled with these signatures; the registries compile them from here."""
from __future__ import annotations

from typing import Any, Callable

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# slots of the kernels' ``fns`` argument
FN_UPDATE, FN_LOOKAHEAD, FN_ACT_F, FN_ACT_DF, FN_OUT_F, FN_OUT_DF = range(6)


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


def _function_at(signature: Callable[[Any], types.Signature]) -> Any:
    """An intrinsic ``at(addr, like)``: the cfunc at ``addr`` as a first-class function of
    ``signature(like.dtype)`` (``like``: an array of the kernel's dtype)."""
    @intrinsic
    def at(typingctx, addr, like):  # noqa: ARG001 - the intrinsic protocol
        if not (isinstance(addr, types.Integer) and isinstance(like, types.Array)):
            return None
        fnty = types.FunctionType(signature(like.dtype))

        def codegen(context, builder, sig, args):
            fn = cgutils.create_struct_proxy(fnty)(context, builder)
            voidptr = context.get_value_type(types.voidptr)
            fn.c_addr = builder.inttoptr(args[0], voidptr)  # called through c_addr (jit_addr null)
            fn.py_addr = ir.Constant(voidptr, None)
            fn.jit_addr = ir.Constant(voidptr, None)
            return fn._getvalue()
        return fnty(addr, like), codegen
    return at


update_at, lookahead_at = _function_at(update_signature), _function_at(lookahead_signature)
f_block_at, df_block_at = _function_at(f_block_signature), _function_at(df_block_signature)
