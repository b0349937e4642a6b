"""The loss that trains ESCM²-DR's imputation tower."""

from collections.abc import Mapping

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.losses import _counterfactual


@keras_mtl_export
class ImputationLoss(_counterfactual.ImputedRisk):
    """Fits the imputed CVR error δ̂ to the clicked rows' error, reweighted.

        L_imp = λ · (1/N) Σ_{i=1..N} o_i · (e_i − δ̂_i)² / clip(p̂_i)

    over the N impressions: o_i the click, e_i the CVR error
    BCE(conversion_i, pCVR_i) with its gradient stopped (the term trains
    the imputation tower, not the CVR tower), δ̂_i the imputation output,
    p̂_i the predicted CTR (gradient stopped, clipped to
    `[propensity_clip, 1]`). `ESCM2(..., counterfactual="dr")` attaches it
    beside `DoublyRobustLoss`, with the same weight.

    Args:
        click, conversion, conversion_label: output / task names ("ctr",
            "cvr", "ctcvr").
        imputation: the output holding δ̂.
        weight: λ.
        propensity_clip: lower bound of p̂.
        name: the term's name in the logs; None: `default_name`.

    Example:
    >>> imp = ImputationLoss(weight=1.0, propensity_clip=0.1)
    >>> y_pred = {"ctr": tf.constant([[0.5], [0.2]]), "cvr": tf.constant([[0.5], [0.5]]),
    ...           "cvr_imputation": tf.constant([[0.4], [0.3]])}
    >>> labels = {"ctr": tf.constant([[1.0], [0.0]]), "ctcvr": tf.constant([[1.0], [0.0]])}
    >>> weights = {"ctr": tf.ones(2), "ctcvr": tf.ones(2)}
    >>> round(float(imp(y_pred, labels, weights)), 5)  # (ln 2 − 0.4)² / 0.5 / 2
    0.08594

    References:
        Wang et al., "ESCM²: Entire Space Counterfactual Multi-Task Model for
        Post-Click Conversion Rate Estimation", SIGIR 2022.
    """

    default_name = "imputation_loss"

    def __call__(
        self,
        y_pred: Mapping[str, tf.Tensor],
        labels: Mapping[str, tf.Tensor],
        row_weights: Mapping[str, tf.Tensor],
    ) -> tf.Tensor:
        weights, clicks, errors, propensity = self.clicked_rows(y_pred, labels, row_weights)
        errors = tf.stop_gradient(errors)
        fit = clicks * tf.square(errors - self.imputed(y_pred)) / propensity  # (B,)
        return self.weight * _counterfactual.impression_mean(fit, weights)
