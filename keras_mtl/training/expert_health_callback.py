"""Logs the expert health of a gated model at the end of every epoch."""

from typing import Any
from typing import Optional

import numpy as np
import tensorflow as tf

from keras_mtl.evaluation import expert_health


class ExpertHealthCallback(tf.keras.callbacks.Callback):
    """Adds gate entropy, expert utilisation and dead units to the epoch logs.

    At the end of every `every`-th epoch it runs the model (inference mode)
    on the rows `x` and adds `expert_health.summary_logs` to the logs:
    `gate_entropy_<task>` (normalised: 1 = uniform, 0 = one expert),
    `expert_max_utilisation`, `expert_zero_fraction` and
    `expert_dead_fraction`; `History` and `CSVLogger` then record them. The
    full reports (per expert) are kept in `reports`, one per logged epoch.
    Nothing runs inside the training step, so losses, metrics and step time
    are those of training without it; its cost is one forward pass over `x`
    per logged epoch (keep `x` to a few thousand rows).

    Args:
        x: `{input name: array}` rows to measure on (e.g. a validation
            sample, from `keras_mtl.data.features_to_arrays`).
        every: log every `every` epochs.
        batch_size: rows per forward pass.

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = keras_mtl.MMoE(feats, num_experts=2, expert_units=(4,), tower_units=())
    >>> model.compile(optimizer="adam")
    >>> x = {"item": np.arange(8) % 10, "price": np.linspace(0, 1, 8).astype("float32")}
    >>> y = {"ctr": np.ones(8, "float32"), "cvr": np.zeros(8, "float32")}
    >>> history = model.fit(x, y, epochs=1, verbose=0,
    ...                     callbacks=[ExpertHealthCallback(x)])
    >>> sorted(k for k in history.history if k.startswith("gate_entropy"))
    ['gate_entropy_ctr', 'gate_entropy_cvr']
    """

    def __init__(self, x: dict[str, np.ndarray], every: int = 1, batch_size: int = 1024) -> None:
        super().__init__()
        if not isinstance(x, dict) or not x:
            raise ValueError(
                "ExpertHealthCallback expected rows as {input name: array}. "
                f"Received: {type(x).__name__}"
            )
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"expected a positive integer. Received: every={every!r}")
        self.x = x
        self.every = every
        self.batch_size = batch_size
        self.reports = []

    def on_epoch_end(self, epoch: int, logs: Optional[dict[str, Any]] = None) -> None:
        if (epoch + 1) % self.every:
            return
        report = expert_health.expert_health(self.model, self.x, self.batch_size)
        report["epoch"] = epoch
        self.reports.append(report)
        if logs is not None:
            logs.update(expert_health.summary_logs(report))
