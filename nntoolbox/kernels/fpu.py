"""Flush-to-zero for float32 kernels: the x86 MXCSR control register, read and set from compiled code.

Float32 training makes subnormal numbers (below 1.2e-38): Adam's first moment of a parameter whose
gradient has died decays by 0.9 per batch into that range, and every arithmetic operation on a
subnormal takes a microcode assist (~100 cycles).  On the MNIST-size network that made a float32 epoch
2-5x slower than with flushing (slower than float64, and slower with every epoch).  The float32
kernels therefore set flush-to-zero and denormals-are-zero (as TensorFlow does on CPU) for the length
of the call and restore the caller's setting after it; the values affected are below 1.2e-38, far
under float32's resolution of anything the network computes.  Float64 kernels keep IEEE arithmetic
(the parity tests run in float64).  On other processors the two functions do nothing.
"""
from __future__ import annotations

import platform

from llvmlite import ir
from numba import types
from numba.core.extending import intrinsic

from . import njit

FTZ_DAZ = 0x8040  # MXCSR bits: flush to zero (15), denormals are zero (6)
_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


def _mxcsr_call(builder: ir.IRBuilder, name: str, slot: ir.Value) -> None:
    i8p = ir.PointerType(ir.IntType(8))
    fn = builder.module.declare_intrinsic(name, fnty=ir.FunctionType(ir.VoidType(), [i8p]))
    builder.call(fn, [builder.bitcast(slot, i8p)])


@intrinsic
def _read_mxcsr(typingctx):  # noqa: ARG001 - numba's intrinsic signature
    def codegen(context, builder, sig, args):  # noqa: ARG001
        slot = builder.alloca(ir.IntType(32))
        _mxcsr_call(builder, "llvm.x86.sse.stmxcsr", slot)
        return builder.zext(builder.load(slot), ir.IntType(64))
    return types.int64(), codegen


@intrinsic
def _write_mxcsr(typingctx, value):  # noqa: ARG001
    def codegen(context, builder, sig, args):  # noqa: ARG001
        slot = builder.alloca(ir.IntType(32))
        builder.store(builder.trunc(args[0], ir.IntType(32)), slot)
        _mxcsr_call(builder, "llvm.x86.sse.ldmxcsr", slot)
        return context.get_dummy_value()
    return types.none(types.int64), codegen


if _X86:
    @njit
    def flush_denormals(on):
        """Set flush-to-zero if ``on``; returns the previous state for :func:`restore_fpu`."""
        old = _read_mxcsr()
        if on:
            _write_mxcsr(old | FTZ_DAZ)
        return old

    @njit
    def restore_fpu(old):
        _write_mxcsr(old)
else:  # pragma: no cover - depends on the machine
    @njit
    def flush_denormals(on):  # noqa: ARG001
        return 0

    @njit
    def restore_fpu(old):  # noqa: ARG001
        pass
