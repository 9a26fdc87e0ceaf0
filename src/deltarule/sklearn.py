"""scikit-learn estimators over deltarule: :class:`DeltaRuleClassifier`, :class:`DeltaRuleRegressor`.

``fit(X, y)`` builds a :class:`~deltarule.network.Network` from the constructor's parameters
(layers drawn as a problem file's ``units``/``init`` layers are, by :func:`deltarule.netfile.parse_network`),
trains it with :func:`deltarule.train` and keeps it as ``network_``, the journal as ``journal_``
(a pandas DataFrame: ``epoch``, ``loss``, the parameters, ``accuracy`` for classifiers).
X is (n, d) with examples as rows; the network sees ``scaler_.transform(X)`` (scikit-learn's
StandardScaler or MinMaxScaler, fitted on the training X; None when ``scale=None``), so
``network_.predict(scaler_.transform(X))`` is exactly ``predict_proba(X)`` (softmax output) or
``predict(X)`` (regressor, as (n, K)).

Needs scikit-learn (``pip install deltarule[sklearn]``); ``import deltarule`` does not import it.

Classifier outputs: ``loss="cross_entropy"`` (default) puts a softmax over K = len(classes_)
outputs; ``loss="bce"`` puts sigmoids: one output for two classes (P(classes_[1])), else one per
class (one-vs-rest; ``predict_proba`` normalises their rows to sum 1). The output activation is the
one the loss is fused with in :mod:`deltarule.losses`. The regressor's output is the identity, one
unit per target column (y (n,) or (n, K)).

Gradient descent only (no momentum or Adam: deltarule teaches the plain delta rule); ``method`` /
``batch_size`` / ``shuffle`` / ``epochs`` make the :class:`~deltarule.schedule.Schedule`, ``seed`` draws
the initial weights and each epoch's order, so the same seed gives the same journal, bit for bit.
``partial_fit`` trains one epoch more on the data given (the scaler is fitted on the first call only).
"""
from __future__ import annotations

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.preprocessing import MinMaxScaler, StandardScaler
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as e:  # say how to get it, not just that a module is missing
    raise ImportError(f"deltarule.sklearn needs scikit-learn >= 1.6: pip install deltarule[sklearn] ({e})") from e

from . import activations as _act
from . import losses as _loss
from .metrics import classifier as _decision_rule
from .netfile import parse_network
from .schedule import Schedule
from .training import train

SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler}


class _DeltaRule(BaseEstimator):
    """What the classifier and the regressor share: the network, the scaler, the training."""

    def __init__(self, hidden_layer_sizes=(16,), activation="tanh", loss="half_sse", learning_rate=0.1,
                 method="minibatch", batch_size=32, epochs=200, shuffle=True, scale="standard",
                 init="xavier", seed=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.learning_rate = learning_rate
        self.method = method
        self.batch_size = batch_size
        self.epochs = epochs
        self.shuffle = shuffle
        self.scale = scale
        self.init = init
        self.seed = seed

    # -- building -------------------------------------------------------------------------------
    def _seed(self) -> int:
        """The integer seed: ``seed``, or one drawn from fresh entropy when it is None."""
        if self.seed is None:
            return int(np.random.default_rng().integers(2**31))
        return int(self.seed)

    def _network(self, d: int, outputs: int, output_activation: str):
        """d inputs -> hidden_layer_sizes (activation) -> outputs (output_activation), drawn by init."""
        sizes = [int(u) for u in self.hidden_layer_sizes]
        layers = [{"units": u, "activation": self.activation, "init": self.init} for u in sizes]
        layers.append({"units": outputs, "activation": output_activation, "init": self.init})
        layers[0]["inputs"] = d
        doc = {"layers": layers, "loss": self.loss, "reduction": "mean"}
        return parse_network(doc, seed=self._seed_)

    def _scaled(self, X, fit: bool):
        if fit:
            if self.scale is not None and self.scale not in SCALERS:
                raise ValueError(f"scale must be None, 'standard' or 'minmax', got {self.scale!r}")
            self.scaler_ = SCALERS[self.scale]().fit(X) if self.scale is not None else None
        return X if self.scaler_ is None else self.scaler_.transform(X)

    def _schedule(self, epochs: int, offset: int) -> Schedule:
        size = self.batch_size if self.method == "minibatch" else None
        return Schedule(self.method, size, int(epochs), bool(self.shuffle), self._seed_ + offset)

    def _train(self, Xs, Y, epochs: int, first: bool) -> None:
        """Train ``network_`` on scaled inputs Xs (n, d) and targets Y (n, K); extend ``journal_``."""
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        done = 0 if first else int(self.journal_["epoch"].iloc[-1])
        result = train(self.network_, Xs, Y, float(self.learning_rate), self._schedule(epochs, done),
                       initial_row=first)
        self.network_ = result.network
        frame = result.journal.to_frame()
        if first:
            self.journal_ = frame
        else:
            import pandas as pd

            frame["epoch"] += done
            self.journal_ = pd.concat([self.journal_, frame], ignore_index=True)
        self.n_iter_ = int(self.journal_["epoch"].iloc[-1])
        self.loss_ = float(self.journal_["loss"].iloc[-1])

    def _fit(self, X, y, epochs: int, first: bool, classes=None):
        X, y = validate_data(self, X, y, reset=first, multi_output=self._multi_output, y_numeric=self._numeric)
        if first:
            self._seed_ = self._seed()
        Xs = self._scaled(X, fit=first)
        Y = self._targets(y, first, classes)
        if first:
            self.network_ = self._network(X.shape[1], Y.shape[1], self._output_activation())
        self._train(Xs, Y, epochs, first)
        return self

    def _outputs(self, X):
        """network_.predict on the scaled X: (n, K)."""
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False)
        return self.network_.predict(X if self.scaler_ is None else self.scaler_.transform(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.seed is None
        return tags


class DeltaRuleClassifier(ClassifierMixin, _DeltaRule):
    """A feedforward network trained by the delta rule, as a scikit-learn classifier.

    Softmax + cross-entropy over the K classes by default (``loss="bce"``: sigmoid outputs).
    ``classes_`` are the sorted labels; ``predict_proba(X)`` is (n, K), one column per class.

    >>> from sklearn.datasets import load_iris
    >>> from deltarule.sklearn import DeltaRuleClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = DeltaRuleClassifier(epochs=50).fit(X, y)
    >>> clf.network_.sizes, clf.classes_.tolist(), clf.score(X, y) > 0.9
    ((4, 16, 3), [0, 1, 2], True)
    """

    _multi_output = False
    _numeric = False

    def __init__(self, hidden_layer_sizes=(16,), activation="tanh", loss="cross_entropy", learning_rate=0.1,
                 method="minibatch", batch_size=32, epochs=200, shuffle=True, scale="standard",
                 init="xavier", seed=0):
        super().__init__(hidden_layer_sizes, activation, loss, learning_rate, method, batch_size, epochs,
                         shuffle, scale, init, seed)

    def _output_activation(self) -> str:
        """The activation the loss is fused with (softmax for cross_entropy, sigmoid for bce)."""
        fused = _loss.get(self.loss).fused if self.loss in _loss.LOSSES else {}
        if not fused:
            choices = ", ".join(name for name, loss in _loss.LOSSES.items() if loss.fused)
            raise ValueError(f"a classifier's loss must be one with a fused output activation "
                             f"({choices}), got {self.loss!r}")
        return next(iter(fused))

    def _targets(self, y, first: bool, classes=None):
        """Targets (n, K): one-hot rows of the class index, or one 0/1 column for two classes
        with an elementwise (sigmoid) output."""
        check_classification_targets(y)
        y = column_or_1d(y, warn=True)
        if first:
            self.classes_ = np.unique(y if classes is None else np.asarray(classes))
        index = np.searchsorted(self.classes_, y)
        if np.any(index >= len(self.classes_)) or np.any(self.classes_[np.minimum(index, len(self.classes_) - 1)] != y):
            raise ValueError(f"y holds labels not in classes_ {self.classes_.tolist()}")
        K = len(self.classes_)
        if K == 2 and _act.get(self._output_activation()).elementwise:
            return (index == 1).astype(np.float64)[:, None]
        return np.eye(K)[index]

    def fit(self, X, y):
        """Draw a new network and train it ``epochs`` epochs on (X (n, d), y (n,) labels)."""
        return self._fit(X, y, self.epochs, first=True)

    def partial_fit(self, X, y, classes=None):
        """One epoch more on (X, y); the first call draws the network (``classes``: every label)."""
        first = not hasattr(self, "network_")
        if first and classes is None:
            raise ValueError("the first call to partial_fit needs classes= (every label)")
        return self._fit(X, y, 1, first=first, classes=classes)

    def predict_proba(self, X):
        """(n, K) class probabilities: the softmax outputs as they are; one sigmoid p becomes
        [1 - p, p]; several sigmoids are divided by their row sum."""
        yhat = self._outputs(X)
        if len(self.classes_) == 2 and yhat.shape[1] == 1:
            return np.hstack([1.0 - yhat, yhat])
        if _decision_rule(self.network_) == "argmax":
            return yhat
        return yhat / np.maximum(yhat.sum(axis=1, keepdims=True), np.finfo(yhat.dtype).tiny)

    def predict(self, X):
        """(n,) labels: the largest probability (one sigmoid output: p >= 0.5, deltarule's rule)."""
        proba = self.predict_proba(X)
        if len(self.classes_) == 2 and self.network_.sizes[-1] == 1:
            return self.classes_[_loss.decide(proba[:, 1], "threshold")]
        return self.classes_[np.argmax(proba, axis=1)]


class DeltaRuleRegressor(RegressorMixin, _DeltaRule):
    """A feedforward network trained by the delta rule, as a scikit-learn regressor.

    Identity outputs, one per target column; ``loss`` ``half_sse`` (default), ``sse``, ``mse`` or
    ``half_mse``. ``predict(X)`` is (n,) for a 1-D y, else (n, K).

    >>> import numpy as np
    >>> from deltarule.sklearn import DeltaRuleRegressor
    >>> X = np.linspace(-1, 1, 40)[:, None]
    >>> reg = DeltaRuleRegressor(hidden_layer_sizes=(), epochs=100).fit(X, 3 * X[:, 0] + 1)
    >>> reg.network_.sizes, reg.predict([[0.5]]).round(2).tolist()
    ((1, 1), [2.5])
    """

    _multi_output = True
    _numeric = True

    def _output_activation(self) -> str:
        return "identity"

    def _targets(self, y, first: bool, classes=None):
        y = np.asarray(y, dtype=np.float64)
        if first:
            self._y_1d_ = y.ndim == 1
        return y.reshape(len(y), -1)

    def fit(self, X, y):
        """Draw a new network and train it ``epochs`` epochs on (X (n, d), y (n,) or (n, K))."""
        return self._fit(X, y, self.epochs, first=True)

    def partial_fit(self, X, y):
        """One epoch more on (X, y); the first call draws the network."""
        return self._fit(X, y, 1, first=not hasattr(self, "network_"))

    def predict(self, X):
        """network_'s outputs: (n,) when fitted on a 1-D y, else (n, K)."""
        yhat = self._outputs(X)
        return yhat[:, 0] if self._y_1d_ else yhat

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
