"""nntoolbox: the course's MATLAB neural-network toolbox (``nn_*``, ``sae_*``) in Python.

MATLAB -> Python: ``nn.W{k}`` -> ``nn.W[k-1]`` (or ``nn["W"][k-1]``); rows are
samples, as in the course's calls.  See README.md and docs/quirks.md.
"""
from .activations import register_activation
from .applygradient import nn_applygradient
from .backprop import nn_backpropagation
from .checkgradient import nn_checkgradient
from .create import nn_create
from .forward import nn_forward
from .labels import one_hot
from . import nesterov  # noqa: F401 - registers the built-in Nesterov optimizers (after optimizers' own)
from .network import Network
from .optimizers import register_optimizer
from .predict import nn_predict, nn_test
from .sae import sae_create, sae_train
from .threads import blas_threads, set_blas_threads
from .train import TrainOptions, nn_train

__all__ = [
    "Network", "TrainOptions", "nn_applygradient", "nn_backpropagation", "nn_checkgradient", "nn_create", "nn_forward",
    "blas_threads", "nn_predict", "nn_test", "nn_train", "one_hot", "register_activation", "register_optimizer",
    "sae_create", "sae_train", "set_blas_threads",
]
__version__ = "0.1.0"
