"""ESMM: entire-space multi-task model for post-click conversion."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Union

from keras_mtl._types import FeatureSpec
from keras_mtl.models import _builder
from keras_mtl.models import _entire_space
from keras_mtl.training.multi_task_model import MultiTaskModel


def ESMM(
    features: Sequence[FeatureSpec],
    task_names: Sequence[str] = ("ctr", "cvr"),
    ctcvr_name: str = "ctcvr",
    tower_units: Sequence[int] = (256, 128, 64),
    activation: Union[str, Callable] = "relu",
    dropout: float = 0.0,
    l2_reg: float = 0.0,
    l2_reg_embedding: float = 0.0,
    name: str = "esmm",
) -> MultiTaskModel:
    """Builds ESMM: `pCTCVR = pCTR · pCVR` over shared embeddings.

    Two towers read the shared embedding input: `pCTR = tower_ctr(x)` and
    `pCVR = tower_cvr(x)`. The model is trained on the click label (ctr output)
    and the click-and-convert label (ctcvr output) over all impressions; cvr
    has no direct loss but is an output, for serving conversion rates.

    Args:
        features: SparseFeat / VarLenSparseFeat / DenseFeat specs (adapted).
        task_names: names of the click and conversion outputs.
        ctcvr_name: name of the product output.
        tower_units: widths of both towers.
        activation, dropout, l2_reg, l2_reg_embedding, name: as in
            `SharedBottom`.

    Returns:
        A `MultiTaskModel` with outputs `{ctr, cvr, ctcvr}` (batch, 1), trained
        on ctr and ctcvr (labels: click, click·conversion).

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = ESMM(feats, tower_units=(8,))
    >>> sorted(model.output_names)
    ['ctcvr', 'ctr', 'cvr']

    References:
        Xiao et al., "Entire Space Multi-Task Model: An Effective Approach for
        Estimating Post-Click Conversion Rate", SIGIR 2018.
    """
    inputs, x, outputs, (ctr, _) = _entire_space.click_conversion_towers(
        "ESMM",
        features,
        task_names,
        ctcvr_name,
        tower_units,
        activation,
        dropout,
        l2_reg,
        l2_reg_embedding,
    )
    trained = (ctr, ctcvr_name)
    return _builder.model(
        inputs, outputs, trained, ("binary", "binary"), name, x, features=features
    )
