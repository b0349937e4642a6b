"""ESCM²'s inverse-propensity (IPS) CVR loss."""

from collections.abc import Mapping

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.losses import _counterfactual


@keras_mtl_export
class InversePropensityLoss(_counterfactual.CounterfactualRisk):
    """The CVR loss of the clicked rows, reweighted to the impression space.

        L_IPS = λ_c · (1/N) Σ_{i=1..N} o_i · e_i / clip(p̂_i)

    over the N impressions of the batch: o_i the click, e_i the CVR error
    BCE(conversion_i, pCVR_i) of a clicked row, p̂_i the predicted CTR with
    its gradient stopped, clipped to `[propensity_clip, 1]`. Clicked rows
    are the CVR tower's only supervision, and weighting each by 1/p̂ makes
    the sum an unbiased estimate of the CVR risk over every impression
    (clicked or not) when p̂ is the true click probability. `ESCM2(...,
    counterfactual="ips")` attaches it; the weighting strategy sees it like
    any auxiliary loss. Arguments as in `CounterfactualRisk`
    (`keras_mtl/losses/_counterfactual.py`).

    Args:
        click, conversion, conversion_label: output / task names ("ctr",
            "cvr", "ctcvr": the ctcvr label is the conversion on clicks).
        weight: λ_c.
        propensity_clip: lower bound of p̂ (1/p̂ ≤ 1/propensity_clip).
        name: the term's name in the logs; None: `default_name`.

    Example:
    >>> ips = InversePropensityLoss(weight=1.0, propensity_clip=0.1)
    >>> y_pred = {"ctr": tf.constant([[0.5], [0.0], [0.3]]),
    ...           "cvr": tf.constant([[0.5], [0.5], [0.9]])}
    >>> labels = {"ctr": tf.constant([[1.0], [1.0], [0.0]]),
    ...           "ctcvr": tf.constant([[1.0], [0.0], [0.0]])}
    >>> weights = {"ctr": tf.ones(3), "ctcvr": tf.ones(3)}
    >>> # (ln 2 / 0.5 + ln 2 / 0.1) / 3: the pCTR of 0 is clipped to 0.1
    >>> round(float(ips(y_pred, labels, weights)), 5)
    2.77259

    References:
        Wang et al., "ESCM²: Entire Space Counterfactual Multi-Task Model for
        Post-Click Conversion Rate Estimation", SIGIR 2022.
    """

    default_name = "cvr_ips_loss"

    def __call__(
        self,
        y_pred: Mapping[str, tf.Tensor],
        labels: Mapping[str, tf.Tensor],
        row_weights: Mapping[str, tf.Tensor],
    ) -> tf.Tensor:
        weights, clicks, errors, propensity = self.clicked_rows(y_pred, labels, row_weights)
        return self.weight * _counterfactual.impression_mean(clicks * errors / propensity, weights)
