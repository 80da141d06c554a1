"""Reading fields as the course spells them, and what Python's name binding means for ``storedNN = nn``
(issue 20; the docs: docs/network.md, docs/porting.md)."""
from __future__ import annotations

import copy

import pytest

from nntoolbox import nn_create


@pytest.fixture
def nn():
    return nn_create([4, 3, 2], "learning rate", 0.25, "weight decay", 0.001, "active function", "relu", seed=0)


@pytest.mark.parametrize("spelling", ["learning rate", "Learning Rate", "learning_rate", " learning  rate "])
def test_a_spelled_option_reads_as_it_assigns(nn, spelling):
    assert nn[spelling] == 0.25 and spelling in nn
    nn[spelling] = 0.5
    assert nn[spelling] == nn.learning_rate == 0.5


@pytest.mark.parametrize("spelling, field", [("active function", "active_function"), ("weight decay", "weight_decay"),
                                             ("optimization method", "optimization_method"),
                                             ("objective function", "objective_function"),
                                             ("batch normalization", "batch_normalization"),
                                             ("keep probability", "keep_probability")])
def test_every_spaced_course_name_reads(nn, spelling, field):
    assert nn[spelling] == nn[field] and spelling in nn


def test_unknown_names_still_raise_key_error(nn):
    with pytest.raises(KeyError):
        nn["learning rat"]
    assert "learning rat" not in nn and "W" in nn
    with pytest.raises(AttributeError):
        nn.learning_rat


def test_storedNN_is_another_name_for_the_same_network(nn):
    stored = nn  # Python binds a second name; it copies nothing
    nn.learning_rate = 0.5
    nn.W[0][0, 0] = 99
    assert stored.learning_rate == 0.5 and stored.W[0][0, 0] == 99


@pytest.mark.parametrize("how", [lambda n: n.copy(), copy.copy, copy.deepcopy])
def test_a_copy_keeps_the_value_as_matlab_does(nn, how):
    stored = how(nn)
    nn.learning_rate = 0.5
    nn.W[0][0, 0] = 99
    assert stored.learning_rate == 0.25 and stored.W[0][0, 0] != 99


def test_batch_norms_beta_is_not_the_sparsity_beta(nn):
    with pytest.raises(KeyError):
        nn["Beta"]  # no batch norm: no per-layer Beta
    with pytest.raises(ValueError, match="did you mean nn.beta"):
        nn["Beta"] = 2.0
    assert nn.beta == 3
    bn = nn_create([4, 3, 2], "batch normalization", 1, seed=0)
    assert len(bn["Beta"]) == 2 and bn["beta"] == 3
