"""Warnings point at the user's line (issue 20): the file and line of the call that caused them,
whichever path inside nntoolbox reached them (``nntoolbox.userwarn.warn``)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from nntoolbox import nn_create, nn_train
from nntoolbox.datasets.mnist import load_mnist
from nntoolbox.optimizers import register_optimizer
from nntoolbox.userwarn import warn


def caught(action) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        action()
    assert seen, "no warning"
    return seen


def assert_here(seen: list[warnings.WarningMessage]) -> None:
    # numpy's own overflow warnings (the stepwise engine diverging) name numpy's caller; ours are checked
    seen = [w for w in seen if "overflow encountered" not in str(w.message)]
    assert seen and [w.filename for w in seen] == [__file__] * len(seen), [(w.filename, str(w.message)) for w in seen]


def edit_objective_by_attribute():
    nn = nn_create([4, 3, 2], seed=0)
    nn.objective_function = "Cross Entropy"


def edit_objective_by_item():
    nn = nn_create([4, 3, 2], seed=0)
    nn["objective function"] = "Cross Entropy"


def edit_keep_probability():
    nn = nn_create([4, 3, 2], seed=0)
    nn.keep_probability = 0.5


def create_with_ignored_dropout():
    nn_create([4, 3, 2], "keep probability", 0.5, seed=0)


def train_until_it_diverges():
    rng = np.random.default_rng(0)
    x = rng.random((20, 2))
    nn = nn_create([2, 3, 2], "learning rate", 1e300, seed=0)
    nn_train(nn, {"batch_size": 10, "iteration": 3, "engine": "stepwise", "progress": False}, x,
             np.eye(2)[(x[:, 0] > 0.5).astype(int)])


@pytest.mark.parametrize("action", [edit_objective_by_attribute, edit_objective_by_item, edit_keep_probability,
                                    create_with_ignored_dropout, train_until_it_diverges],
                         ids=lambda f: f.__name__)
def test_warning_names_the_callers_file(action):
    assert_here(caught(action))


def test_the_callers_line():
    nn = nn_create([4, 3, 2], seed=0)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        line = __import__("inspect").currentframe().f_lineno + 1
        nn.objective_function = "Cross Entropy"
    assert [(w.filename, w.lineno) for w in seen] == [(__file__, line)]


def test_a_python_optimizer_warns_at_nn_train_call():
    def update(p, g, state, hyper, t):
        p -= hyper[0] * g

    register_optimizer("userwarn_test_plain", update)
    x = np.random.default_rng(0).random((20, 2))
    nn = nn_create([2, 3, 2], "optimization method", "userwarn_test_plain", seed=0)
    assert_here(caught(lambda: nn_train(nn, {"batch_size": 10, "iteration": 1, "progress": False}, x,
                                        np.eye(2)[(x[:, 0] > 0.5).astype(int)])))


def test_a_loader_warns_at_the_users_call(tmp_path):
    x = np.full((2, 28, 28), 255.0)  # float pixels in 0..255 are used as given, with a warning
    np.savez(tmp_path / "mnist.npz", x_test=x, y_test=np.array([1, 2]))
    assert_here(caught(lambda: load_mnist(tmp_path)))


def test_warn_called_from_outside_the_package():
    assert_here(caught(lambda: warn("direct")))
