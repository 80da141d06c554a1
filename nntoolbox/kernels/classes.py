"""The class of each one-hot/score row, compiled (``checks.check_class_labels`` reads it for nn_test)."""
from __future__ import annotations

import numpy as np

from . import njit


@njit
def class_rows(y):
    """Arg-max of each row (the first, as np.argmax), the number of rows whose largest entry is not
    unique and the first of them: one pass (np.argmax/max along rows of 2 to 10 entries are slow)."""
    n, k = y.shape
    labels = np.empty(n, np.int64)
    ties, first = 0, -1
    for r in range(n):
        best, count = 0, 1
        for j in range(1, k):
            if y[r, j] > y[r, best]:
                best, count = j, 1
            elif y[r, j] == y[r, best]:
                count += 1
        labels[r] = best
        if count > 1:
            ties += 1
            if first < 0:
                first = r
    return labels, ties, first
