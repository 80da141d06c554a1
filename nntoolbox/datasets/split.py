"""A data set split into training, validation and test rows: what the demos and ``nntoolbox.compare``'s
sweeps train and score on."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Split:
    """Training, validation and test rows (one-hot y)."""
    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
