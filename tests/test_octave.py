"""A network saved with nn_save(.mat) loads in GNU Octave and predicts the same there, computed by a
course-style forward pass written in Octave.  Skipped where ``octave-cli`` is not installed."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import scipy.io

from nntoolbox import nn_create, nn_predict, nn_train
from nntoolbox.io import nn_save

OCTAVE = shutil.which("octave-cli")
pytestmark = pytest.mark.skipif(OCTAVE is None, reason="GNU Octave (octave-cli) is not installed")

# MATLAB/Octave inference as the course's nn_predict does it (BN with the stored E, S and S + 1e-4).
PREDICT_M = r"""
1;
function a = course_predict(nn, x)
  a = x';
  for k = 1:nn.depth - 1
    y = nn.W{k} * a + repmat(nn.b{k}, 1, size(a, 2));
    if nn.batch_normalization
      y = (y - repmat(nn.E{k}, 1, size(y, 2))) ./ repmat(nn.S{k} + 0.0001, 1, size(y, 2));
      y = nn.Gamma{k} * y + nn.Beta{k};
    end
    if k == nn.depth - 1, f = nn.output_function; else, f = nn.active_function; end
    switch f
      case 'sigmoid', a = 1 ./ (1 + exp(-y));
      case 'tanh',    a = tanh(y);
      case 'relu',    a = max(y, 0);
      case 'softmax', a = exp(y - repmat(max(y), size(y, 1), 1)); a = a ./ repmat(sum(a), size(a, 1), 1);
    end
  end
  a = a';
end
s = load(NET_PATH); d = load(DATA_PATH);
prediction = course_predict(s.nn, d.x);
save('-v7', OUT_PATH, 'prediction');
"""


@pytest.mark.parametrize("options", [
    {"active_function": "relu", "batch_normalization": 1, "optimization_method": "Adam",
     "objective_function": "Cross Entropy", "learning_rate": 0.01},
    {"active_function": "tanh", "output_function": "sigmoid", "optimization_method": "Momentum"},
], ids=["relu_bn_adam_ce", "tanh_mse_momentum"])
def test_saved_network_predicts_identically_in_octave(tmp_path, options):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((60, 5)), np.eye(3)[rng.integers(0, 3, 60)]
    nn = nn_create([5, 8, 6, 3], seed=0, **options)
    nn = nn_train(nn, {"batch_size": 20, "iteration": 3}, x, y)
    net, data, out = tmp_path / "net.mat", tmp_path / "data.mat", tmp_path / "out.mat"
    nn_save(nn, net)
    scipy.io.savemat(data, {"x": x})
    script = PREDICT_M.replace("NET_PATH", f"'{net}'").replace("DATA_PATH", f"'{data}'").replace("OUT_PATH", f"'{out}'")
    (tmp_path / "run.m").write_text(script)
    done = subprocess.run([OCTAVE, "-q", "--no-gui", str(tmp_path / "run.m")], capture_output=True, text=True,
                          timeout=300)
    assert out.is_file(), done.stderr
    np.testing.assert_allclose(scipy.io.loadmat(out)["prediction"], nn_predict(nn, x), rtol=1e-12, atol=1e-14)
