"""nntoolbox.preprocessing: the course's normalisation helpers and the input z-score kept in the network
(applied by nn_predict/nn_test, saved in .npz/.mat, used by the chess demo; read by a new process and Octave)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.io

from nntoolbox import nn_create, nn_predict, nn_test, nn_train
from nntoolbox.datasets.krk import ensure_krk_file, load_krk
from nntoolbox.demos import chess
from nntoolbox.io import nn_load, nn_save
from nntoolbox.preprocessing import (apply_input_normalization, data_normalize, fit_input_normalization,
                                     normalize, set_input_normalization, zscore)
from test_octave import OCTAVE, PREDICT_M


def test_zscore_is_matlabs():
    x = np.array([[1.0, 5, 2], [3, 5, 4], [8, 5, 9]])
    z, mu, sigma = zscore(x)
    np.testing.assert_allclose(mu, [[4, 5, 5]])
    np.testing.assert_allclose(sigma, [[np.std([1, 3, 8], ddof=1), 1, np.std([2, 4, 9], ddof=1)]])  # zero std -> 1
    np.testing.assert_allclose(z[:, 1], 0)
    np.testing.assert_allclose(normalize(x, mu, sigma), z)
    for got, want in zip(data_normalize(x), (z, mu, sigma)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("bad, match", [(np.zeros(3), "2-D"), (np.array([[np.nan, 1.0]]), "NaN")])
def test_bad_rows_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        zscore(bad)


def test_bad_statistics_are_refused():
    nn = nn_create([2, 3, 2], seed=0)
    with pytest.raises(ValueError, match="input_mean must have one value per input column"):
        set_input_normalization(nn, [1.0, 2.0, 3.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="input_std must be positive"):
        set_input_normalization(nn, [1.0, 2.0], [1.0, 0.0])


def test_network_carries_and_applies_the_zscore(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal([100.0, -3.0, 7.0], [20.0, 0.1, 2.0], (80, 3))
    y = np.eye(2)[(x[:, 0] > 100).astype(int)]
    nn = fit_input_normalization(nn_create([3, 5, 2], seed=0), x)
    order = {"batch_size": 20, "iteration": 2, "order": np.stack([np.arange(80)] * 2)}
    trained = nn_train(nn, order, x, y)  # raw rows: the network normalises them itself
    z = normalize(x, nn.input_mean, nn.input_std)
    plain = set_input_normalization(nn, None, None)  # the same weights without the statistics
    assert "input_mean" not in plain
    np.testing.assert_array_equal(trained._buf.params, nn_train(plain, order, z, y)._buf.params)
    nn = trained
    plain = set_input_normalization(nn, None, None)
    np.testing.assert_array_equal(nn_predict(nn, x), nn_predict(plain, z))
    np.testing.assert_array_equal(nn_test(nn, x, y)[0], nn_test(plain, z, y)[0])
    for suffix in (".npz", ".mat"):
        loaded = nn_load(nn_save(nn, tmp_path / f"net{suffix}"))
        np.testing.assert_array_equal(loaded.input_mean, nn.input_mean)
        np.testing.assert_array_equal(loaded.input_std, nn.input_std)
        np.testing.assert_allclose(nn_predict(loaded, x), nn_predict(nn, x), rtol=1e-12)
    fields = scipy.io.loadmat(tmp_path / "net.mat")["nn"][0, 0]
    assert fields["input_mean"].shape == fields["input_std"].shape == (1, 3)  # MATLAB row vectors


def test_a_file_with_half_the_statistics_is_refused(tmp_path):
    nn = fit_input_normalization(nn_create([3, 4, 2], seed=0), np.arange(12.0).reshape(4, 3))
    fields = scipy.io.loadmat(nn_save(nn, tmp_path / "net.mat"))["nn"][0, 0]
    s = {k: fields[k] for k in fields.dtype.names if k != "input_std"}
    scipy.io.savemat(tmp_path / "half.mat", {"nn": s})
    with pytest.raises(ValueError, match="half.mat: input_std must have one value per input column"):
        nn_load(tmp_path / "half.mat")
    del nn["input_std"]  # edited by hand: refused when used, naming the field
    with pytest.raises(ValueError, match="input_std"):
        nn_predict(nn, np.zeros((2, 3)))


@pytest.fixture(scope="module")
def chess_run(tmp_path_factory):
    """The chess demo on small settings; its saved network and the raw positions."""
    out = tmp_path_factory.mktemp("chess")
    assert chess.main(["--epochs", "40", "--no-progress", "--seed", "0", "--out", str(out)]) == 0
    data = load_krk(ensure_krk_file(), task="binary")
    raw = tmp_path_factory.mktemp("raw") / "raw.mat"
    scipy.io.savemat(raw, {"x": data.X.astype(float)})
    return out, raw, data, json.loads((out / "summary.json").read_text())


PREDICT_IN_NEW_PROCESS = """
import sys, numpy as np, scipy.io
from nntoolbox.io import nn_load
from nntoolbox import nn_predict
nn = nn_load(sys.argv[1])
np.save(sys.argv[3], nn_predict(nn, scipy.io.loadmat(sys.argv[2])["x"]))
"""


@pytest.mark.parametrize("suffix", [".npz", ".mat"])
def test_saved_chess_network_predicts_raw_positions_in_a_new_process(chess_run, suffix, tmp_path):
    out, raw, data, summary = chess_run
    pred = tmp_path / "pred.npy"
    subprocess.run([sys.executable, "-c", PREDICT_IN_NEW_PROCESS, str(out / f"best_network{suffix}"), str(raw),
                    str(pred)], check=True, timeout=300)
    accuracy = np.mean(np.load(pred).argmax(axis=1) == data.Y.argmax(axis=1))
    # all positions (training ones too) on raw features: as good as the demo's test accuracy
    assert accuracy >= summary["test_accuracy"] - 0.01 and accuracy > 0.9
    nn = nn_load(out / f"best_network{suffix}")
    np.testing.assert_allclose(np.load(pred), nn_predict(nn, data.X.astype(float)), rtol=1e-12)


@pytest.mark.skipif(OCTAVE is None, reason="GNU Octave (octave-cli) is not installed")
def test_saved_chess_network_predicts_raw_positions_in_octave(chess_run, tmp_path):
    out, raw, data, _ = chess_run
    result = tmp_path / "out.mat"
    # the one line a MATLAB/Octave user adds before the course's nn_predict (docs/porting.md)
    script = (PREDICT_M.replace("course_predict(s.nn, d.x)",
                                "course_predict(s.nn, (d.x - s.nn.input_mean) ./ s.nn.input_std)")
              .replace("NET_PATH", f"'{out / 'best_network.mat'}'").replace("DATA_PATH", f"'{raw}'")
              .replace("OUT_PATH", f"'{result}'"))
    assert "input_mean" in script
    (tmp_path / "run.m").write_text(script)
    done = subprocess.run([OCTAVE, "-q", "--no-gui", str(tmp_path / "run.m")], capture_output=True, text=True,
                          timeout=300)
    assert result.is_file(), done.stderr
    nn = nn_load(out / "best_network.mat")
    np.testing.assert_allclose(scipy.io.loadmat(result)["prediction"], nn_predict(nn, data.X.astype(float)),
                               rtol=1e-10, atol=1e-12)
