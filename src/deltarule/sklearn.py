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

Plain gradient descent by default; ``optimizer`` names one of :mod:`deltarule.optimizers` (``sgd``,
``rmsprop``, ``adam``, ``adamw``) and ``optimizer_params`` its settings as a problem file writes them
(``{"momentum": 0.9, "nesterov": True}``, ``{"beta1": 0.8, "eps_placement": "sklearn"}``);
``learning_rate_schedule`` names one of :mod:`deltarule.schedules` with ``schedule_params``
(``"step"``, ``{"step_size": 10, "gamma": 0.5}``); ``l2`` is λ of ``regularization: {l2: λ}`` (the loss
gains (λ/2)·Σ‖W‖², weights only; scikit-learn's ``alpha`` is λ·B for batches of B). ``early_stopping``
holds out ``validation_fraction`` of the rows (drawn by ``seed``; the scaler is fitted on the rest),
stops after ``n_iter_no_change`` + 1 epochs without a lower val_loss (scikit-learn's count: patience
k + 1) and keeps the best epoch's network.
``method`` / ``batch_size`` / ``shuffle`` / ``epochs`` make the :class:`~deltarule.schedule.Schedule`,
``seed`` draws the initial weights and each epoch's order, so the same seed gives the same journal, bit
for bit. ``partial_fit`` trains one epoch more on the data given (the scaler is fitted on the first
call only; the optimizer's state carries from call to call, the schedule's rate is its first epoch's;
no early stopping).
"""
from __future__ import annotations

import math
import numbers

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
                 init="xavier", seed=0, optimizer="sgd", optimizer_params=None, learning_rate_schedule=None,
                 schedule_params=None, l2=0.0, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10):
        self.optimizer = optimizer
        self.optimizer_params = optimizer_params
        self.learning_rate_schedule = learning_rate_schedule
        self.schedule_params = schedule_params
        self.l2 = l2
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
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

    def _check_params(self) -> None:
        """Each constructor parameter's type and range (scikit-learn's convention): a ValueError that
        names it, before any work; never a TypeError from deep inside."""
        for name, low in (("epochs", 0), ("batch_size", 1)):  # epochs=0: the initial network
            v = getattr(self, name)
            if (name == "epochs" or self.method == "minibatch") and not _whole(v, low):
                raise ValueError(f"{name} must be a whole number >= {low}, got {v!r}")
        for name, low in (("learning_rate", 0.0), ("l2", None), ("validation_fraction", None)):
            v = getattr(self, name)
            if not _real(v) or (low is not None and not v > low) or not v >= 0:
                raise ValueError(f"{name} must be {'>' if low is not None else '>='} 0 (a finite number), got {v!r}")
        for name in ("shuffle", "early_stopping"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        self._optimization(), self._stopping()

    def _optimization(self) -> dict:
        """``train``'s optimizer=, lr_schedule=, l2= from the constructor's parameters (ValueError
        naming the parameter when one is wrong)."""
        from . import optimizers, schedules
        from .optimization import _registered

        out = {}
        for param, key, registry, name, settings in (
                ("optimizer", "optimizer", optimizers, self.optimizer, self.optimizer_params),
                ("learning_rate_schedule", "lr_schedule", schedules, self.learning_rate_schedule,
                 self.schedule_params)):
            if name is None and key == "lr_schedule":
                continue
            try:
                if name not in (getattr(registry, "OPTIMIZERS", None) or registry.SCHEDULES):
                    raise KeyError(name)
                # the problem file's typed reader: nesterov='yes' or beta1='x' refused, not taken
                out[key] = _registered({**dict(settings or {}), "name": name}, param, registry)
            except KeyError:
                names = ", ".join(getattr(registry, "OPTIMIZERS", None) or registry.SCHEDULES)
                raise ValueError(f"{param} must be one of {names}, got {name!r}") from None
            except (TypeError, ValueError) as e:  # InputError is a ValueError
                field = getattr(e, "field", "").removeprefix(param).removeprefix(".")
                raise ValueError(f"{param} {name!r}: {field + ': ' if field else ''}{getattr(e, 'message', e)}") \
                    from None
        if isinstance(self.l2, bool) or not isinstance(self.l2, numbers.Real) or not self.l2 >= 0:
            raise ValueError(f"l2 must be >= 0, got {self.l2!r}")
        return {**out, "l2": float(self.l2)}

    def _stopping(self):
        """The EarlyStopping of ``fit`` (None without early_stopping)."""
        from .early_stopping import EarlyStopping

        if not self.early_stopping:
            return None
        k = self.n_iter_no_change
        if not _whole(k, 1):
            raise ValueError(f"n_iter_no_change must be a whole number >= 1, got {k!r}")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}")
        # scikit-learn's n_iter_no_change = k stops after k + 1 epochs without improvement
        return EarlyStopping(patience=int(self.n_iter_no_change) + 1, restore_best=True)

    def _split(self, n: int):
        """(training rows, validation rows) for early stopping, drawn by the seed; (all, None) without it."""
        if not self.early_stopping:
            return np.arange(n), None
        order = np.random.default_rng(self._seed_).permutation(n)
        held = int(round(self.validation_fraction * n))
        if held < 1 or held >= n:
            raise ValueError(f"early_stopping needs rows on both sides of validation_fraction="
                             f"{self.validation_fraction}: n_samples = {n} gives {held} held out")
        return np.sort(order[held:]), np.sort(order[:held])

    def _train(self, Xs, Y, epochs: int, first: bool, validation=None) -> None:
        """Train ``network_`` on scaled inputs Xs (n, d) and targets Y (n, K); extend ``journal_``."""
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        done = 0 if first else int(self.journal_["epoch"].iloc[-1])
        ended = []  # the optimizer's state after the last epoch, for partial_fit to carry on from
        result = train(self.network_, Xs, Y, float(self.learning_rate), self._schedule(epochs, done),
                       initial_row=first, validation=validation,
                       early_stopping=self._stopping() if validation is not None else None,
                       optimizer_state=None if first else getattr(self, "_optimizer_state_", None),
                       on_epoch=lambda e: ended.append(e), **self._optimization())
        if ended:
            self._optimizer_state_ = ended[-1].checkpoint().state
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

    def _fit(self, X, y, epochs: int, first: bool, classes=None, stopping: bool = False):
        X, y = validate_data(self, X, y, reset=first, multi_output=self._multi_output, y_numeric=self._numeric)
        if first:
            self._seed_ = self._seed()
            self._check_params()
        Y = self._targets(y, first, classes)
        rows, held = self._split(len(X)) if stopping else (np.arange(len(X)), None)
        Xs = self._scaled(X[rows], fit=first)
        if first:
            self.network_ = self._network(X.shape[1], Y.shape[1], self._output_activation())
        validation = None if held is None else (self._scaled(X[held], fit=False), Y[held])
        self._train(Xs, Y[rows], epochs, first, validation)
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
                 init="xavier", seed=0, optimizer="sgd", optimizer_params=None, learning_rate_schedule=None,
                 schedule_params=None, l2=0.0, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10):
        super().__init__(hidden_layer_sizes, activation, loss, learning_rate, method, batch_size, epochs,
                         shuffle, scale, init, seed, optimizer, optimizer_params, learning_rate_schedule,
                         schedule_params, l2, early_stopping, validation_fraction, n_iter_no_change)

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
        return self._fit(X, y, self.epochs, first=True, stopping=True)

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
        return self._fit(X, y, self.epochs, first=True, stopping=True)

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


def _whole(v, low: int) -> bool:
    """A whole number (not a bool) >= low."""
    return not isinstance(v, (bool, np.bool_)) and isinstance(v, numbers.Integral) and v >= low


def _real(v) -> bool:
    """A finite real number (not a bool)."""
    return not isinstance(v, (bool, np.bool_)) and isinstance(v, numbers.Real) and math.isfinite(v)
