"""Matrix products of the kernels: BLAS's gemm, called directly.

``gemm(A, ta, B, tb, C)`` is ``np.dot(A.T if ta else A, B.T if tb else B, C)`` for C-contiguous float
blocks: one call of ``numba_xxgemm``, the C entry Numba's own ``np.dot`` ends in (it calls SciPy's
BLAS).  ``np.dot`` first dispatches on the operands' layouts and checks them at run time: ~40 ns more a
product (the chess epoch makes ~1,200), and ~0.4 s more to compile for the fused kernels' six products.
"""
from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.linalg import ensure_blas, get_blas_kind

from . import INTERNAL, njit

_CHAR = ir.IntType(8)


@intrinsic
def _xxgemm(typingctx, ta, tb, m, n, k, a, lda, b, ldb, c, ldc):  # noqa: ARG001 - the intrinsic protocol
    """Column-major ``c (m x n) = op(a) op(b)`` (Fortran's gemm, alpha 1, beta 0); ``ta``/``tb``
    booleans: transpose.  Returns BLAS's status (nonzero: SciPy's BLAS could not be loaded)."""
    arrays = (a, b, c)
    if not (isinstance(ta, types.Boolean) and isinstance(tb, types.Boolean)
            and all(isinstance(x, types.Array) and x.layout == "C" and x.dtype == c.dtype for x in arrays)
            and c.dtype in (types.float32, types.float64)):
        return None
    ensure_blas()
    sig = types.int32(ta, tb, m, n, k, a, lda, b, ldb, c, ldc)

    def codegen(context, builder, signature, args):
        intp = context.get_value_type(types.intp)
        voidp = cgutils.voidptr_t
        fnty = ir.FunctionType(ir.IntType(32), [_CHAR, _CHAR, _CHAR, intp, intp, intp, voidp, voidp, intp,
                                                voidp, intp, voidp, voidp, intp])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxgemm")
        dt = signature.args[-2].dtype

        def slot(value):  # alpha and beta are passed by pointer
            return builder.bitcast(cgutils.alloca_once_value(builder, context.get_constant(dt, value)), voidp)

        def data(i):
            return builder.bitcast(context.make_array(signature.args[i])(context, builder, args[i]).data, voidp)

        def trans(flag):  # 't' or 'n', chosen at run time (LLVM folds it where the flag is constant)
            return builder.select(flag, ir.Constant(_CHAR, ord("t")), ir.Constant(_CHAR, ord("n")))
        m_, n_, k_ = (context.cast(builder, args[i], signature.args[i], types.intp) for i in (2, 3, 4))
        lda_, ldb_, ldc_ = (context.cast(builder, args[i], signature.args[i], types.intp) for i in (6, 8, 10))
        return builder.call(fn, (ir.Constant(_CHAR, ord(get_blas_kind(dt))), trans(args[0]), trans(args[1]), m_, n_, k_,
                                 slot(1.0), data(5), lda_, data(7), ldb_, slot(0.0), data(9), ldc_))
    return sig, codegen


@njit(**INTERNAL)
def gemm(A, ta, B, tb, C):
    """``C = op(A) op(B)``, op(X) = X.T when its flag is set.  Kernels pass the flags as run-time
    booleans (``np.bool_(True)``): Numba compiles a kernel called with literal ``True``/``False`` once per
    combination of them (~0.1 s each in a cold start).  Shapes are checked, so BLAS reads and writes
    only these arrays."""
    m = A.shape[1] if ta else A.shape[0]
    k = A.shape[0] if ta else A.shape[1]
    n = B.shape[0] if tb else B.shape[1]
    if (B.shape[1] if tb else B.shape[0]) != k or C.shape[0] != m or C.shape[1] != n:
        raise ValueError("internal error: gemm operands of mismatched shapes")
    if m == 0 or n == 0:
        return
    if k == 0:  # BLAS wants leading dimensions >= 1
        C[:, :] = 0.0
        return
    # row-major C (m x n) is column-major C' (n x m) = op(B)' op(A)'
    if _xxgemm(tb, ta, n, m, k, B, B.shape[1], A, A.shape[1], C, n):
        raise RuntimeError("BLAS (SciPy's cython_blas) could not be loaded")
