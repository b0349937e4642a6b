"""What ESCM²'s counterfactual CVR losses share: the clicked rows, their
CVR error and the clipped propensity."""

from collections.abc import Collection
from collections.abc import Mapping
from typing import Any
from typing import Optional

import tensorflow as tf

from keras_mtl.losses.auxiliary_loss import AuxiliaryLoss


def _number(name, value, low, high, low_open=False):
    bad = isinstance(value, bool) or not isinstance(value, (int, float))
    if bad or value > high or value < low or (low_open and value == low):
        interval = f"({low}, {high}]" if low_open else f"[{low}, {high}]"
        raise ValueError(f"expected a number in {interval}. Received: {name}={value!r}")
    return float(value)


class CounterfactualRisk(AuxiliaryLoss):
    """Base of the losses that debias the CVR tower with the click propensity.

    Reads the click output `pCTR` (the propensity p̂, with its gradient
    stopped, clipped to `[propensity_clip, 1]`), the conversion output
    `pCVR`, the click labels `o` and a label that holds the conversion on
    clicked rows (`conversion_label`: ESCM²'s ctcvr label, click · buy, or a
    cvr label). `e_i = BCE(conversion_i, pCVR_i)` is the CVR error of a
    clicked row. Every impression of the batch whose click label is present
    counts (weighted by its sample weight); a clicked row whose conversion
    label is missing counts as unclicked.

    Args:
        click: the click output and task (its label is o).
        conversion: the CVR output.
        conversion_label: the trained task whose label is the conversion on
            clicked rows.
        weight: λ_c >= 0, the term's weight in the total.
        propensity_clip: lower bound of p̂ in (0, 1]; 1/p̂ is at most its
            inverse, so a pCTR of 0 gives a finite loss.
        name: the term's name in the logs; None: the class's `default_name`.
    """

    #: The term's name in the logs unless `name` is given.
    default_name = "counterfactual_loss"

    def __init__(
        self,
        click: str = "ctr",
        conversion: str = "cvr",
        conversion_label: str = "ctcvr",
        weight: float = 1.0,
        propensity_clip: float = 0.05,
        name: Optional[str] = None,
    ) -> None:
        super().__init__(self.default_name if name is None else name)
        for arg, value in (
            ("click", click),
            ("conversion", conversion),
            ("conversion_label", conversion_label),
        ):
            if not isinstance(value, str) or not value:
                raise ValueError(f"expected an output name. Received: {arg}={value!r}")
        self.click = click
        self.conversion = conversion
        self.conversion_label = conversion_label
        self.weight = _number("weight", weight, 0.0, float("inf"))
        self.propensity_clip = _number("propensity_clip", propensity_clip, 0.0, 1.0, low_open=True)

    def outputs_read(self) -> tuple[str, ...]:
        """The outputs the term reads."""
        return (self.click, self.conversion)

    def check_outputs(self, output_names: Collection[str]) -> None:
        missing = [name for name in self.outputs_read() if name not in output_names]
        if missing:
            raise ValueError(
                f"{self.name}: outputs {missing} are not outputs of the model. "
                f"Expected names among {sorted(output_names)}."
            )

    def clicked_rows(
        self,
        y_pred: Mapping[str, tf.Tensor],
        labels: Mapping[str, tf.Tensor],
        row_weights: Mapping[str, tf.Tensor],
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
        """`(w, o, e, p̂)`, each `(batch,)`: impression weights, clicks, CVR errors, propensities."""
        for task in (self.click, self.conversion_label):
            if task not in labels:
                raise ValueError(
                    f"{self.name}: {task!r} is not a trained task. Expected the click "
                    f"and conversion labels among {sorted(labels)}."
                )
        weights = tf.reshape(row_weights[self.click], (-1,))  # (B,)
        present = tf.cast(tf.reshape(row_weights[self.conversion_label], (-1,)) > 0, weights.dtype)
        clicks = tf.reshape(labels[self.click], (-1,)) * present  # (B,)
        p_cvr = tf.reshape(y_pred[self.conversion], (-1, 1))
        conversion = tf.reshape(labels[self.conversion_label], (-1, 1))
        errors = tf.keras.losses.binary_crossentropy(conversion, p_cvr)  # (B,)
        propensity = tf.clip_by_value(
            tf.stop_gradient(tf.reshape(y_pred[self.click], (-1,))),
            self.propensity_clip,
            1.0,
        )  # (B,)
        return weights, clicks, errors, propensity

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "click": self.click,
            "conversion": self.conversion,
            "conversion_label": self.conversion_label,
            "weight": self.weight,
            "propensity_clip": self.propensity_clip,
        }


class ImputedRisk(CounterfactualRisk):
    """A `CounterfactualRisk` that also reads an imputation output δ̂ (the
    CVR error imputed on every impression).

    Args:
        imputation: the output holding δ̂.
        click, conversion, conversion_label, weight, propensity_clip, name:
            as in `CounterfactualRisk`.
    """

    def __init__(
        self,
        click: str = "ctr",
        conversion: str = "cvr",
        conversion_label: str = "ctcvr",
        imputation: str = "cvr_imputation",
        weight: float = 1.0,
        propensity_clip: float = 0.05,
        name: Optional[str] = None,
    ) -> None:
        super().__init__(
            click=click,
            conversion=conversion,
            conversion_label=conversion_label,
            weight=weight,
            propensity_clip=propensity_clip,
            name=name,
        )
        if not isinstance(imputation, str) or not imputation:
            raise ValueError(f"expected an output name. Received: imputation={imputation!r}")
        self.imputation = imputation

    def outputs_read(self) -> tuple[str, ...]:
        return super().outputs_read() + (self.imputation,)

    def imputed(self, y_pred: Mapping[str, tf.Tensor]) -> tf.Tensor:
        """δ̂ `(batch,)`."""
        return tf.reshape(y_pred[self.imputation], (-1,))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "imputation": self.imputation}


def impression_mean(values, weights):
    """`Σ w·v / Σ w` over the impressions (0 on an empty batch)."""
    return tf.math.divide_no_nan(tf.reduce_sum(weights * values), tf.reduce_sum(weights))
