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


def test_demos_load_metrics_and_plotting_libraries_only_to_use_them():
    """The demos train before they evaluate or plot: importing them (and nntoolbox.metrics/plotting) leaves
    sklearn (scipy.stats) and matplotlib for the first evaluation or figure, ~1.5 s sooner to the first
    epoch; using them still works."""
    code = ("import json, sys, numpy as np; import nntoolbox.demos.chess, nntoolbox.demos.mnist; "
            "from nntoolbox.metrics import evaluate_scores; from nntoolbox.plotting import plot_cost; "
            "before = [m for m in ('sklearn', 'matplotlib') if m in sys.modules]; "
            "e = evaluate_scores([0, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]); "
            "import tempfile, os; p = plot_cost([3.0, 2.0, 1.0], os.path.join(tempfile.mkdtemp(), 'c.png')); "
            "print(json.dumps([before, round(e.accuracy, 4), p.stat().st_size > 0]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == [[], 0.6667, True]
