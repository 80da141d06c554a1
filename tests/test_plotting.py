"""Plotting helpers: PNGs get written headlessly; mosaic and confusion-matrix arithmetic are exact."""
import numpy as np
import pytest

from nntoolbox.plotting import (
    confusion_matrix, confusion_table, plot_accuracy, plot_confusion, plot_cost, plot_digits,
    plot_misclassified, plot_reconstructions, visualize, weight_mosaic,
)

rng = np.random.default_rng(0)


def assert_png(path):
    assert path.is_file()
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------- weight mosaic
def test_weight_mosaic_shape_and_layout():
    W = rng.normal(size=(10, 784))  # 10 hidden units -> 4 rows x 3 columns of 28x28 tiles
    m = weight_mosaic(W, per_tile=True)
    assert m.shape == (4 * 28 + 3, 3 * 28 + 2)
    assert m.min() >= 0.0 and m.max() <= 1.0
    # Borders and the two unused slots keep the border value.
    assert np.all(m[28, :] == 1.0) and np.all(m[:, 28] == 1.0)
    assert np.all(m[2 * 29:, 2 * 29:] == 1.0)
    # Tile 1 is below tile 0 (column-major fill, as visualize.m); tile 4 starts column 2.
    for i, (r, c) in [(0, (0, 0)), (1, (1, 0)), (4, (0, 1)), (9, (1, 2))]:
        tile = m[r * 29: r * 29 + 28, c * 29: c * 29 + 28]
        w = W[i].reshape(28, 28)  # row-major, i.e. MATLAB reshape(w, 28, 28)'
        np.testing.assert_allclose(tile, (w - w.min()) / (w.max() - w.min()))
        # Per-tile normalisation: each tile spans exactly [0, 1].
        assert tile.min() == 0.0 and tile.max() == 1.0


def test_weight_mosaic_options():
    W = np.vstack([np.arange(6.0), 10 + np.arange(6.0), np.full(6, 3.0)])
    m = weight_mosaic(W, tile_shape=(2, 3), border=0, per_tile=True)  # 2x2 grid, no borders
    assert m.shape == (4, 6)
    np.testing.assert_allclose(m[:2, :3], np.arange(6).reshape(2, 3) / 5)
    np.testing.assert_allclose(m[2:, :3], np.arange(6).reshape(2, 3) / 5)  # same shape, own min/max
    np.testing.assert_allclose(m[:2, 3:], 0.5)  # constant tile
    g = weight_mosaic(W, tile_shape=(2, 3), border=0, per_tile=False)
    np.testing.assert_allclose(g[2:, :3], (10 + np.arange(6).reshape(2, 3)) / 15)
    with pytest.raises(ValueError, match="square"):
        weight_mosaic(np.ones((3, 785)))
    with pytest.raises(ValueError, match="tile_shape"):
        weight_mosaic(np.ones((3, 6)), tile_shape=(4, 4))


def test_weight_mosaic_course_scaling_and_orientation():
    W = rng.normal(size=(196, 784))  # sae.W{1}: both axes are square numbers
    m = weight_mosaic(W)  # default: one global range, as visualize.m's imagesc(a, [min(X(:)) max(X(:))])
    np.testing.assert_allclose(m[:28, :28], (W[0].reshape(28, 28) - W.min()) / (W.max() - W.min()))
    np.testing.assert_array_equal(weight_mosaic(W.T), m)  # the course's visualize(sae.W{1}')
    np.testing.assert_array_equal(weight_mosaic(W.T, layout="columns"), m)
    W2 = rng.normal(size=(10, 400))  # only one axis is a square: the other holds the units
    np.testing.assert_array_equal(weight_mosaic(W2.T), weight_mosaic(W2))
    np.testing.assert_array_equal(weight_mosaic(W2.T, tile_shape=(20, 20)), weight_mosaic(W2))
    with pytest.raises(ValueError, match="layout='rows'"):
        weight_mosaic(np.ones((16, 16)))
    with pytest.raises(ValueError, match="layout must be"):
        weight_mosaic(W, layout="cols")
    np.testing.assert_array_equal(weight_mosaic(np.eye(16), layout="columns", tile_shape=(4, 4)),
                                  weight_mosaic(np.eye(16), layout="rows", tile_shape=(4, 4)))


def test_visualize(tmp_path, monkeypatch):
    from matplotlib.figure import Figure
    fig = visualize(rng.normal(size=(25, 784)), tmp_path / "w.png", title="W1")
    assert isinstance(fig, Figure) and fig.axes  # returned whole, also when saved
    assert_png(tmp_path / "w.png")
    assert isinstance(visualize(rng.normal(size=(784, 25))), Figure)  # no path, no display: just the Figure
    shown = []
    import matplotlib.pyplot as plt
    monkeypatch.setattr(plt, "show", lambda: shown.append(True))
    fig = visualize(rng.normal(size=(4, 9)), show=True)
    assert shown == [True]
    plt.close(fig)


# -------------------------------------------------------------- confusion
def test_confusion_matrix():
    t = [0, 0, 1, 2, 2, 2]
    p = [0, 1, 1, 2, 0, 2]
    want = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_array_equal(confusion_matrix(t, p), want)
    assert confusion_matrix(t, p, n_classes=4).shape == (4, 4)
    # One-hot targets and network outputs reduce by argmax.
    np.testing.assert_array_equal(confusion_matrix(np.eye(3)[t], np.eye(3)[p] * 0.9), want)
    df = confusion_table(t, p, labels=["a", "b", "c"])
    assert df.loc["c", "a"] == 1 and df.index.name == "true" and df.columns.name == "predicted"
    with pytest.raises(ValueError):
        confusion_matrix(t, p[:-1])
    with pytest.raises(ValueError, match="n_classes"):
        confusion_matrix(t, p, n_classes=2)


@pytest.mark.parametrize("normalize", [False, True])
def test_plot_confusion(tmp_path, normalize):
    t = rng.integers(0, 10, 200)
    p = np.where(rng.random(200) < 0.8, t, rng.integers(0, 10, 200))
    assert_png(plot_confusion(t, p, tmp_path / "cm.png", normalize=normalize))


# ----------------------------------------------------------------- curves
def test_plot_cost(tmp_path):
    assert_png(plot_cost(np.exp(-np.arange(20) / 5), tmp_path / "cost.png"))
    assert_png(plot_cost([3, 2, 1], tmp_path / "cost2.png", [3.5, 2.5], xlabel="iteration", log_y=True))


def test_plot_accuracy(tmp_path):
    assert_png(plot_accuracy([0.5, 0.7, 0.8], tmp_path / "a1.png"))
    assert_png(plot_accuracy([[0.5, 0.7], [0.4, 0.6, 0.9]], tmp_path / "a2.png", labels=["sgd", "adam"]))
    assert_png(plot_accuracy({"sgd": [0.1, 0.2]}, tmp_path / "sub" / "a3"))  # parent dir made, no suffix
    with pytest.raises(ValueError):
        plot_accuracy([[0.5], [0.6]], tmp_path / "x.png", labels=["one"])


# ------------------------------------------------------------ image grids
def test_plot_digits(tmp_path):
    x = rng.random((6, 784))
    assert_png(plot_digits(x, tmp_path / "d.png", titles=[f"{i}→{i + 1}" for i in range(6)]))
    assert_png(plot_digits(x.reshape(6, 28, 28), tmp_path / "d3.png"))


def test_plot_misclassified(tmp_path):
    x = rng.random((5, 784))
    assert_png(plot_misclassified(x, [1, 2, 3, 4, 5], [1, 0, 3, 0, 5], tmp_path / "m.png"))
    assert_png(plot_misclassified(x, [1, 2], [1, 2], tmp_path / "none.png"))


def test_plot_reconstructions(tmp_path):
    x = rng.random((4, 784))
    assert_png(plot_reconstructions(x, np.clip(x + 0.1, 0, 1), tmp_path / "r.png", n=10))
