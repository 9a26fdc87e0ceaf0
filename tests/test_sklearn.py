"""deltarule.sklearn: scikit-learn's own estimator checks, iris, pickling, Pipeline and GridSearchCV."""
from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

from conftest import require_module

require_module("sklearn")

from sklearn.datasets import load_iris  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import deltarule as dr  # noqa: E402
from deltarule.sklearn import DeltaRuleClassifier, DeltaRuleRegressor  # noqa: E402


# small, quick settings: the checks fit ~100 times on up to a few hundred rows
@parametrize_with_checks([DeltaRuleClassifier(epochs=60), DeltaRuleClassifier(loss="bce", epochs=60),
                          DeltaRuleRegressor(epochs=60),
                          DeltaRuleClassifier(epochs=40, optimizer="adam", optimizer_params={"beta1": 0.8},
                                              learning_rate=0.01, learning_rate_schedule="step",
                                              schedule_params={"step_size": 10, "gamma": 0.5}, l2=1e-3),
                          DeltaRuleRegressor(epochs=40, optimizer="sgd", optimizer_params={"momentum": 0.9},
                                             learning_rate=0.01, early_stopping=True, n_iter_no_change=5)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def test_iris_held_out_accuracy_and_the_network_is_deltarules(iris):
    Xtr, Xte, ytr, yte = iris
    clf = DeltaRuleClassifier(scale="standard", seed=1).fit(Xtr, ytr)
    accuracy = clf.score(Xte, yte)
    assert accuracy >= 0.9, accuracy
    assert isinstance(clf.network_, dr.Network) and clf.network_.sizes == (4, 16, 3)
    assert clf.n_features_in_ == 4 and clf.classes_.tolist() == [0, 1, 2]
    # the estimator's outputs ARE deltarule's forward pass on the scaled inputs
    Xs = (Xte - Xtr.mean(axis=0)) / Xtr.std(axis=0)
    np.testing.assert_allclose(clf.scaler_.transform(Xte), Xs, rtol=1e-12)
    own = clf.network_.predict(clf.scaler_.transform(Xte))
    assert np.array_equal(clf.predict_proba(Xte), own)
    assert np.array_equal(clf.predict(Xte), clf.classes_[own.argmax(axis=1)])
    # and the journal is deltarule's: epoch 0 (the start) to 200, loss falling, accuracy at the end
    j = clf.journal_
    assert j["epoch"].tolist() == list(range(201))
    assert j["loss"].iloc[-1] < 0.2 * j["loss"].iloc[0]
    assert j["accuracy"].iloc[-1] == pytest.approx(clf.score(Xtr, ytr))


def test_string_labels_come_back_as_labels(iris):
    Xtr, Xte, ytr, yte = iris
    names = np.array(["setosa", "versicolor", "virginica"])
    clf = DeltaRuleClassifier(epochs=100).fit(Xtr, names[ytr])
    assert clf.classes_.tolist() == names.tolist()
    assert set(clf.predict(Xte)) <= set(names) and clf.score(Xte, names[yte]) >= 0.9


def test_a_fixed_seed_gives_the_same_journal_twice_and_another_seed_does_not(iris):
    Xtr, _, ytr, _ = iris
    a = DeltaRuleClassifier(epochs=20, seed=3).fit(Xtr, ytr).journal_
    b = DeltaRuleClassifier(epochs=20, seed=3).fit(Xtr, ytr).journal_
    c = DeltaRuleClassifier(epochs=20, seed=4).fit(Xtr, ytr).journal_
    assert a.equals(b)
    assert not np.array_equal(a.to_numpy(), c.to_numpy())


def test_binary_bce_has_one_sigmoid_output():
    X, y = load_iris(return_X_y=True)
    X, y = X[y < 2], np.where(y[y < 2] == 1, "yes", "no")
    clf = DeltaRuleClassifier(loss="bce", epochs=50).fit(X, y)
    assert clf.network_.sizes == (4, 16, 1) and clf.network_.loss.name == "bce"
    p = clf.network_.predict(clf.scaler_.transform(X))[:, 0]
    proba = clf.predict_proba(X)
    assert np.array_equal(proba[:, 1], p) and np.allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(clf.predict(X), np.where(p >= 0.5, "yes", "no")) and clf.score(X, y) == 1.0


def test_a_loss_without_a_classifier_output_is_refused():
    with pytest.raises(ValueError, match="classifier's loss"):
        DeltaRuleClassifier(loss="half_sse").fit([[0.0], [1.0]], [0, 1])


def test_partial_fit_continues_the_journal_and_equals_fit_epoch_by_epoch(iris):
    Xtr, _, ytr, _ = iris
    clf = DeltaRuleClassifier(shuffle=False)
    for _ in range(3):
        clf.partial_fit(Xtr, ytr, classes=[0, 1, 2])
    assert clf.journal_["epoch"].tolist() == [0, 1, 2, 3] and clf.n_iter_ == 3
    # in file order, three one-epoch calls are three epochs of one run
    whole = DeltaRuleClassifier(shuffle=False, epochs=3).fit(Xtr, ytr)
    np.testing.assert_allclose(clf.network_.parameters(), whole.network_.parameters(), rtol=1e-12)
    with pytest.raises(ValueError, match="classes="):
        DeltaRuleClassifier().partial_fit(Xtr, ytr)


def test_regressor_fits_a_line_and_multi_output():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(200, 2))
    Y = np.column_stack([2 * X[:, 0] - X[:, 1] + 0.5, X[:, 0] * X[:, 1]])
    reg = DeltaRuleRegressor(hidden_layer_sizes=(8,), epochs=300, learning_rate=0.2).fit(X, Y)
    assert reg.predict(X).shape == (200, 2) and reg.score(X, Y) > 0.95
    lin = DeltaRuleRegressor(hidden_layer_sizes=(), scale=None, epochs=200).fit(X, Y[:, 0])
    assert lin.predict(X).shape == (200,)
    np.testing.assert_allclose(lin.network_.layers[0].W, [[2.0, -1.0]], atol=1e-3)
    np.testing.assert_allclose(lin.network_.layers[0].b, [0.5], atol=1e-3)


def test_pickle_round_trip_gives_the_same_predictions(iris):
    Xtr, Xte, ytr, _ = iris
    clf = DeltaRuleClassifier(epochs=10).fit(Xtr, ytr)
    back = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(back.predict_proba(Xte), clf.predict_proba(Xte))
    # activations and losses travel by name: the registry's own objects come back
    assert back.network_.layers[0].activation is dr.activations.get("tanh")
    assert back.network_.loss is dr.losses.get("cross_entropy")


def test_pipeline_and_grid_search(iris):
    Xtr, Xte, ytr, yte = iris
    pipe = make_pipeline(StandardScaler(), DeltaRuleClassifier(scale=None, epochs=100))
    assert pipe.fit(Xtr, ytr).score(Xte, yte) >= 0.9
    grid = GridSearchCV(DeltaRuleClassifier(epochs=100),
                        {"hidden_layer_sizes": [(2,), (8,)], "learning_rate": [0.001, 0.1]}, cv=3)
    grid.fit(Xtr, ytr)
    assert len(grid.cv_results_["params"]) == 4
    # a learning rate of 0.001 for 100 epochs barely moves: the search must prefer 0.1
    assert grid.best_params_["learning_rate"] == 0.1 and grid.best_score_ >= 0.85, grid.cv_results_["mean_test_score"]


def test_import_deltarule_does_not_import_sklearn():
    code = "import sys, deltarule; print('sklearn' in sys.modules, 'deltarule.sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_without_scikit_learn_the_import_says_how_to_get_it():
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "try:\n    import deltarule.sklearn\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("deltarule.sklearn needs scikit-learn >= 1.6: pip install deltarule[sklearn]"), out


# -- optimizers, schedules, L2, early stopping through the estimator (issue 17 item 6) ---------------------
def test_adam_on_unscaled_iris():
    X, y = load_iris(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    clf = DeltaRuleClassifier(scale=None, optimizer="adam", learning_rate=0.01, epochs=100, seed=2).fit(Xtr, ytr)
    assert clf.scaler_ is None and clf.score(Xte, yte) >= 0.9, clf.score(Xte, yte)
    # the estimator's network is dr.train's with the same optimizer on the same start
    start = DeltaRuleClassifier(scale=None, epochs=0, seed=2).fit(Xtr, ytr).network_
    ref = dr.train(start, Xtr, np.eye(3)[ytr], 0.01, dr.Schedule("minibatch", 32, 100, True, 2),
                   optimizer=dr.optimizers.Adam())
    assert np.array_equal(clf.network_.parameters(), ref.network.parameters())
    plain = DeltaRuleClassifier(scale=None, learning_rate=0.01, epochs=100, seed=2).fit(Xtr, ytr)
    assert not np.array_equal(plain.network_.parameters(), clf.network_.parameters())


def test_settings_reach_train_and_bad_ones_are_named():
    X, y = load_iris(return_X_y=True)
    kw = dict(epochs=6, shuffle=False, seed=3, learning_rate=0.05)
    settings = dict(optimizer="sgd", optimizer_params={"momentum": 0.9, "nesterov": True},
                    learning_rate_schedule="step", schedule_params={"step_size": 2, "gamma": 0.5}, l2=0.01)
    clf = DeltaRuleClassifier(**kw, **settings).fit(X, y)
    assert clf.get_params()["optimizer_params"] is settings["optimizer_params"]  # stored unchanged
    start = DeltaRuleClassifier(**dict(kw, epochs=0)).fit(X, y).network_
    ref = dr.train(start, clf.scaler_.transform(X), np.eye(3)[y], 0.05, dr.Schedule("minibatch", 32, 6, False, 3),
                   optimizer=dr.optimizers.SGD(momentum=0.9, nesterov=True),
                   lr_schedule=dr.schedules.Step(step_size=2, gamma=0.5), l2=0.01)
    assert np.array_equal(clf.network_.parameters(), ref.network.parameters())
    assert clf.journal_["learning_rate"].tolist() == [0.05, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125]
    for bad, says in ((dict(optimizer="adamm"), "optimizer must be one of sgd, rmsprop, adam, adamw, got 'adamm'"),
                      (dict(optimizer="adam", optimizer_params={"beta1": 2.0}), "optimizer 'adam': beta1: must be in [0, 1)"),
                      (dict(optimizer="adam", optimizer_params={"momentum": 0.9}), "optimizer 'adam'"),
                      (dict(learning_rate_schedule="cosine"), "learning_rate_schedule 'cosine'"),
                      (dict(l2=-1.0), "l2 must be >= 0")):
        with pytest.raises(ValueError, match=None) as e:
            DeltaRuleClassifier(**dict(kw, **bad)).fit(X, y)
        assert says in str(e.value), str(e.value)


def test_partial_fit_carries_the_optimizer_state():
    X, y = load_iris(return_X_y=True)
    kw = dict(optimizer="adam", learning_rate=0.01, shuffle=False, seed=4, method="batch")
    stepwise = DeltaRuleClassifier(**kw)
    for _ in range(3):
        stepwise.partial_fit(X, y, classes=[0, 1, 2])
    straight = DeltaRuleClassifier(**kw, epochs=3).fit(X, y)
    assert np.array_equal(stepwise.network_.parameters(), straight.network_.parameters())
    assert stepwise._optimizer_state_["t"] == 3


def test_early_stopping_holds_out_rows_and_keeps_the_best():
    X, y = load_iris(return_X_y=True)
    clf = DeltaRuleClassifier(optimizer="adam", learning_rate=0.05, epochs=300, early_stopping=True,
                              validation_fraction=0.2, n_iter_no_change=5, seed=5).fit(X, y)
    j = clf.journal_
    assert "val_loss" in j.columns and clf.n_iter_ < 300      # it stopped
    best = int(j["val_loss"].idxmin())
    # n_iter_no_change = 5 as scikit-learn counts it: stopped after 5 + 1 epochs without a lower val_loss
    assert j["val_loss"].iloc[best + 1:].min() >= j["val_loss"].iloc[best] and len(j) - 1 - best == 6
    # the scaler saw the 120 training rows only, and the network kept is the best epoch's
    assert clf.scaler_.n_samples_seen_ == 120
    params = j.iloc[best, 2:2 + clf.network_.parameters().size].to_numpy(float)
    assert np.array_equal(clf.network_.parameters(), params)
