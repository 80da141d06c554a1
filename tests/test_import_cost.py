"""``import nntoolbox`` leaves the heavy optional libraries unloaded until a function needs them
(pandas for nn.history, scipy.special for the numpy engine's sigmoid, sklearn for metrics,
matplotlib for plots), and the MATLAB-style names import as before."""
from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pandas", "scipy.special", "sklearn", "matplotlib")


def test_import_loads_no_optional_library():
    code = ("import json, sys; from nntoolbox import nn_create, nn_train, nn_test, nn_predict, nn_forward, "
            "nn_backpropagation, nn_applygradient, sae_create, sae_train, one_hot, register_activation; "
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []


def test_history_and_numpy_sigmoid_load_them_when_used():
    code = ("import json, sys, numpy as np; from nntoolbox import nn_create, nn_train; "
            "nn = nn_create([2, 3, 1], 'active function', 'sigmoid'); "
            "nn = nn_train(nn, {'batch_size': 4, 'iteration': 1, 'engine': 'stepwise'}, np.ones((4, 2)), np.ones((4, 1))); "
            "h = nn.history; print(json.dumps([type(h).__name__, 'scipy.special' in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == ["DataFrame", True]
