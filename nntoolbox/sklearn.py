"""scikit-learn estimators around ``nn_create`` / ``nn_train`` / ``sae_train``.

``NNClassifier``, ``NNRegressor`` and ``SAETransformer`` take the ``nn_create``
options in Python spelling (``learning_rate``, ``optimization_method``,
``batch_normalization``, the quirk switches, ``textbook`` ...) plus
``hidden_layer_sizes``, ``batch_size``, ``epochs`` and ``random_state``, so
they work in ``Pipeline``, ``GridSearchCV`` and ``cross_val_score``::

    GridSearchCV(NNClassifier(epochs=100), {"learning_rate": [0.001, 0.01],
                                            "optimization_method": ["Adam", "RMSProp"]})

A quirk option left at ``None`` takes ``nn_create``'s default: the course's
behaviour, or the textbook one with ``textbook=True``.  After ``fit``:
``net_`` (the trained network), ``loss_curve_`` (mean batch cost per epoch,
``net_.history["cost"]``), ``n_features_in_`` and, for the classifier, ``classes_``.
Ctrl-C during ``fit`` raises ``KeyboardInterrupt`` and leaves the estimator as
it was before the call (unfitted, or as the previous ``fit`` left it), so a
``GridSearchCV`` stops instead of choosing among truncated fits.

A registered optimizer or activation works in ``GridSearchCV(..., n_jobs=2)``: an estimator, when
unpickled in a worker process, first imports what registered the names it uses (the module, or the file
run by ``nntoolbox.plugins.import_file``); a registration made in ``__main__`` (a notebook cell) cannot
travel (see docs/compare.md).

``sklearn.utils.estimator_checks.check_estimator`` passes for all three with
no expected failure (scikit-learn 1.9).  Should a check have to be excused, it goes into
:data:`EXPECTED_FAILED_CHECKS` with its reason (the test suite passes
``expected_failed_checks=EXPECTED_FAILED_CHECKS[type(est).__name__]``).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, ClassNamePrefixFeaturesOutMixin, RegressorMixin, \
    TransformerMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .create import nn_create
from .interrupts import F
from .network import Network
from .options import check_number
from .plugins import Origin, load_origins, origins_for
from .predict import nn_predict
from .sae import sae_create, sae_train
from .stack import sae_encode
from .train import nn_train

__all__ = ["NNClassifier", "NNRegressor", "SAETransformer", "EXPECTED_FAILED_CHECKS"]

# nn_create options passed through when not None (None: nn_create's default, which textbook=True switches)
NETWORK_OPTIONS = ("active_function", "output_function", "learning_rate", "weight_decay", "batch_normalization",
                   "optimization_method", "objective_function", "keep_probability", "bn_mode", "adam",
                   "momentum", "state_init", "ce_cost", "cost_history", "dropout", "textbook", "dtype")
AUTOENCODER_OPTIONS = NETWORK_OPTIONS + ("sparsity", "beta")

# per estimator: check name -> why it is expected to fail (none today)
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "NNClassifier": {},
    "NNRegressor": {},
    "SAETransformer": {},
}


def _store_params(estimator: BaseEstimator, values: dict[str, Any]) -> None:
    """``self.name = name`` for every ``__init__`` argument, as scikit-learn expects (nothing else)."""
    for name, value in values.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def _rebuild(cls: type, origins: Sequence[Origin]) -> BaseEstimator:
    """An empty estimator of ``cls`` once the registrations it uses are loaded (see ``__reduce__``)."""
    load_origins(origins)
    return cls.__new__(cls)


def _state_kept_on_interrupt(fit: F) -> F:
    """Decorator of ``fit``: on Ctrl-C the estimator's attributes are put back as they were before the call
    and ``KeyboardInterrupt`` goes on (a search stops instead of scoring a truncated fit)."""
    @functools.wraps(fit)
    def wrapper(self: BaseEstimator, *args: Any, **kwargs: Any) -> Any:
        before = dict(vars(self))
        try:
            return fit(self, *args, **kwargs)
        except KeyboardInterrupt:
            vars(self).clear()
            vars(self).update(before)
            raise
    return wrapper  # type: ignore[return-value]


def _seed(random_state: Any) -> int | None:
    """nn_create's seed from sklearn's ``random_state`` (None, int or RandomState)."""
    if random_state is None:
        return None
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


class _NetworkEstimator(BaseEstimator):
    """Shared parameters and the training call; subclasses set the output layer and targets.

    ``output_function`` / ``objective_function`` left at None take the
    subclass's ``_defaults`` (classifier: softmax + cross entropy; regressor:
    linear + MSE)."""
    _option_names: Sequence[str] = NETWORK_OPTIONS
    _defaults: dict[str, Any] = {}

    def __init__(self, hidden_layer_sizes: Sequence[int] = (10,), *, active_function: str = "relu",
                 output_function: str | None = None, learning_rate: float = 0.01, weight_decay: float | None = None,
                 batch_normalization: int | None = None, optimization_method: str = "Adam",
                 objective_function: str | None = None, keep_probability: float | None = None,
                 bn_mode: str | None = None, adam: str | None = None, momentum: float | None = None,
                 state_init: str | None = None, ce_cost: str | None = None, cost_history: str | None = None,
                 dropout: str | None = None, textbook: bool | None = None, dtype: str | None = None,
                 batch_size: int = 100, epochs: int = 200, random_state: Any = None) -> None:
        _store_params(self, locals())

    def __reduce__(self) -> tuple:
        # unpickled (a GridSearchCV worker, a saved model): first re-register the optimizer and activations
        # it names from their module or --import file, then restore the state (which may hold a net_ using them)
        return _rebuild, (type(self), origins_for([self._options()], travel=False)), self.__getstate__()

    def _options(self) -> dict[str, Any]:
        given = {k: getattr(self, k) for k in self._option_names if getattr(self, k) is not None}
        return {**self._defaults, **given}

    def _train(self, n_samples: int, fit: Callable[[dict[str, int]], Network]) -> Network:
        """Run ``fit(option)`` (an ``nn_train``/``sae_train`` call) with the estimator's
        epochs and batch size; keep the network and its per-epoch cost.  Ctrl-C: ``KeyboardInterrupt``."""
        epochs, batch_size = (check_number(getattr(self, k), k, lo=1, integer=True)
                              for k in ("epochs", "batch_size"))
        net = fit({"batch_size": min(batch_size, n_samples), "iteration": epochs})
        if net["interrupted"]:  # nn_train rolled back to its last epoch; a truncated fit is no result
            raise KeyboardInterrupt
        self.net_ = net
        self.loss_curve_ = list(net.history["cost"]) if "history" in net else []
        return net

    def _input(self, x: Any, reset: bool) -> np.ndarray:
        dtype = np.float32 if self.dtype == "float32" else np.float64
        return validate_data(self, x, reset=reset, dtype=dtype)


class NNClassifier(ClassifierMixin, _NetworkEstimator):
    """Classifier: ``nn_create([n_features, *hidden_layer_sizes, n_classes], ...)``
    trained with ``nn_train`` on one-hot targets (the course's layout);
    ``predict_proba`` is the network's output (softmax with cross entropy;
    other outputs are normalised to sum to 1).

    Defaults follow the course's chess demo (relu, Adam, cross entropy) with
    one hidden layer of 10 units; ``batch_size`` is capped at the number of
    samples.  Labels may be integers or strings.  See :data:`EXPECTED_FAILED_CHECKS`.
    """

    @_state_kept_on_interrupt
    def fit(self, X: Any, y: Any) -> "NNClassifier":
        """Train a new network on rows ``X`` and class labels ``y`` (any hashable labels)."""
        x, y = validate_data(self, X, y, dtype=np.float32 if self.dtype == "float32" else np.float64)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(f"NNClassifier needs samples of at least 2 classes; got 1 class: {self.classes_[0]!r}")
        codes = encoder.transform(y)
        targets = np.eye(len(self.classes_), dtype=x.dtype)[codes]
        net = nn_create([x.shape[1], *self.hidden_layer_sizes, len(self.classes_)], **self._options(),
                        seed=_seed(self.random_state))
        self._train(len(x), lambda option: nn_train(net, option, x, targets))
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self)
        out = np.clip(nn_predict(self.net_, self._input(X, reset=False)), 0, None).astype(np.float64)
        total = out.sum(axis=1, keepdims=True)
        # a non-softmax output can be all zero (relu): then no class is preferred
        return np.where(total > 0, out / np.where(total > 0, total, 1), 1 / out.shape[1])

    def predict(self, X: Any) -> np.ndarray:
        """The class with the largest output (as ``nn_test``)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class NNRegressor(RegressorMixin, _NetworkEstimator):
    """Regressor: ``nn_create([n_features, *hidden_layer_sizes, n_targets], 'output function','linear',
    'objective function','MSE', ...)`` trained with ``nn_train``.  ``y`` may be
    one target (1-D) or several (2-D).
    See :data:`EXPECTED_FAILED_CHECKS`.
    """
    _defaults = {"output_function": "linear", "objective_function": "MSE"}

    @_state_kept_on_interrupt
    def fit(self, X: Any, y: Any) -> "NNRegressor":
        """Train a new network on rows ``X`` and real targets ``y``."""
        x, y = validate_data(self, X, y, multi_output=True, y_numeric=True,
                             dtype=np.float32 if self.dtype == "float32" else np.float64)
        self._single_target = y.ndim == 1
        targets = y.reshape(len(y), -1).astype(x.dtype)
        net = nn_create([x.shape[1], *self.hidden_layer_sizes, targets.shape[1]], **self._options(),
                        seed=_seed(self.random_state))
        self._train(len(x), lambda option: nn_train(net, option, x, targets))
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # one output unit per target column
        return tags

    def predict(self, X: Any) -> np.ndarray:
        """The network's outputs (1-D when fitted on one target)."""
        check_is_fitted(self)
        out = nn_predict(self.net_, self._input(X, reset=False)).astype(np.float64)
        return out[:, 0] if self._single_target else out


class SAETransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, _NetworkEstimator):
    """Sparse autoencoder as a feature transformer: ``sae_create([n_features, n_hidden], ...)``
    trained with ``sae_train``; ``transform`` gives the hidden codes (``sae_encode``).
    Stack several in a ``Pipeline`` for the course's stacked pretraining.
    Defaults are ``sae_create``'s (sigmoid, course SGD, learning rate 1.5,
    sparsity 0.03, beta 3).  See :data:`EXPECTED_FAILED_CHECKS`.
    """
    _option_names = AUTOENCODER_OPTIONS

    def __init__(self, n_hidden: int = 100, *, active_function: str | None = None,
                 output_function: str | None = None, learning_rate: float | None = None,
                 weight_decay: float | None = None, sparsity: float | None = None, beta: float | None = None,
                 batch_normalization: int | None = None, optimization_method: str | None = None,
                 objective_function: str | None = None, keep_probability: float | None = None,
                 bn_mode: str | None = None, adam: str | None = None, momentum: float | None = None,
                 state_init: str | None = None, ce_cost: str | None = None, cost_history: str | None = None,
                 dropout: str | None = None, textbook: bool | None = None, dtype: str | None = None,
                 batch_size: int = 100, epochs: int = 10, random_state: Any = None) -> None:
        _store_params(self, locals())

    @_state_kept_on_interrupt
    def fit(self, X: Any, y: Any = None) -> "SAETransformer":
        """Train a new autoencoder to reproduce the rows ``X`` (``y`` is ignored)."""
        x = self._input(X, reset=True)
        sae = sae_create([x.shape[1], int(self.n_hidden)], **self._options(), seed=_seed(self.random_state))
        self._train(len(x), lambda option: sae_train(sae, option, x))
        self._n_features_out = int(self.n_hidden)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Hidden codes of the rows ``X``, one row per sample."""
        check_is_fitted(self)
        return sae_encode(self.net_, self._input(X, reset=False)).astype(np.float64)
