"""Numba kernels.  Every ``@njit`` here uses ``cache=True`` so a second Python
process loads machine code from ``__pycache__`` instead of compiling again."""
