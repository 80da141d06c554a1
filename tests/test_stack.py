"""Stacked sparse-autoencoder pretraining (nntoolbox.stack) on small synthetic data."""
from __future__ import annotations

import numpy as np
import pytest

import nntoolbox.stack as stack
from nntoolbox import nn_predict, nn_test, sae_create
from nntoolbox.stack import pretrain_layers, sae_encode, sae_stack_pretrain, stack_network

SIZES = [16, 8, 6, 3]
OPTION = {"batch_size": 20, "iteration": 2}


def stack_codes(encoders, x):
    """Codes of the top encoder: ``x`` passed through every encoder in turn."""
    for sae in encoders:
        x = sae_encode(sae, x)
    return np.asarray(x)


def _data(n: int = 240, seed: int = 0):
    """Three well-separated classes of 16-pixel 'images' in [0, 1]."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centers = np.zeros((3, 16))
    for c in range(3):
        centers[c, 5 * c: 5 * c + 6] = 1.0
    x = np.clip(centers[labels] + 0.1 * rng.normal(size=(n, 16)), 0, 1)
    return x, np.eye(3)[labels]


X, Y = _data()


def test_sae_encode_is_the_encoder_half():
    sae = sae_create([16, 5], seed=0)
    expected = 1 / (1 + np.exp(-(sae.W[0] @ X.T + sae.b[0])))
    np.testing.assert_allclose(sae_encode(sae, X), expected.T, rtol=1e-12)
    np.testing.assert_allclose(stack_codes([sae], X), expected.T, rtol=1e-12)


def test_each_autoencoder_learns_the_codes_below(monkeypatch):
    seen = []
    real = stack.sae_train

    def recording(sae, option, x):
        seen.append(np.array(x))
        return real(sae, option, x)

    monkeypatch.setattr(stack, "sae_train", recording)
    encoders, top = pretrain_layers(SIZES, OPTION, X, Y, seed=1)
    assert [e.size.tolist() for e in encoders] == [[16, 8, 16], [8, 6, 8]]
    assert all(e.encoder == 1 and not e.batch_normalization for e in encoders)
    np.testing.assert_array_equal(seen[0], X)
    np.testing.assert_allclose(seen[1], sae_encode(encoders[0], X), rtol=1e-12)
    assert top.size.tolist() == [6, 3] and len(top.cost) > 0


def test_network_is_built_from_the_pretrained_layers():
    encoders, top = pretrain_layers(SIZES, OPTION, X, Y, seed=1)
    nn = stack_network(SIZES, encoders, top, seed=2)
    for k, part in enumerate([*encoders, top]):
        np.testing.assert_array_equal(nn.W[k], part.W[0])
        np.testing.assert_array_equal(nn.b[k], part.b[0])
    # without BN the network computes exactly: top layer applied to the stacked codes
    np.testing.assert_allclose(nn_predict(nn, X), nn_predict(top, stack_codes(encoders, X)), rtol=1e-12)


def test_pipeline_equals_its_parts_and_is_reproducible():
    nn = sae_stack_pretrain(SIZES, OPTION, X, Y, seed=np.random.default_rng(7), fine_tune=False)
    rng = np.random.default_rng(7)
    encoders, top = pretrain_layers(SIZES, OPTION, X, Y, seed=rng)
    manual = stack_network(SIZES, encoders, top, seed=rng)
    np.testing.assert_array_equal(nn._buf.params, manual._buf.params)
    a = sae_stack_pretrain(SIZES, OPTION, X, Y, "learning rate", 0.5, seed=3)
    b = sae_stack_pretrain(SIZES, OPTION, X, Y, "learning rate", 0.5, seed=3)
    np.testing.assert_array_equal(a._buf.params, b._buf.params)
    np.testing.assert_array_equal(a.cost, b.cost)


def test_fine_tuned_network_classifies():
    nn = sae_stack_pretrain(SIZES, {"batch_size": 10, "iteration": 10}, X, Y, "optimization method", "Adam",
                            "learning rate", 0.02, "objective function", "Cross Entropy", seed=0,
                            sae_option={"learning rate": 0.5})
    assert nn.size.tolist() == SIZES and nn.output_function == "softmax"
    assert nn_test(nn, X, Y)[1] > 0.95


def test_batch_normalised_network_gets_weights_only():
    encoders, top = pretrain_layers(SIZES, OPTION, X, Y, "batch normalization", 1, seed=1)
    assert not top.batch_normalization  # pretraining runs without BN
    nn = stack_network(SIZES, encoders, top, "batch normalization", 1, seed=2)
    np.testing.assert_array_equal(nn.W[0], encoders[0].W[0])
    assert all(g.item() == 1.0 for g in nn.Gamma) and all(b.item() == 0.0 for b in nn.Beta)
    nn = sae_stack_pretrain(SIZES, OPTION, X, Y, "batch normalization", 1, seed=1, progress=True)
    assert np.isfinite(nn_predict(nn, X)).all() and nn.vecNum > 0


def test_float32_network_pretrains_in_float32():
    nn = sae_stack_pretrain(SIZES, OPTION, X, Y, dtype="float32", seed=0)
    assert nn.W[0].dtype == np.float32


def test_invalid_arguments():
    with pytest.raises(ValueError, match="at least one hidden layer"):
        sae_stack_pretrain([16, 3], OPTION, X, Y)
    with pytest.raises(ValueError, match="batch normalization must be off"):
        sae_stack_pretrain(SIZES, OPTION, X, Y, sae_option={"batch normalization": 1})
    with pytest.raises(ValueError, match="batch_size"):
        sae_stack_pretrain(SIZES, {"iteration": 1}, X, Y)
    with pytest.warns(UserWarning, match="pretrained features"):
        pretrain_layers(SIZES, {"batch_size": 20}, X, Y, "active function", "tanh", seed=0)


def test_ctrl_c_during_pretraining_stops_the_scheme(monkeypatch):
    def interrupted(sae, option, x):  # what nn_train leaves after catching Ctrl-C
        sae["interrupted"] = True
        return sae

    monkeypatch.setattr(stack, "sae_train", interrupted)
    with pytest.raises(KeyboardInterrupt, match="autoencoder 1"):
        sae_stack_pretrain(SIZES, OPTION, X, Y, seed=0)
