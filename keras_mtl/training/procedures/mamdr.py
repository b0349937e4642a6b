"""MAMDR: Domain Negotiation and Domain Regularization as a `fit` loop."""

from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Optional

import numpy as np
import pandas as pd
import tensorflow as tf

from keras_mtl.training.procedures import mamdr_steps
from keras_mtl.training.procedures import round_loop
from keras_mtl.training.procedures.domain_variables import declared_domain_variables
from keras_mtl.training.procedures.variable_snapshots import VariableSnapshots

if TYPE_CHECKING:
    from keras_mtl.training.multi_task_model import MultiTaskModel

INNER_OPTIMIZERS = {
    "adam": tf.keras.optimizers.Adam,
    "sgd": tf.keras.optimizers.SGD,
}
OUTER_OPTIMIZERS = ("adam", "sgd")


class MAMDR:
    """Trains a multi-domain model with MAMDR instead of the plain step.

    θ are the shared variables, θ_i domain i's variables, L_d the model's
    loss on the rows of domain d (ids from `domain_feature`), α = `inner_lr`,
    β = `outer_lr`, γ = `regularization_lr`, k = `num_sampled_domains`. A
    round is:

    Domain Negotiation: θ̃ ← θ; for each domain d, in random order, an inner
    pass over d's rows: θ̃ ← θ̃ − α_d∇_θ L_d(θ̃); then the outer step
    θ ← θ + β(θ̃ − θ).

    Domain Regularization, for each domain i: θ̃_i ← θ_i; for each of k other
    domains j (sampled without replacement) an inner pass over j's rows
    routed through domain i's variables (their domain id set to i),
    θ̃_i ← θ̃_i − α_i∇L_j(θ̃_i); then one over i's own rows,
    θ̃_i ← θ̃_i − α_i∇L_i(θ̃_i); then the outer step θ_i ← θ_i + γ(θ̃_i − θ_i).

    Where keras_mtl follows the paper (Luo et al.; its reference code,
    RManLuo/MAMDR) and where it differs (rounds per batch by default,
    inner rates by domain share, SGD inner and Adam outer steps, declared
    domain variables, no per-domain fine-tuning) is in docs/multi-domain.md
    ("MAMDR against the paper").

    The defaults were chosen on validation rows of
    `benchmarks/mamdr_tuning.py`; that search, the paper's settings and the
    defaults against `model.fit` are in docs/benchmarks.md ("MAMDR defaults
    chosen on validation rows", "Multi-domain: Shared-Bottom and STAR, with
    and without MAMDR").

    Moving statistics are updated by the negotiation passes only (with
    `rounds="batch"` by the first of each round: one update per batch, as in
    `model.fit`). Rows whose domain id is outside [0, num_domains) are left
    out. A domain's loss is the compiled loss as `model.fit` computes it
    (`keras_mtl.training.step.forward` and `total`): masked per-task losses
    combined by the weighting strategy, plus regularisation and auxiliary
    losses. Strategies that differentiate per task or train their own state
    (GradNorm, PCGrad, MGDA, UncertaintyWeighting) are refused: MAMDR takes
    one gradient of the combined loss per domain, so their surgery would
    never run. `last_schedule` holds the order and samples of the last round.

    Args:
        model: a compiled `MultiTaskModel` with `domain_feature` among its
            inputs.
        domain_feature: the input holding domain ids.
        num_domains: number of domains D.
        inner_lr: α.
        outer_lr: β, the Domain Negotiation outer rate (Adam's learning rate
            with `outer_optimizer="adam"`).
        regularization_lr: γ, the Domain Regularization outer rate.
        num_sampled_domains: k (0: each domain's variables train on its own
            rows only).
        inner_optimizer: "sgd" or "adam" (state kept across steps).
        outer_optimizer: "adam" or "sgd" (the interpolations).
        rounds: "batch" or "epoch" (see above).
        domain_variables: overrides the declared domain-specific variables.
        seed: seed of the domain order and samples.

    Example:
    >>> feats = [SparseFeat("domain", vocabulary_size=2), DenseFeat("x")]
    >>> model = keras_mtl.STAR(feats, star_units=(4,))
    >>> model.compile(optimizer="adam")
    >>> df = pd.DataFrame({"domain": [0, 1, 0, 1], "x": [0.1, 0.4, 0.9, 0.2],
    ...                    "ctr": [0.0, 1.0, 1.0, 0.0]})
    >>> data = keras_mtl.data.df_to_dataset(df, feats, ["ctr"], batch_size=2, shuffle=True)
    >>> history = MAMDR(model, "domain", num_domains=2, seed=0).fit(data, epochs=2, verbose=0)
    >>> sorted(history.history)
    ['ctr_loss', 'loss', 'regularization_loss']

    References:
        Luo et al., "MAMDR: A Model Agnostic Learning Framework for
        Multi-Domain Recommendation", ICDE 2023.
    """

    def __init__(
        self,
        model: "MultiTaskModel",
        domain_feature: str,
        num_domains: int,
        inner_lr: float = 0.01,
        outer_lr: float = 1e-3,
        regularization_lr: float = 1e-3,
        num_sampled_domains: int = 0,
        inner_optimizer: str = "sgd",
        outer_optimizer: str = "adam",
        rounds: str = "batch",
        domain_variables: Optional[Sequence[tf.Variable]] = None,
        seed: Optional[int] = None,
    ) -> None:
        mamdr_steps.check_model(model, domain_feature)
        for name, value in (
            ("inner_lr", inner_lr),
            ("outer_lr", outer_lr),
            ("regularization_lr", regularization_lr),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"expected a number > 0. Received: {name}={value!r}")
        for name, value, least in (
            ("num_domains", num_domains, 1),
            ("num_sampled_domains", num_sampled_domains, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"expected an integer ≥ {least}. Received: {name}={value!r}")
        self.model = model
        self.domain_feature = domain_feature
        self.num_domains = num_domains
        self.inner_lr, self.outer_lr = float(inner_lr), float(outer_lr)
        self.regularization_lr = float(regularization_lr)
        self.num_sampled_domains = num_sampled_domains
        if inner_optimizer not in INNER_OPTIMIZERS:
            raise ValueError(
                f"expected inner_optimizer in {sorted(INNER_OPTIMIZERS)}. "
                f"Received: inner_optimizer={inner_optimizer!r}"
            )
        self.inner_optimizer = inner_optimizer
        if outer_optimizer not in OUTER_OPTIMIZERS:
            raise ValueError(
                f"expected outer_optimizer in {sorted(OUTER_OPTIMIZERS)}. "
                f"Received: outer_optimizer={outer_optimizer!r}"
            )
        self.outer_optimizer = outer_optimizer
        if rounds not in ("batch", "epoch"):
            raise ValueError(f"expected rounds='batch' or 'epoch'. Received: rounds={rounds!r}")
        self.rounds = rounds
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
        self._shared_step = self._inner_step(self.shared_variables)
        self._domain_step = self._inner_step(self.domain_variables)
        self._shared = VariableSnapshots(self.shared_variables)
        self._domain = VariableSnapshots(self.domain_variables)
        self._statistics = VariableSnapshots(model.non_trainable_variables)
        self._shared_outer = self._outer_step(self.shared_variables, self.outer_lr)
        self._domain_outer = self._outer_step(self.domain_variables, self.regularization_lr)
        self.last_schedule = None

    def _inner_step(self, variables):
        if not variables:
            return None
        optimizer = INNER_OPTIMIZERS[self.inner_optimizer](learning_rate=self.inner_lr)
        return mamdr_steps.inner_step(
            self.model,
            variables,
            optimizer,
            self.domain_feature,
            self.num_domains,
            by_share=self.rounds == "batch",
        )

    def _outer_step(self, variables, rate):
        if self.outer_optimizer == "sgd" or not variables:
            return None  # the interpolation of the formulas
        return mamdr_steps.outer_adam_step(variables, rate, self.inner_lr)

    def schedule(self, domains: Sequence[int]) -> tuple[list[int], dict[int, list[int]]]:
        """Negotiation order and `{i: sampled other domains}` for the domains."""
        order = [int(d) for d in self._rng.permutation(domains)]
        sampled = {}
        for i in domains:
            others = [j for j in domains if j != i]
            size = min(self.num_sampled_domains, len(others))
            sampled[int(i)] = [int(j) for j in self._rng.choice(others, size, replace=False)]
        return order, sampled

    def _cycle(self, domains, passes):
        """One round of Domain Negotiation then Domain Regularization.

        `passes(d)` yields the `(x, y, sample_weight)` batches of an inner
        pass over domain d (batches whose rows of domain d are used).
        """
        order, sampled = self.schedule(domains)
        self.last_schedule = {"negotiation": order, "regularization": sampled}
        domain = {d: tf.constant(d, tf.int64) for d in domains}  # no retracing per id
        start = self._shared.take()
        steps, statistics = [], None
        for d in order:
            for x, y, w in passes(d):
                steps.append(self._shared_step(x, y, w, domain[d], domain[d]))
                if statistics is None:  # moving statistics: the first pass's update only
                    statistics = self._statistics.take()
        if statistics is not None and self.rounds == "batch":
            self._statistics.interpolate(statistics, 0.0)  # one update per batch, as in fit
        if self._shared_outer is None:
            self._shared.interpolate(start, self.outer_lr)
        else:
            self._shared_outer(start, self._shared.moved(start))
        if not steps:
            return {}
        logs = {"loss": float(np.mean([loss for loss, _ in steps]))}
        for task in self.model.task_names:
            logs[f"{task}_loss"] = float(np.mean([losses[task] for _, losses in steps]))
        if self._domain_step is None:
            return logs
        statistics = self._statistics.take()
        own, moved = [], None
        first = self._domain.take()
        for i in domains:
            start = self._domain.take() if self._domain_outer is None else first
            for j in sampled[i]:
                for x, y, w in passes(j):
                    self._domain_step(x, y, w, domain[j], domain[i])
            own.extend(self._domain_step(x, y, w, domain[i], domain[i])[0] for x, y, w in passes(i))
            if self._domain_outer is None:
                self._domain.interpolate(start, self.regularization_lr)
            else:  # every domain starts from `first`; one outer step for all
                step = self._domain.moved(first)
                moved = step if moved is None else [a + b for a, b in zip(moved, step)]
                self._domain.interpolate(first, 0.0)
        if self._domain_outer is not None:
            self._domain_outer(first, moved)
        self._statistics.interpolate(statistics, 0.0)  # restore
        logs["regularization_loss"] = float(np.mean(own))
        return logs

    def train_step(self, data: Any) -> dict[str, float]:
        """One MAMDR round on one batch `(x, y[, sample_weight])`; returns logs.

        Each inner pass over a domain is one step on that domain's rows of
        the batch (the formulas with a single inner step per domain).
        """
        x, y, sample_weight = tf.keras.utils.unpack_x_y_sample_weight(data)
        ids = np.asarray(x[self.domain_feature]).reshape(-1)
        domains = [int(d) for d in np.unique(ids) if 0 <= d < self.num_domains]
        if not domains:
            return {}
        return self._cycle(domains, lambda d: [(x, y, sample_weight)])

    def domain_stream(self, x: tf.data.Dataset, domain: int, batch_size: int) -> tf.data.Dataset:
        """The rows of `domain` in dataset `x`, in batches of `batch_size`."""
        feature = self.domain_feature

        def of_domain(*element):
            ids = tf.reshape(element[0][feature], [-1])
            return tf.equal(ids[0], tf.cast(domain, ids.dtype))

        return x.unbatch().filter(of_domain).batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def fit(
        self,
        x: tf.data.Dataset,
        epochs: int = 1,
        callbacks: Optional[Sequence[tf.keras.callbacks.Callback]] = None,
        validation_data: Optional[tf.data.Dataset] = None,
        verbose: int = 1,
        batch_size: Optional[int] = None,
    ) -> tf.keras.callbacks.History:
        """Trains for `epochs` passes over `x`; returns a Keras `History`.

        With `rounds="batch"`, every batch of `x` is one round
        (`train_step`). With `rounds="epoch"` (the paper code's schedule),
        every epoch is one round whose inner pass over a domain is a pass
        over all of that domain's rows of `x`, in batches of `batch_size`
        rows of that domain only; each pass reads `x` again (`unbatch` +
        `filter` by domain id), `D · (k + 2)` times per epoch.

        Args:
            x: a `tf.data.Dataset` of `(features, labels[, sample_weight])`
                batches of any mix of domains (e.g. `df_to_dataset(...,
                shuffle=True)`).
            epochs: passes over the data.
            callbacks: Keras callbacks (EarlyStopping, ModelCheckpoint, ...);
                their `model` is the trained model.
            validation_data: a dataset for the compiled model's `evaluate`;
                its logs are added with a "val_" prefix.
            verbose: 0 silent, 1 progress bar, 2 one line per epoch (on a
                dataset of unknown length, one extra pass counts its
                batches first).
            batch_size: with `rounds="epoch"`, rows per inner step; default
                the size of `x`'s first batch.
        """
        if isinstance(x, pd.DataFrame):
            raise TypeError(
                "MAMDR.fit expected a tf.data.Dataset of (features, labels) batches. "
                "Received a DataFrame: batch it with keras_mtl.data.df_to_dataset"
                "(df, features, labels, batch_size=..., shuffle=True)."
            )
        if not isinstance(x, tf.data.Dataset):
            raise TypeError(
                "MAMDR.fit expected a tf.data.Dataset of (features, labels) batches. "
                f"Received: {type(x).__name__}"
            )
        if verbose not in (0, 1, 2):
            raise ValueError(f"expected verbose 0, 1 or 2. Received: verbose={verbose!r}")
        rounds = self._epoch_rounds(x, batch_size) if self.rounds == "epoch" else None
        steps = 1 if rounds else round_loop.steps_per_epoch(x, verbose)
        return round_loop.fit_rounds(
            self.model,
            (lambda: [None]) if rounds else (lambda: x),
            (lambda _: rounds()) if rounds else self.train_step,
            epochs=epochs,
            steps=steps,
            callbacks=callbacks,
            validation_data=validation_data,
            verbose=verbose,
        )

    def _epoch_rounds(self, x, batch_size):
        """A function running one epoch-long round over the domains of `x`."""
        domains, first = set(), None
        for batch in x:
            ids = np.asarray(batch[0][self.domain_feature]).reshape(-1)
            first = len(ids) if first is None else first
            domains.update(int(d) for d in ids if 0 <= d < self.num_domains)
        domains = sorted(domains)
        if batch_size is None:
            batch_size = first or 1
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"expected a positive integer. Received: batch_size={batch_size!r}")
        streams = {d: self.domain_stream(x, d, batch_size) for d in domains}

        def passes(d):
            for batch in streams[d]:
                yield tf.keras.utils.unpack_x_y_sample_weight(batch)

        return lambda: self._cycle(domains, passes) if domains else {}
