"""nntoolbox.sklearn: check_estimator, Pipeline / GridSearchCV / cross_val_score, labels and attributes."""
from __future__ import annotations

import warnings

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from nntoolbox import nn_create, nn_train
from nntoolbox.datasets.krk import ensure_krk_file, load_krk
from nntoolbox.sklearn import EXPECTED_FAILED_CHECKS, NNClassifier, NNRegressor, SAETransformer

ESTIMATORS = [
    NNClassifier(epochs=50, random_state=0),
    NNRegressor(epochs=100, random_state=0),
    SAETransformer(n_hidden=5, epochs=5, random_state=0),
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_check_estimator(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # divergence / convergence chatter on sklearn's odd test data
        check_estimator(estimator, expected_failed_checks=EXPECTED_FAILED_CHECKS[type(estimator).__name__])


def _blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.array(["cat", "dog", "eel"])[np.arange(n) % 3]
    x = rng.normal(size=(n, 4)) + 3 * (labels[:, None] == np.array(["cat", "dog", "eel", "x"]))
    return x, labels


def test_classifier_string_labels_and_attributes():
    x, y = _blobs()
    clf = NNClassifier(hidden_layer_sizes=(8,), epochs=40, batch_size=20, random_state=1).fit(x, y)
    assert list(clf.classes_) == ["cat", "dog", "eel"] and clf.n_features_in_ == 4
    assert len(clf.loss_curve_) == 40 and clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert list(clf.net_.sizes) == [4, 8, 3]
    proba = clf.predict_proba(x)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert clf.score(x, y) > 0.9
    assert set(clf.predict(x)) <= set(clf.classes_)
    # same random_state -> same network
    again = NNClassifier(hidden_layer_sizes=(8,), epochs=40, batch_size=20, random_state=1).fit(x, y)
    np.testing.assert_array_equal(again.predict_proba(x), proba)


def test_classifier_mse_output_is_normalised():
    x, y = _blobs()
    clf = NNClassifier(objective_function="MSE", output_function="sigmoid", learning_rate=0.05, epochs=20,
                       random_state=0).fit(x, y)
    np.testing.assert_allclose(clf.predict_proba(x).sum(axis=1), 1)


def test_bad_settings_are_named():
    x, y = _blobs(30)
    with pytest.raises(ValueError, match="epochs"):
        NNClassifier(epochs=0).fit(x, y)
    with pytest.raises(ValueError, match="2 classes"):
        NNClassifier().fit(x, np.zeros(30))
    with pytest.raises(ValueError, match="optimization"):
        NNClassifier(optimization_method="Adamm", epochs=1).fit(x, y)


def test_pipeline_and_cross_val_score_with_stacked_autoencoders():
    x, y = _blobs(150)
    # sigmoid autoencoders reproduce inputs in [0, 1]; the codes are standardised for the classifier
    sae = dict(optimization_method="Adam", learning_rate=0.05, textbook=True, sparsity=0.1, beta=0.1, epochs=100,
               batch_size=25, random_state=0)
    pipe = make_pipeline(MinMaxScaler(), SAETransformer(n_hidden=6, **sae), SAETransformer(n_hidden=5, **sae),
                         StandardScaler(), NNClassifier(hidden_layer_sizes=(), epochs=60, batch_size=25,
                                                        random_state=0))
    scores = cross_val_score(pipe, x, y, cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.5)
    codes = pipe.fit(x, y)[:3].transform(x)
    assert codes.shape == (150, 5) and np.all((codes > 0) & (codes < 1))
    assert list(pipe[:3].get_feature_names_out()) == [f"saetransformer{i}" for i in range(5)]


def test_regressor_fits_a_line_and_two_targets():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(200, 2))
    y = 3 * x[:, 0] - 2 * x[:, 1] + 5  # outside sigmoid's (0, 1): needs the linear output
    reg = NNRegressor(hidden_layer_sizes=(8,), epochs=300, batch_size=20, random_state=0).fit(x, y)
    assert reg.predict(x).shape == (200,) and reg.score(x, y) > 0.95
    two = NNRegressor(epochs=50, random_state=0).fit(x, np.column_stack([y, -y]))
    assert two.predict(x).shape == (200, 2)


def test_grid_search_learning_rate_by_optimizer_on_chess():
    data = load_krk(ensure_krk_file())
    rows = np.random.default_rng(0).choice(len(data.X), 600, replace=False)
    x, y = data.X[rows], np.asarray(data.class_names)[data.class_ids[rows]]  # 'draw' / 'win' labels
    pipe = make_pipeline(StandardScaler(), NNClassifier(hidden_layer_sizes=(10, 10), epochs=40, batch_size=50,
                                                        random_state=0))
    grid = {"nnclassifier__learning_rate": [0.001, 0.01],
            "nnclassifier__optimization_method": ["Adam", "RMSProp"]}
    search = GridSearchCV(pipe, grid, cv=3).fit(x, y)
    assert len(search.cv_results_["params"]) == 4
    majority = max(np.mean(y == "win"), np.mean(y == "draw"))
    assert search.best_score_ > majority  # better than always answering 'win'
    assert set(search.predict(x[:20])) <= {"draw", "win"}


def test_network_loaded_from_a_readonly_memmap_trains(tmp_path):
    """joblib hands workers read-only memmapped arrays; an unpickled network must own writable buffers."""
    x, _ = _blobs(30)
    nn = nn_create([4, 5, 3], seed=0)
    joblib.dump(nn, tmp_path / "nn.joblib")
    loaded = joblib.load(tmp_path / "nn.joblib", mmap_mode="r")
    trained = nn_train(loaded, {"batch_size": 10}, x, np.eye(3)[np.arange(30) % 3])
    assert not np.array_equal(trained.W[0], nn.W[0])
