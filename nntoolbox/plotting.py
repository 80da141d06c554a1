"""Figures for the course demos, written straight to PNG files.

Uses ``matplotlib.figure.Figure`` with the Agg canvas rather than pyplot, so
nothing needs a display, the global backend is never switched, and no figure
lingers in pyplot's registry (each figure is dropped once saved). Every
``plot_*`` function returns the path it wrote; ``visualize`` (the course's
function) returns its Figure and uses pyplot only to show a window.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .interrupts import sigint_deferred
from .labels import class_labels

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "weight_mosaic",
    "visualize",
    "display_available",
    "plot_cost",
    "plot_accuracy",
    "confusion_matrix",
    "confusion_table",
    "plot_confusion",
    "plot_digits",
    "plot_misclassified",
    "plot_reconstructions",
    "plot_roc",
    "plot_precision_recall",
    "plot_sweep_curves",
    "plot_sweep_and_roc",
    "plot_summary_bars",
]

PathLike = str | Path


# ----------------------------------------------------------------- helpers
def _figure(width: float, height: float) -> Figure:
    # matplotlib is imported on the first figure, not with this module: the demos import it at start
    # and plot only after training (its import is ~0.5 s of their start).  Ctrl-C is held while it loads:
    # a KeyboardInterrupt inside a class body's __set_name__ comes out as a RuntimeError (a traceback
    # instead of the demos' clean exit 130)
    with sigint_deferred():
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
        from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)  # attach Agg explicitly; independent of the pyplot backend
    return fig


def _save(fig: Figure, path: PathLike, dpi: float, keep: bool = False) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, format="png")  # format forced: PNG even without a .png suffix
    if not keep:
        fig.clear()  # release artists now rather than at garbage collection
    return path


def _square_side(n: int, what: str) -> int:
    side = math.isqrt(n)
    if side * side != n:
        raise ValueError(f"{what}: {n} values are not a square image; pass the shape explicitly")
    return side


def _as_images(x, image_shape: tuple[int, int] | None) -> np.ndarray:
    """(N, h*w) rows or (N, h, w) stack -> (N, h, w) float array; rows are reshaped row-major."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[None]
    if a.ndim == 3:
        return a
    if a.ndim != 2:
        raise ValueError(f"expected images as (N, pixels) or (N, h, w), got shape {a.shape}")
    if image_shape is None:
        side = _square_side(a.shape[1], "image")
        image_shape = (side, side)
    return a.reshape(a.shape[0], *image_shape)


def _gray_limits(images: np.ndarray) -> tuple[float, float]:
    """One gray scale for the whole grid: [0, 1] for MNIST-scaled data, widened if data exceed it."""
    return min(0.0, float(images.min())), max(1.0, float(images.max()))


# ---------------------------------------------------------- weight mosaic
LAYOUTS = ("auto", "rows", "columns")


def _unit_rows(W: np.ndarray, tile_shape: tuple[int, int] | None, layout: str) -> np.ndarray:
    """``W`` with one hidden unit per row, whichever orientation it came in.

    ``'rows'``: nntoolbox's ``nn.W[0]`` (hidden x visible); ``'columns'``: the
    course's ``visualize(nn.W{1}')`` (visible x hidden).  ``'auto'``: the axis
    whose length is a tile's pixel count (``tile_shape``, else a square number)
    holds the pixels; when both axes could, the longer one does (an encoder has
    more inputs than units: every course network), and a square W is refused.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(map(repr, LAYOUTS))}; got {layout!r}")
    if layout != "auto":
        return W if layout == "rows" else W.T
    pixels = None if tile_shape is None else tile_shape[0] * tile_shape[1]
    fits = [n == pixels if pixels is not None else math.isqrt(n) ** 2 == n for n in W.shape]
    if fits[0] and fits[1]:
        if W.shape[0] == W.shape[1]:
            raise ValueError(f"W is square ({W.shape[0]} x {W.shape[1]}): say which axis holds the units, "
                             "layout='rows' (nntoolbox's nn.W[0]) or layout='columns' (the course's nn.W{1}')")
        return W if W.shape[1] > W.shape[0] else W.T
    return W.T if fits[0] else W  # neither fits: the row form's error below names the problem


def weight_mosaic(
    W,
    tile_shape: tuple[int, int] | None = None,
    *,
    layout: str = "auto",
    per_tile: bool = False,
    border: int = 1,
    border_value: float = 1.0,
) -> np.ndarray:
    """Tile the hidden units' weights into one gray image (MATLAB: the array ``r = visualize(X)`` returns).

    Parameters
    ----------
    W : the weights of one layer: ``nn.W[0]`` (hidden x visible, one unit per
        row) or, as the course passes them, ``nn.W[0].T`` (MATLAB ``nn.W{1}'``,
        one unit per column); ``layout`` says which (default: detected, see below).
    tile_shape : (height, width) of a tile; default: square side sqrt(visible).
        Units are reshaped row-major, which equals MATLAB's ``reshape(w, s, s)'``.
    layout : ``'auto'`` (the axis whose length is a tile's pixel count holds the
        pixels; if both could, the longer one; a square W is refused), ``'rows'``
        or ``'columns'``.
    per_tile : False (default, as ``visualize.m``): one global min/max for all
        tiles; True rescales each tile to its own [min, max] (constant tiles -> 0.5).
    border, border_value : separator width in pixels between tiles, and its value.

    Returns
    -------
    (rows*h + (rows-1)*border, cols*w + (cols-1)*border) float array in [0, 1].
    Tiles fill the grid column by column, as visualize.m does; the grid has
    ``rows = ceil(sqrt(hidden))`` and ``cols = ceil(hidden / rows)``.
    """
    W = np.atleast_2d(np.asarray(W, dtype=np.float64))
    if W.ndim != 2 or W.size == 0:
        raise ValueError(f"W must be a non-empty (hidden, visible) matrix, got shape {W.shape}")
    W = _unit_rows(W, tile_shape, layout)
    n, visible = W.shape
    if tile_shape is None:
        side = _square_side(visible, "weight_mosaic")
        tile_shape = (side, side)
    h, w = tile_shape
    if h * w != visible:
        raise ValueError(f"tile_shape {tile_shape} has {h * w} pixels but W has {visible} columns")

    lo, hi = (W.min(axis=1, keepdims=True), W.max(axis=1, keepdims=True)) if per_tile else (W.min(), W.max())
    span = np.asarray(hi - lo)
    tiles = np.where(span > 0, (W - lo) / np.where(span > 0, span, 1.0), 0.5).reshape(n, h, w)

    rows = math.ceil(math.sqrt(n))
    cols = math.ceil(n / rows)
    out = np.full((rows * h + (rows - 1) * border, cols * w + (cols - 1) * border), float(border_value))
    for i, tile in enumerate(tiles):
        r, c = i % rows, i // rows  # column-major fill, as visualize.m
        out[r * (h + border): r * (h + border) + h, c * (w + border): c * (w + border) + w] = tile
    return out


def display_available() -> bool:
    """True when pyplot can show a figure: a window backend, or a notebook's inline backend
    (not Agg, PDF, ... as on a headless machine or in CI)."""
    with sigint_deferred():  # as in _figure
        import matplotlib  # noqa: PLC0415
        from matplotlib.backends import BackendFilter, backend_registry  # noqa: PLC0415
    return matplotlib.get_backend().lower() not in backend_registry.list_builtin(BackendFilter.NON_INTERACTIVE)


def visualize(
    W,
    path: PathLike | None = None,
    tile_shape: tuple[int, int] | None = None,
    *,
    layout: str = "auto",
    per_tile: bool = False,
    title: str | None = None,
    dpi: float = 100,
    show: bool | None = None,
) -> Figure:
    """The course's ``visualize(nn.W{1}')``: one gray tile per hidden unit; returns the Figure.

    Accepts ``nn.W[0]`` or the course's transposed ``nn.W[0].T`` (see
    :func:`weight_mosaic` for ``layout``, ``tile_shape`` and the default global
    gray scale of ``visualize.m``).  Saves a PNG when ``path`` is given; shows
    it (a window, or inline in a notebook) when ``show`` is True, or by default
    when no ``path`` is given and a display is available (:func:`display_available`).
    (MATLAB's ``r = visualize(X)`` image array is :func:`weight_mosaic`.)
    """
    mosaic = weight_mosaic(W, tile_shape, layout=layout, per_tile=per_tile)
    if show is None:
        show = path is None and display_available()
    height = 6.0 * mosaic.shape[0] / mosaic.shape[1]
    size = (6.0, height + (0.4 if title else 0.0))
    if show:
        with sigint_deferred():  # as in _figure
            import matplotlib.pyplot as plt  # noqa: PLC0415 - only for a window; files need no pyplot
        fig = plt.figure(figsize=size)
    else:
        fig = _figure(*size)
    ax = fig.add_axes((0, 0, 1, height / fig.get_figheight()))
    ax.imshow(mosaic, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        fig.suptitle(title)
    if path is not None:
        _save(fig, path, dpi, keep=True)
    if show:
        plt.show()
    return fig


# ----------------------------------------------------------------- curves
def _plot_series(ax: Any, s: np.ndarray, label: str | None) -> Any:
    """One curve against 1..n (dots only when there are few points); returns the line."""
    return ax.plot(np.arange(1, s.size + 1), s, label=label, marker="." if s.size <= 50 else None)[0]


def _finish_curves(fig: Figure, ax: Any, path: PathLike, dpi: float, xlabel: str, ylabel: str,
                   title: str | None, legend: bool) -> Path:
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title or "")
    ax.grid(True, alpha=0.3)
    if legend:
        ax.legend()
    fig.tight_layout()
    return _save(fig, path, dpi)


def plot_cost(
    costs: Sequence[float],
    path: PathLike,
    costs2: Sequence[float] | None = None,
    *,
    labels: tuple[str, str] = ("training", "validation"),
    xlabel: str = "epoch",
    ylabel: str = "cost",
    title: str | None = "Cost",
    log_y: bool = False,
    dpi: float = 100,
) -> Path:
    """Cost curve against epoch/iteration 1..n (MATLAB: ``plot(nn.cost)``).

    ``costs2`` is an optional second series (e.g. validation cost), plotted
    against its own 1..m so the two may have different lengths.
    """
    fig = _figure(6.4, 4.2)
    ax = fig.add_subplot()
    series = [np.asarray(costs, dtype=np.float64).ravel()]
    if costs2 is not None:
        series.append(np.asarray(costs2, dtype=np.float64).ravel())
    for s, label in zip(series, labels):
        _plot_series(ax, s, label)
    if log_y:
        ax.set_yscale("log")
    return _finish_curves(fig, ax, path, dpi, xlabel, ylabel, title, legend=costs2 is not None)


def plot_accuracy(
    acc: Sequence[float] | Sequence[Sequence[float]] | Mapping[str, Sequence[float]],
    path: PathLike,
    labels: Sequence[str] | None = None,
    *,
    xlabel: str = "epoch",
    ylabel: str = "accuracy",
    title: str | None = "Validation accuracy",
    dpi: float = 100,
) -> Path:
    """Accuracy curve(s) against epoch 1..n.

    ``acc`` is one series, a list of series (lengths may differ; name them with
    ``labels``), or a dict ``{label: series}``. Each series' best value is marked.
    """
    if isinstance(acc, Mapping):
        labels, seqs = list(acc.keys()), list(acc.values())
    elif len(acc) and np.ndim(acc[0]) > 0:
        seqs = list(acc)
    else:
        seqs = [acc]
    if labels is not None and len(labels) != len(seqs):
        raise ValueError(f"{len(labels)} labels for {len(seqs)} series")
    fig = _figure(6.4, 4.2)
    ax = fig.add_subplot()
    for i, s in enumerate(seqs):
        s = np.asarray(s, dtype=np.float64).ravel()
        line = _plot_series(ax, s, None if labels is None else labels[i])
        if s.size and not np.all(np.isnan(s)):
            best = int(np.nanargmax(s))
            ax.plot(best + 1, s[best], "o", mfc="none", color=line.get_color())
    return _finish_curves(fig, ax, path, dpi, xlabel, ylabel, title, legend=labels is not None)


# ------------------------------------------------------- confusion matrix
def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class i predicted as j.

    Labels are integer classes 0..K-1; 2-D inputs (one-hot targets, network
    outputs) are reduced with argmax per row, as the course's ``max(..., [], 2)``.
    ``n_classes`` defaults to 1 + the largest label seen.
    """
    t, p = class_labels(y_true, "y_true"), class_labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} samples but y_pred has {p.size}")
    k = n_classes if n_classes is not None else int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    if t.size and max(t.max(), p.max()) >= k:
        raise ValueError(f"labels go up to {max(t.max(), p.max())} but n_classes={k}")
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def confusion_table(
    y_true, y_pred, labels: Sequence[str] | None = None, n_classes: int | None = None
) -> pd.DataFrame:
    """``confusion_matrix`` as a DataFrame: index = true class, columns = predicted class."""
    if labels is not None and n_classes is None:
        n_classes = len(labels)
    cm = confusion_matrix(y_true, y_pred, n_classes)
    names = list(labels) if labels is not None else list(range(cm.shape[0]))
    return pd.DataFrame(cm, index=pd.Index(names, name="true"), columns=pd.Index(names, name="predicted"))


def plot_confusion(
    y_true,
    y_pred,
    path: PathLike,
    labels: Sequence[str] | None = None,
    normalize: bool = False,
    *,
    title: str | None = None,
    dpi: float = 100,
) -> Path:
    """Confusion matrix image with the count in every cell (rows: true, columns: predicted).

    ``normalize=True`` colours each row by its fraction (per-class recall) and
    adds the percentage under the count. The default title gives the accuracy.
    """
    cm = confusion_matrix(y_true, y_pred, len(labels) if labels is not None else None)
    k = cm.shape[0]
    names = [str(s) for s in labels] if labels is not None else [str(i) for i in range(k)]
    row_sums = cm.sum(axis=1, keepdims=True)
    frac = cm / np.maximum(row_sums, 1)
    shown = frac if normalize else cm

    size = max(4.0, 0.55 * k + 2.0)
    fig = _figure(size, size)
    ax = fig.add_subplot()
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else max(int(cm.max()), 1))
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    threshold = (1 if normalize else max(int(cm.max()), 1)) / 2
    fontsize = 9 if k <= 12 else 6
    for i in range(k):
        for j in range(k):
            text = f"{cm[i, j]}\n{100 * frac[i, j]:.0f}%" if normalize else f"{cm[i, j]}"
            ax.text(j, i, text, ha="center", va="center", fontsize=fontsize,
                    color="white" if shown[i, j] > threshold else "black")
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set(xlabel="predicted", ylabel="true")
    total = int(cm.sum())
    if title is None:
        title = f"accuracy {np.trace(cm) / total:.2%} ({total} samples)" if total else "confusion matrix"
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, path, dpi)


# ------------------------------------------------------------ image grids
def plot_digits(
    x,
    path: PathLike,
    titles: Sequence[str] | None = None,
    *,
    n_cols: int | None = None,
    image_shape: tuple[int, int] | None = None,
    suptitle: str | None = None,
    dpi: float = 100,
) -> Path:
    """A grid of images, e.g. misclassified digits titled "true→pred".

    ``x`` is (N, 784) rows as the loaders return (row-major 28x28), or (N, h, w).
    All images share one gray scale ([0, 1] for MNIST-scaled data).
    """
    images = _as_images(x, image_shape)
    n = images.shape[0]
    if n == 0:
        raise ValueError("plot_digits: no images to plot")
    if titles is not None and len(titles) != n:
        raise ValueError(f"{len(titles)} titles for {n} images")
    cols = n_cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    fig = _figure(1.2 * cols, 1.3 * rows + (0.4 if suptitle else 0.0))
    vmin, vmax = _gray_limits(images)
    for i, ax in enumerate(fig.subplots(rows, cols, squeeze=False).ravel()):
        ax.set_axis_off()
        if i < n:
            ax.imshow(images[i], cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
            if titles is not None:
                ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return _save(fig, path, dpi)


def plot_misclassified(
    x, y_true, y_pred, path: PathLike, *, max_images: int = 36, dpi: float = 100
) -> Path:
    """The first ``max_images`` wrongly classified images, titled "true→pred".

    Labels as in ``confusion_matrix`` (integers, or one-hot / outputs reduced by
    argmax). Writes a placeholder figure when nothing is wrong.
    """
    t, p = class_labels(y_true, "y_true"), class_labels(y_pred, "y_pred")
    wrong = np.flatnonzero(t != p)
    if wrong.size == 0:
        fig = _figure(4, 1)
        fig.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
        return _save(fig, path, dpi)
    shown = wrong[:max_images]
    return plot_digits(np.asarray(x)[shown], path, [f"{t[i]}→{p[i]}" for i in shown],
                       suptitle=f"{wrong.size} misclassified of {t.size}", dpi=dpi)


def plot_reconstructions(
    x,
    x_hat,
    path: PathLike,
    n: int = 10,
    *,
    image_shape: tuple[int, int] | None = None,
    dpi: float = 100,
) -> Path:
    """The first ``n`` originals (top row) over their autoencoder reconstructions (bottom row)."""
    a, b = _as_images(x, image_shape), _as_images(x_hat, image_shape)
    if a.shape != b.shape:
        raise ValueError(f"x has shape {a.shape} but x_hat has {b.shape}")
    n = min(n, a.shape[0])
    if n == 0:
        raise ValueError("plot_reconstructions: no images to plot")
    vmin, vmax = _gray_limits(np.concatenate([a[:n], b[:n]]))
    fig = _figure(max(1.1 * n, 3.0), 2.6)
    axes = fig.subplots(2, n, squeeze=False)
    for row, (imgs, name) in enumerate(((a, "original"), (b, "reconstruction"))):
        for j in range(n):
            ax = axes[row, j]
            ax.imshow(imgs[j], cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(name, fontsize=9)  # ylabel survives where set_axis_off would hide it
    fig.tight_layout()
    return _save(fig, path, dpi)


# ------------------------------------------------- ROC and precision-recall
def _curve_sets(evaluations: Any) -> dict[str, Any]:
    """One evaluation (``nntoolbox.metrics.Evaluation``) or ``{label: evaluation}``."""
    if isinstance(evaluations, Mapping):
        return dict(evaluations)
    return {"": evaluations}


def _draw_seed_group(ax: Any, label: str, group: Mapping[Any, Any], frame: str, score: str) -> None:
    """Two-class evaluations of one configuration's seeds: each seed's curve thin, their mean thick
    (the y values averaged on a common x grid, as sklearn's cross-validated ROC example does); a seed
    that learned nothing (``Evaluation.stuck``) is dashed and named in the legend."""
    x, y = ("fpr", "tpr") if frame == "roc" else ("recall", "precision")
    short = "AUC" if score == "auc" else "AP"
    grid, ys, color = np.linspace(0.0, 1.0, 201), [], None
    for seed, ev in group.items():
        points = getattr(ev, frame)
        if points["class"].nunique() != 1:
            raise ValueError(f"{label!r} seed {seed}: per-seed curves need two-class evaluations")
        xs, vs = points[x].to_numpy(float), points[y].to_numpy(float)
        flag = f"seed {seed}: {ev.stuck}" if ev.stuck else None
        line = ax.plot(xs, vs, lw=0.8, alpha=0.6, color=color, ls="--" if flag else "-",
                       label=f"{label} {flag}" if flag else None)[0]
        color = line.get_color()
        order = slice(None, None, -1) if frame == "pr" else slice(None)  # np.interp needs x increasing
        ys.append(np.interp(grid, xs[order], vs[order]))
    values = np.array([getattr(ev, score) for ev in group.values()])
    spread = f" ± {np.nanstd(values, ddof=1):.3f}" if len(values) > 1 else ""
    ax.plot(grid, np.mean(ys, axis=0), lw=2.2, color=color,
            label=f"{label}: mean of {len(ys)} seeds ({short} {np.nanmean(values):.3f}{spread})")


def _draw_curve_sets(ax: Any, evaluations: Any, frame: str, score: str) -> None:
    """ROC (``frame='roc'``) or precision-recall (``'pr'``) curves; the legend gives each curve's
    score (``'auc'`` or ``'average_precision'``): the overall one for a single curve, else per class.
    A value that is itself a mapping ``{seed: evaluation}`` draws every seed and their mean."""
    x, y = ("fpr", "tpr") if frame == "roc" else ("recall", "precision")
    short = "AUC" if score == "auc" else "AP"
    for label, ev in _curve_sets(evaluations).items():
        if isinstance(ev, Mapping):
            _draw_seed_group(ax, label, ev, frame, score)
            continue
        points = getattr(ev, frame)
        classes = list(points["class"].unique())
        for cls in classes:
            curve = points[points["class"] == cls]
            value = ev.per_class.loc[cls, score] if len(classes) > 1 else getattr(ev, score)
            name = " ".join(str(p) for p in (label, cls if len(classes) > 1 else "") if p != "")
            ax.plot(curve[x], curve[y], label=f"{name} ({short} {value:.3f})" if name else f"{short} {value:.3f}",
                    drawstyle="steps-post" if frame == "pr" else "default")
    if frame == "roc":
        ax.plot([0, 1], [0, 1], ":", color="gray", lw=1)
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), aspect="equal",
           xlabel="false positive rate" if frame == "roc" else "recall",
           ylabel="true positive rate" if frame == "roc" else "precision")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")


def _plot_curve_sets(evaluations: Any, path: PathLike, frame: str, score: str, title: str | None,
                     dpi: float) -> Path:
    fig = _figure(5.6, 5.0)
    ax = fig.add_subplot()
    _draw_curve_sets(ax, evaluations, frame, score)
    ax.set_title(title or "")
    fig.tight_layout()
    return _save(fig, path, dpi)


def plot_roc(evaluations: Any, path: PathLike, *, title: str | None = "ROC curve", dpi: float = 100) -> Path:
    """ROC curve(s) with their AUC in the legend: one ``nntoolbox.metrics.Evaluation``
    or ``{label: evaluation}`` for several networks on one figure (more than two
    classes: one one-vs-rest curve per class), or ``{label: {seed: evaluation}}``
    (two classes) for every seed's curve, thin, and their mean, thick."""
    return _plot_curve_sets(evaluations, path, "roc", "auc", title, dpi)


def plot_precision_recall(evaluations: Any, path: PathLike, *, title: str | None = "Precision-recall curve",
                          dpi: float = 100) -> Path:
    """Precision-recall curve(s) with the average precision in the legend; arguments as :func:`plot_roc`."""
    return _plot_curve_sets(evaluations, path, "pr", "average_precision", title, dpi)


# ------------------------------------------------------------ sweeps
def _metric_range(column: str) -> tuple[float | None, float | None]:
    """The values a sweep column can take: a ± std band is clipped to them (accuracy cannot pass 1)."""
    if "accuracy" in column or "auc" in column:
        return 0.0, 1.0
    return (0.0, None) if "cost" in column or "seconds" in column else (None, None)


def _draw_sweep(ax: Any, runs: pd.DataFrame, column: str, by: str) -> None:
    missing = {by, "epoch", column} - set(runs.columns)
    if missing:
        raise ValueError(f"runs lacks column(s) {sorted(missing)}")
    for name, group in runs.groupby(by, sort=False):
        stats = group.groupby("epoch")[column].agg(["mean", "std", "count"])
        std = stats["std"].fillna(0.0)
        line = ax.plot(stats.index, stats["mean"], label=f"{name} (n={int(stats['count'].max())})")[0]
        lo, hi = _metric_range(column)
        ax.fill_between(stats.index, (stats["mean"] - std).clip(lo, hi), (stats["mean"] + std).clip(lo, hi),
                        color=line.get_color(), alpha=0.2)
    ax.set(xlabel="epoch", ylabel=column.replace("_", " "))
    ax.grid(True, alpha=0.3)
    ax.legend()


def plot_sweep_curves(runs: pd.DataFrame, path: PathLike, column: str = "val_accuracy", *,
                      by: str = "config", title: str | None = None, dpi: float = 100) -> Path:
    """Mean of ``column`` per epoch for each configuration (``by``), with a
    mean ± std band over the seeds (``runs``: one row per run per epoch)."""
    fig = _figure(7.0, 4.4)
    ax = fig.add_subplot()
    _draw_sweep(ax, runs, column, by)
    ax.set_title(title if title is not None else f"{column.replace('_', ' ')}: mean ± std over seeds")
    fig.tight_layout()
    return _save(fig, path, dpi)


def plot_sweep_and_roc(runs: pd.DataFrame, evaluations: Any, path: PathLike, column: str = "val_accuracy", *,
                       by: str = "config", title: str | None = None, dpi: float = 100) -> Path:
    """One figure: :func:`plot_sweep_curves` on the left, :func:`plot_roc` of ``evaluations`` on the right
    (``{label: {seed: evaluation}}`` draws every seed, see :func:`plot_roc`)."""
    fig = _figure(12.5, 5.0)
    left, right = fig.subplots(1, 2)
    _draw_sweep(left, runs, column, by)
    left.set_title(f"{column.replace('_', ' ')}: mean ± std over seeds")
    _draw_curve_sets(right, evaluations, "roc", "auc")
    right.set_title("ROC on the test set")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path, dpi)


def plot_summary_bars(summary: pd.DataFrame, path: PathLike,
                      columns: Sequence[str] = ("best_val_accuracy", "test_accuracy"), *,
                      title: str | None = "Mean ± std over seeds", dpi: float = 100) -> Path:
    """Bar chart of ``<column>_mean`` with ``<column>_std`` error bars per configuration
    (``summary``: one row per configuration, index = its name)."""
    fig = _figure(max(5.0, 1.2 * len(summary) * len(columns) + 2), 4.4)
    ax = fig.add_subplot()
    width = 0.8 / len(columns)
    x = np.arange(len(summary))
    for i, col in enumerate(columns):
        ax.bar(x + (i - (len(columns) - 1) / 2) * width, summary[f"{col}_mean"], width,
               yerr=summary[f"{col}_std"].fillna(0.0), capsize=3, label=col.replace("_", " "))
    ax.set_xticks(x, [str(i) for i in summary.index], rotation=20, ha="right")
    # start the axis just below the lowest bar's error bar, so close configurations stay distinguishable
    low = min(((summary[f"{c}_mean"] - summary[f"{c}_std"].fillna(0.0)).min() for c in columns), default=0.0)
    ax.set_ylim(max(0.0, low - 0.05) if np.isfinite(low) else 0.0, None)
    ax.grid(True, axis="y", alpha=0.3)
    ax.set(title=title or "")
    ax.legend()
    fig.tight_layout()
    return _save(fig, path, dpi)
