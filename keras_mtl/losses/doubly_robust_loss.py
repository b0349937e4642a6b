"""ESCM²'s doubly robust (DR) CVR loss."""

from collections.abc import Mapping

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.losses import _counterfactual


@keras_mtl_export
class DoublyRobustLoss(_counterfactual.ImputedRisk):
    """The CVR risk over every impression, imputed and corrected on clicks.

        L_DR = λ_c · (1/N) Σ_{i=1..N} [δ̂_i + o_i · (e_i − δ̂_i) / clip(p̂_i)]

    δ̂_i is the imputation output (the CVR error predicted for every
    impression), o_i the click, e_i the CVR error BCE(conversion_i, pCVR_i)
    of a clicked row, p̂_i the predicted CTR (gradient stopped, clipped to
    `[propensity_clip, 1]`). The estimate is unbiased when either p̂ or δ̂ is
    right. δ̂ enters with its gradient stopped: this term trains the CVR
    tower (through e), and `ImputationLoss` trains the imputation tower, so
    the imputation tower cannot lower this loss by predicting small errors
    on unclicked rows. `ESCM2(..., counterfactual="dr")` attaches both.

    Args:
        click, conversion, conversion_label: output / task names ("ctr",
            "cvr", "ctcvr").
        imputation: the output holding δ̂.
        weight: λ_c.
        propensity_clip: lower bound of p̂.
        name: the term's name in the logs; None: `default_name`.

    Example:
    >>> dr = DoublyRobustLoss(weight=1.0, propensity_clip=0.1)
    >>> y_pred = {"ctr": tf.constant([[0.5], [0.2]]), "cvr": tf.constant([[0.5], [0.5]]),
    ...           "cvr_imputation": tf.constant([[0.4], [0.3]])}
    >>> labels = {"ctr": tf.constant([[1.0], [0.0]]), "ctcvr": tf.constant([[1.0], [0.0]])}
    >>> weights = {"ctr": tf.ones(2), "ctcvr": tf.ones(2)}
    >>> # (0.4 + (ln 2 − 0.4) / 0.5 + 0.3) / 2
    >>> round(float(dr(y_pred, labels, weights)), 5)
    0.64315

    References:
        Wang et al., "ESCM²: Entire Space Counterfactual Multi-Task Model for
        Post-Click Conversion Rate Estimation", SIGIR 2022.
    """

    default_name = "cvr_dr_loss"

    def __call__(
        self,
        y_pred: Mapping[str, tf.Tensor],
        labels: Mapping[str, tf.Tensor],
        row_weights: Mapping[str, tf.Tensor],
    ) -> tf.Tensor:
        weights, clicks, errors, propensity = self.clicked_rows(y_pred, labels, row_weights)
        imputed = tf.stop_gradient(self.imputed(y_pred))  # (B,)
        risk = imputed + clicks * (errors - imputed) / propensity  # (B,)
        return self.weight * _counterfactual.impression_mean(risk, weights)
