"""Classification report of a network on labelled data, built on ``sklearn.metrics``.

``nn_test`` (MATLAB ``nn_test.m``) keeps the course's ``[wrongs, accuracy]``;
:func:`evaluate` adds what students are asked to show: per-class precision,
recall and F1, the confusion matrix, and ROC curves with their AUC computed
from the network's output scores (two classes: the positive class's output;
more classes: one-vs-rest per class, macro-averaged AUC).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .interrupts import sigint_deferred
from .labels import class_labels
from .network import Network
from .plotting import confusion_table
from .predict import nn_predict

__all__ = ["Evaluation", "evaluate", "evaluate_scores"]


@dataclass(frozen=True)
class Evaluation:
    """Result of :func:`evaluate`.

    ``per_class``: one row per class (index = class name): precision, recall,
    f1, support, auc and average_precision (one-vs-rest; NaN when the class has
    no positive or no negative sample).  ``confusion``: counts, index = true, columns = predicted.
    ``auc``: binary ROC AUC of the positive class, or the macro one-vs-rest AUC
    over the classes present.  ``roc`` / ``pr``: curve points (columns class,
    fpr, tpr, threshold / class, recall, precision, threshold), one curve for
    two classes (the positive one), one per present class otherwise.
    """
    accuracy: float
    per_class: pd.DataFrame
    confusion: pd.DataFrame
    auc: float
    roc: pd.DataFrame
    pr: pd.DataFrame
    average_precision: float
    y_true: np.ndarray
    scores: np.ndarray

    @property
    def class_names(self) -> list[str]:
        return [str(c) for c in self.per_class.index]

    @property
    def stuck(self) -> str:
        """Why the network has learned nothing: ``'stuck at one class'`` when every prediction is the
        same class, ``'at chance'`` when accuracy is no better than always answering the commonest
        class; ``''`` otherwise (and for no samples)."""
        if not len(self.y_true):
            return ""
        if len(np.unique(self.scores.argmax(axis=1))) == 1:
            return "stuck at one class"
        majority = np.bincount(self.y_true).max() / len(self.y_true)
        return "at chance" if self.accuracy <= majority else ""

    def report(self) -> str:
        """Text like ``sklearn.metrics.classification_report`` plus accuracy and AUC."""
        return (self.per_class.to_string(float_format=lambda v: f"{v:.4f}")
                + f"\n\naccuracy {self.accuracy:.4f}   AUC {self.auc:.4f}   "
                  f"average precision {self.average_precision:.4f}")


def _class_scores(scores: np.ndarray) -> np.ndarray:
    """One score column per class; a single sigmoid output is the positive class's score."""
    return np.column_stack([1 - scores[:, 0], scores[:, 0]]) if scores.shape[1] == 1 else scores


def _sklearn_metrics() -> Any:
    """``sklearn.metrics``, imported on first use rather than with this module: it loads scipy.stats,
    ~1 s of a demo's start that training does not need.  Ctrl-C is held while it loads (see
    ``plotting._figure``)."""
    with sigint_deferred():
        from sklearn import metrics  # noqa: PLC0415

    return metrics


def _curves(y_true: np.ndarray, scores: np.ndarray, names: list[str], classes: Sequence[int]
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    skm = _sklearn_metrics()
    roc, pr = [], []
    for c in classes:
        fpr, tpr, thr = skm.roc_curve(y_true == c, scores[:, c])
        roc.append(pd.DataFrame({"class": names[c], "fpr": fpr, "tpr": tpr, "threshold": thr}))
        precision, recall, thr = skm.precision_recall_curve(y_true == c, scores[:, c])
        # precision_recall_curve's last point (recall 0, precision 1) has no threshold
        pr.append(pd.DataFrame({"class": names[c], "recall": recall, "precision": precision,
                                "threshold": np.append(thr, np.nan)}))
    empty_roc = pd.DataFrame(columns=["class", "fpr", "tpr", "threshold"])
    empty_pr = pd.DataFrame(columns=["class", "recall", "precision", "threshold"])
    return (pd.concat(roc, ignore_index=True) if roc else empty_roc,
            pd.concat(pr, ignore_index=True) if pr else empty_pr)


def evaluate_scores(y_true: Any, scores: Any, class_names: Sequence[Any] | None = None,
                    positive: int = 1) -> Evaluation:
    """:func:`evaluate` from output scores (rows = samples, one column per class,
    or one column holding the positive class's score) and true labels."""
    s = _class_scores(np.atleast_2d(np.asarray(scores, dtype=np.float64)))
    k = s.shape[1]
    y = class_labels(y_true, "y_true", k)
    if len(y) != len(s):
        raise ValueError(f"y has {len(y)} samples but the scores have {len(s)} rows")
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise ValueError(f"class_names has {len(names)} names for {k} classes")
    if not 0 <= positive < k:
        raise ValueError(f"positive must be a class index 0..{k - 1}; got {positive}")
    pred = s.argmax(axis=1)
    labels = list(range(k))
    skm = _sklearn_metrics()
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y, pred, labels=labels, zero_division=0)
    present = [c for c in labels if 0 < support[c] < len(y)]  # AUC needs positives and negatives
    per_class_auc = [skm.roc_auc_score(y == c, s[:, c]) if c in present else math.nan for c in labels]
    per_class_ap = [skm.average_precision_score(y == c, s[:, c]) if c in present else math.nan for c in labels]
    per_class = pd.DataFrame({"precision": precision, "recall": recall, "f1": f1, "support": support,
                              "auc": per_class_auc, "average_precision": per_class_ap},
                             index=pd.Index(names, name="class"))
    confusion = confusion_table(y, pred, names)
    curve_classes = ([positive] if positive in present else []) if k == 2 else present
    roc, pr = _curves(y, s, names, curve_classes)
    if k == 2:
        auc, ap = per_class_auc[positive], per_class_ap[positive]
    else:  # one-vs-rest, macro over the classes present (sklearn's multi_class='ovr' needs them all)
        auc = float(np.mean([per_class_auc[c] for c in present])) if present else math.nan
        ap = float(np.mean([per_class_ap[c] for c in present])) if present else math.nan
    return Evaluation(float(skm.accuracy_score(y, pred)) if len(y) else math.nan, per_class, confusion,
                      float(auc), roc, pr, float(ap), y, s)


def evaluate(nn: Network, x: Any, y: Any, class_names: Sequence[Any] | None = None,
             positive: int = 1) -> Evaluation:
    """Accuracy, per-class precision/recall/F1/AUC, confusion matrix and ROC /
    precision-recall curves of ``nn`` on rows ``x`` with targets ``y`` (one-hot
    rows as in the course, or integer labels).

    The scores are the network's outputs (``nn_predict``); predictions are
    their arg-max, as in ``nn_test``.  For two classes ``positive`` (default 1,
    the course's "win" column) is the class whose output is the ROC score.
    """
    return evaluate_scores(y, nn_predict(nn, x), class_names, positive)
