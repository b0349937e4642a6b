"""MAMDR: Domain Negotiation and Domain Regularization as a `fit` loop."""

import numpy as np
import pandas as pd
import tensorflow as tf

from keras_mtl import keras_compat
from keras_mtl.training import step as step_lib
from keras_mtl.training.weighting_callback import WeightingCallback


def declared_domain_variables(model):
    """The variables the model's layers declare domain-specific.

    A layer declares them with a `domain_variables` attribute: variables whose
    leading axis is the domain, slot p used only by rows routed to domain p
    (`StarTopology`'s `W_p, b_p`, `PartitionedNormalization`'s `γ_p, β_p`).
    Nested models are searched too.
    """
    found, seen = [], set()
    stack = list(model.layers)
    while stack:
        layer = stack.pop(0)
        stack.extend(getattr(layer, "layers", []) if layer is not model else [])
        for variable in getattr(layer, "domain_variables", ()):
            if id(variable) not in seen:
                seen.add(id(variable))
                found.append(variable)
    return found


class MAMDR:
    """Trains a multi-domain model with MAMDR instead of the plain step.

    Each training batch is split by its rows' domain ids (`domain_feature`);
    L_d is the model's loss on the rows of domain d. With θ the shared
    variables, θ_i domain i's variables, α = `inner_lr`, β = `outer_lr`,
    γ = `regularization_lr` and k = `num_sampled_domains`, one step is:

    Domain Negotiation: θ̃ ← θ; for each domain d of the batch, in random
    order, θ̃ ← θ̃ − α∇_θ L_d(θ̃); then θ ← θ + β(θ̃ − θ).

    Domain Regularization, for each domain i of the batch: θ̃_i ← θ_i; for
    each of k other domains j of the batch (sampled without replacement),
    θ̃_i ← θ̃_i − α∇ L_j(θ̃_i), L_j evaluated on domain j's rows routed
    through domain i's variables (their domain id set to i); then
    θ̃_i ← θ̃_i − α∇ L_i(θ̃_i) and θ_i ← θ_i + γ(θ̃_i − θ_i).

    Domain-specific variables are those the model's layers declare (see
    `declared_domain_variables`; for STAR the per-domain weights of the star
    layers and of Partitioned Normalization), or `domain_variables`. Every
    other trainable variable is shared by the domains and negotiated (the
    model's `shared_layer` marks what the *tasks* share, another axis). A
    model without domain-specific variables trains by Domain Negotiation
    alone. Moving statistics are updated by the negotiation passes only.
    Rows whose domain id is outside [0, num_domains) are left out. Inner
    steps are plain SGD, as in the formulas. The loss of a domain is the
    model's compiled loss, computed as in `model.fit`
    (`keras_mtl.training.step.forward` and `total` on the model's
    `TrainingState`): per-task losses with NaN labels masked, combined by the
    weighting strategy given to `compile` (`loss_weights` → `FixedWeights`;
    DWA updates its weights at every epoch end), plus regularisation and
    auxiliary losses. Strategies that differentiate per task or train their
    own state (GradNorm, PCGrad, MGDA, UncertaintyWeighting) are refused:
    MAMDR's inner SGD steps take one gradient of the combined loss per
    domain and update only the model's variables, so their gradient surgery
    would never run and their state would never train. `last_schedule` holds
    the order and samples of the last step.

    `fit` takes a `tf.data.Dataset` of `(features, labels[, sample_weight])`
    batches, as `model.fit` does; `keras_mtl.data.domain_balanced_dataset`
    makes the domain-balanced batches MAMDR samples (a batch of rows of
    every domain per step).

    Args:
        model: a compiled `MultiTaskModel` with `domain_feature` among its
            inputs.
        domain_feature: the input holding domain ids.
        num_domains: number of domains D.
        inner_lr: α.
        outer_lr: β, the Domain Negotiation step.
        regularization_lr: γ, the Domain Regularization step.
        num_sampled_domains: k.
        domain_variables: overrides the declared domain-specific variables.
        seed: seed of the domain order and samples.

    Example:
    >>> feats = [SparseFeat("domain", vocabulary_size=2), DenseFeat("x")]
    >>> model = keras_mtl.STAR(feats, star_units=(4,))
    >>> model.compile(optimizer="adam")
    >>> df = pd.DataFrame({"domain": [0, 1, 0, 1], "x": [0.1, 0.4, 0.9, 0.2],
    ...                    "ctr": [0.0, 1.0, 1.0, 0.0]})
    >>> data = keras_mtl.data.domain_balanced_dataset(df, feats, ["ctr"], "domain",
    ...                                               num_domains=2, batch_size=2, seed=0)
    >>> history = MAMDR(model, "domain", num_domains=2, seed=0).fit(data, epochs=2, verbose=0)
    >>> sorted(history.history)
    ['ctr_loss', 'loss', 'regularization_loss']

    References:
        Luo et al., "MAMDR: A Model Agnostic Learning Framework for
        Multi-Domain Recommendation", ICDE 2023.
    """

    def __init__(self, model, domain_feature, num_domains, inner_lr=0.01, outer_lr=0.5,
                 regularization_lr=0.5, num_sampled_domains=2, domain_variables=None,
                 seed=None):
        task_types = getattr(model, "task_types", None)
        if task_types is None:
            raise TypeError(
                "MAMDR expected a keras_mtl MultiTaskModel (a builder's model). "
                f"Received: {type(model).__name__}"
            )
        if keras_compat.is_parameter_server(model.distribute_strategy):
            raise ValueError(
                "MAMDR runs in one process (its inner loops assign variables eagerly, "
                "step by step). Received a model built under ParameterServerStrategy: "
                "build it outside the strategy's scope, or train it with model.fit."
            )
        replicas = model.distribute_strategy.num_replicas_in_sync
        if replicas > 1:
            raise ValueError(
                "MAMDR runs on one replica (its inner loops assign variables eagerly). "
                f"Received a model built under a tf.distribute strategy with {replicas} "
                "replicas: build it outside the strategy's scope."
            )
        state = getattr(model, "training_state", None)
        if state is None:
            raise ValueError(
                "MAMDR trains with the model's compiled losses and weighting strategy. "
                "Received an uncompiled model: call model.compile(optimizer=..., "
                "loss=..., loss_weights=... or weighting=...) first."
            )
        strategy = state.weighting
        if strategy.persistent_tape or strategy.needs_representation or (
                strategy.trainable_variables):
            raise ValueError(
                f"MAMDR cannot train with {type(strategy).__name__}: its inner SGD steps "
                "take one gradient of the combined loss and update the model's variables "
                "only. Expected a strategy that combines losses with weights it does not "
                "train (FixedWeights, DWA)."
            )
        inputs = keras_compat.io_structs(model)[0]
        if not isinstance(inputs, dict) or domain_feature not in inputs:
            raise ValueError(
                f"domain_feature={domain_feature!r} is not an input of the model. "
                f"Expected one of {sorted(inputs) if isinstance(inputs, dict) else inputs}."
            )
        for name, value in (("inner_lr", inner_lr), ("outer_lr", outer_lr),
                            ("regularization_lr", regularization_lr)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"expected a number > 0. Received: {name}={value!r}")
        for name, value in (("num_domains", num_domains),
                            ("num_sampled_domains", num_sampled_domains)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"expected a positive integer. Received: {name}={value!r}")
        self.model = model
        self.domain_feature = domain_feature
        self.num_domains = num_domains
        self.inner_lr, self.outer_lr = float(inner_lr), float(outer_lr)
        self.regularization_lr = float(regularization_lr)
        self.num_sampled_domains = num_sampled_domains
        if domain_variables is None:
            domain_variables = declared_domain_variables(model)
        domain_ids = {id(v) for v in domain_variables}
        self.domain_variables = list(domain_variables)
        self.shared_variables = [v for v in model.trainable_variables if id(v) not in domain_ids]
        if not self.shared_variables:
            raise ValueError(
                "MAMDR expected shared variables besides the domain-specific ones. "
                f"Received {len(self.domain_variables)} domain variables and no others."
            )
        self._rng = np.random.default_rng(seed)
        self._shared_step = self._make_step(self.shared_variables)
        self._domain_step = self._make_step(self.domain_variables)
        self._shared = _Snapshots(self.shared_variables)
        self._domain = _Snapshots(self.domain_variables)
        self._statistics = _Snapshots(model.non_trainable_variables)
        self.last_schedule = None

    def _make_step(self, variables):
        """A compiled SGD step on `variables` with the loss of one domain's rows."""
        if not variables:
            return None
        optimizer = tf.keras.optimizers.SGD(learning_rate=self.inner_lr)
        optimizer.build(variables)
        feature = self.domain_feature

        @tf.function(reduce_retracing=True)
        def step(x, y, sample_weight, rows_of, route_to):
            ids = x[feature]
            mask = tf.equal(tf.reshape(ids, [-1]), tf.cast(rows_of, ids.dtype))  # (B,)
            x, y, sample_weight = tf.nest.map_structure(
                lambda t: None if t is None else tf.boolean_mask(t, mask),
                (x, y, sample_weight),
            )  # rows of domain `rows_of` only
            x = dict(x)
            x[feature] = tf.fill(tf.shape(x[feature]), tf.cast(route_to, ids.dtype))
            state = self.model.training_state
            with tf.GradientTape() as tape:
                out = step_lib.forward(self.model, state, x, y, sample_weight, training=True)
                loss, _ = step_lib.total(state, out)
            grads = tape.gradient(loss, variables)
            optimizer.apply_gradients([
                (tf.zeros(v.shape, v.dtype) if g is None else g, v)
                for g, v in zip(grads, variables)
            ])
            return loss, out.task_losses

        return step

    def schedule(self, domains):
        """Negotiation order and `{i: sampled other domains}` for the domains."""
        order = [int(d) for d in self._rng.permutation(domains)]
        sampled = {}
        for i in domains:
            others = [j for j in domains if j != i]
            size = min(self.num_sampled_domains, len(others))
            sampled[int(i)] = [int(j) for j in self._rng.choice(others, size, replace=False)]
        return order, sampled

    def train_step(self, data):
        """One MAMDR step on a batch `(x, y[, sample_weight])`; returns logs."""
        x, y, sample_weight = tf.keras.utils.unpack_x_y_sample_weight(data)
        ids = np.asarray(x[self.domain_feature]).reshape(-1)
        domains = [int(d) for d in np.unique(ids) if 0 <= d < self.num_domains]
        if not domains:
            return {}
        order, sampled = self.schedule(domains)
        self.last_schedule = {"negotiation": order, "regularization": sampled}
        domain = {d: tf.constant(d, tf.int64) for d in domains}  # no retracing per id
        start = self._shared.take()
        steps = [self._shared_step(x, y, sample_weight, domain[d], domain[d]) for d in order]
        self._shared.interpolate(start, self.outer_lr)
        logs = {"loss": float(np.mean([loss for loss, _ in steps]))}
        for task in self.model.task_names:
            logs[f"{task}_loss"] = float(np.mean([losses[task] for _, losses in steps]))
        if self._domain_step is None:
            return logs
        statistics = self._statistics.take()
        own = []
        for i in domains:
            start = self._domain.take()
            for j in sampled[i]:
                self._domain_step(x, y, sample_weight, domain[j], domain[i])
            own.append(self._domain_step(x, y, sample_weight, domain[i], domain[i])[0])
            self._domain.interpolate(start, self.regularization_lr)
        self._statistics.interpolate(statistics, 0.0)  # restore
        logs["regularization_loss"] = float(np.mean(own))
        return logs

    def fit(self, x, epochs=1, callbacks=None, validation_data=None, verbose=1):
        """Trains for `epochs` passes over `x`; returns a Keras `History`.

        Args:
            x: a `tf.data.Dataset` of `(features, labels[, sample_weight])`
                batches, whose rows are split by domain as they come;
                `keras_mtl.data.domain_balanced_dataset` makes batches of
                rows of every domain, as MAMDR samples them (otherwise small
                domains step on few rows).
            epochs: passes over the data.
            callbacks: Keras callbacks (EarlyStopping, ModelCheckpoint, ...);
                their `model` is the trained model.
            validation_data: a dataset for the compiled model's `evaluate`;
                its logs are added with a "val_" prefix.
            verbose: 0 silent, 1 progress bar.
        """
        if isinstance(x, pd.DataFrame):
            raise TypeError(
                "MAMDR.fit expected a tf.data.Dataset of (features, labels) batches. "
                "Received a DataFrame: batch it with keras_mtl.data.domain_balanced_dataset"
                "(df, features, labels, domain_feature, num_domains, batch_size=...)."
            )
        history = tf.keras.callbacks.History()
        weighting = WeightingCallback(self.model.weighting)
        callback_list = tf.keras.callbacks.CallbackList(
            [weighting] + list(callbacks or []) + [history], add_progbar=verbose != 0,
            model=self.model, epochs=epochs, steps=None, verbose=verbose,
        )
        self.model.stop_training = False
        callback_list.on_train_begin()
        logs = {}
        for epoch in range(epochs):
            callback_list.on_epoch_begin(epoch)
            totals, counts = {}, {}
            for step, batch in enumerate(x):
                callback_list.on_train_batch_begin(step)
                batch_logs = self.train_step(batch)
                for key, value in batch_logs.items():
                    totals[key] = totals.get(key, 0.0) + value
                    counts[key] = counts.get(key, 0) + 1
                callback_list.on_train_batch_end(step, batch_logs)
            logs = {key: totals[key] / counts[key] for key in totals}
            if validation_data is not None:
                scores = self.model.evaluate(validation_data, return_dict=True, verbose=0)
                logs.update({f"val_{k}": float(v) for k, v in scores.items()})
            callback_list.on_epoch_end(epoch, logs)
            if self.model.stop_training:
                break
        callback_list.on_train_end(logs)
        return history


class _Snapshots:
    """Compiled copies of a variable list and the outer update back to them."""

    def __init__(self, variables):
        self.variables = list(variables)
        self.take = tf.function(lambda: [tf.identity(v) for v in self.variables])
        self.interpolate = tf.function(self._interpolate)

    def _interpolate(self, start, rate):
        """`v ← start + rate · (v − start)` (rate 0 restores `start`)."""
        for variable, begin in zip(self.variables, start):
            variable.assign(begin + rate * (tf.convert_to_tensor(variable) - begin))
