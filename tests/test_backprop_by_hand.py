"""notebooks/08_backprop_by_hand.ipynb: the course notes' 2-2-1 example gives the notes' numbers.

The notebook's code cells run here in-process (tests/test_notebooks.py runs it in a kernel too); its
variables are asserted: the notes give dL/dy = 3, dL/dw11 = 3 and w11 -> 0.97, the other eight
gradients follow from the chain rule with the weights the notebook states."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "08_backprop_by_hand.ipynb"
NAMES = ["w11", "w12", "w21", "w22", "b1", "b2", "w1", "w2", "b3"]
# hand-derived for x = (1, 2), target 2, biases 1, w11 = w1 = 1, w12 = w21 = w22 = 0, w2 = 2:
# z1 = 2, z2 = 1 (both ReLUs pass), y_hat = 5, dL/dy = 3, dL/dz1 = 3 * w1 = 3, dL/dz2 = 3 * w2 = 6
GRADIENTS = [3.0, 6.0, 6.0, 12.0, 3.0, 6.0, 6.0, 3.0, 3.0]
BEFORE = [1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0]


@pytest.fixture(scope="module")
def notebook() -> dict:
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns: dict = {}
    for i, cell in enumerate(nbformat.read(NOTEBOOK, as_version=4).cells):
        if cell.cell_type == "code":
            exec(compile(cell.source, f"{NOTEBOOK.name} cell {i}", "exec"), ns)  # noqa: S102 - our notebook
    plt.close("all")
    return ns


def test_forward_pass_and_loss(notebook):
    assert (notebook["z1"], notebook["z2"], notebook["y_hat"], notebook["L"]) == (2.0, 1.0, 5.0, 4.5)
    assert notebook["dL_dy"] == 3.0


def test_chain_rule_gradients(notebook):
    by_hand = notebook["by_hand"]
    assert list(by_hand.index) == NAMES
    np.testing.assert_array_equal(by_hand.to_numpy(), GRADIENTS)


def test_toolbox_gradients_and_cost_equal_the_chain_rule(notebook):
    np.testing.assert_allclose(notebook["from_toolbox"].to_numpy(), GRADIENTS, rtol=1e-14)
    nn = notebook["nn"]
    assert nn.cost[-1] == pytest.approx(4.5, rel=1e-14)  # the toolbox's MSE for one sample is the notes' L


def test_numerical_check_passes(notebook):
    check = notebook["check"]
    assert check.attrs["passed"] and check["max_relative_error"].max() <= 1e-6
    assert list(check["max_abs_gradient"]) == pytest.approx([12.0, 6.0, 6.0, 3.0], rel=1e-8)


def test_one_update(notebook):
    assert notebook["w11_new"] == pytest.approx(0.97, rel=1e-14)
    expected = np.array(BEFORE) - 0.01 * np.array(GRADIENTS)
    np.testing.assert_allclose(notebook["after_update"].to_numpy(), expected, rtol=1e-14, atol=1e-16)
    assert abs(notebook["y_hat_new"] - 2.0) < abs(5.0 - 2.0)
