"""ESCM²: entire-space counterfactual multi-task model for post-click conversion."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Literal
from typing import Union

from keras_mtl._types import FeatureSpec
from keras_mtl.losses.doubly_robust_loss import DoublyRobustLoss
from keras_mtl.losses.imputation_loss import ImputationLoss
from keras_mtl.losses.inverse_propensity_loss import InversePropensityLoss
from keras_mtl.models import _builder
from keras_mtl.models import _entire_space
from keras_mtl.training.multi_task_model import MultiTaskModel

COUNTERFACTUALS = ("ips", "dr")


def ESCM2(
    features: Sequence[FeatureSpec],
    task_names: Sequence[str] = ("ctr", "cvr"),
    ctcvr_name: str = "ctcvr",
    counterfactual: Literal["ips", "dr"] = "dr",
    counterfactual_weight: float = 0.5,
    propensity_clip: float = 0.05,
    imputation_name: str = "cvr_imputation",
    tower_units: Sequence[int] = (256, 128, 64),
    activation: Union[str, Callable] = "relu",
    dropout: float = 0.0,
    l2_reg: float = 0.0,
    l2_reg_embedding: float = 0.0,
    name: str = "escm2",
) -> MultiTaskModel:
    """Builds ESCM²: ESMM plus a counterfactual (IPS or DR) CVR loss.

    Over shared embeddings x, `pCTR = tower_ctr(x)`, `pCVR = tower_cvr(x)`
    and `pCTCVR = pCTR · pCVR`, as in `ESMM`. Training minimises

        L = L_CTR + λ_c · L_CVR + λ_g · L_CTCVR

    L_CTR and L_CTCVR are the tasks ctr and ctcvr (labels click and
    click·conversion, over all impressions), combined by the weighting
    strategy: λ_g is ctcvr's weight there (`compile(loss_weights={"ctr":
    1.0, "ctcvr": λ_g})`; 1 by default). L_CVR is an auxiliary loss of
    weight λ_c that trains the CVR tower on the clicked rows, debiased to the
    impression space with the propensity p̂ = clip(pCTR) (gradient stopped):
    `InversePropensityLoss` ("ips") or `DoublyRobustLoss` ("dr"). DR adds an
    imputation tower over x predicting the CVR error δ̂ of every impression
    (output `imputation_name`), trained by `ImputationLoss` (weight λ_c).
    δ̂ is a sigmoid, in (0, 1): the expected error of a calibrated pCVR,
    `−c·log c − (1−c)·log(1−c)` for a conversion rate c, is at most ln 2.
    The conversion label of a clicked row is its ctcvr label, so ESCM² trains
    on the same labels as ESMM.

    Args:
        features: SparseFeat / VarLenSparseFeat / DenseFeat specs (adapted).
        task_names: names of the click and conversion outputs.
        ctcvr_name: name of the product output.
        counterfactual: "ips" or "dr".
        counterfactual_weight: λ_c >= 0 (0.5 is the default of a public
            PyTorch port of PaddleRec's ESCM², whose global weight λ_g is 0.5
            too).
        propensity_clip: lower bound of p̂ in (0, 1]; 1/p̂ ≤ 1/propensity_clip.
        imputation_name: name of DR's imputation output (unused for "ips").
        tower_units: widths of every tower (ctr, cvr and DR's imputation).
        activation, dropout, l2_reg, l2_reg_embedding, name: as in
            `SharedBottom`.

    Returns:
        A `MultiTaskModel` with outputs `{ctr, cvr, ctcvr}` (and the
        imputation with "dr"), each (batch, 1), trained on ctr and ctcvr plus
        the auxiliary losses `cvr_ips_loss`, or `cvr_dr_loss` and
        `imputation_loss`.

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = ESCM2(feats, tower_units=(8,))
    >>> sorted(model.output_names), [t.name for t in model.auxiliary_losses]
    (['ctcvr', 'ctr', 'cvr', 'cvr_imputation'], ['cvr_dr_loss', 'imputation_loss'])

    References:
        Wang et al., "ESCM²: Entire Space Counterfactual Multi-Task Model for
        Post-Click Conversion Rate Estimation", SIGIR 2022.
    """
    if counterfactual not in COUNTERFACTUALS:
        raise ValueError(
            f"expected counterfactual in {COUNTERFACTUALS}. "
            f"Received: counterfactual={counterfactual!r}"
        )
    inputs, x, outputs, (ctr, cvr) = _entire_space.click_conversion_towers(
        "ESCM2",
        features,
        task_names,
        ctcvr_name,
        tower_units,
        activation,
        dropout,
        l2_reg,
        l2_reg_embedding,
        more_towers=(imputation_name,) if counterfactual == "dr" else (),
    )
    common = dict(
        click=ctr,
        conversion=cvr,
        conversion_label=ctcvr_name,
        weight=counterfactual_weight,
        propensity_clip=propensity_clip,
    )
    if counterfactual == "ips":
        terms = [InversePropensityLoss(**common)]
    else:
        terms = [
            DoublyRobustLoss(imputation=imputation_name, **common),
            ImputationLoss(imputation=imputation_name, **common),
        ]
    return _builder.model(
        inputs,
        outputs,
        (ctr, ctcvr_name),
        ("binary", "binary"),
        name,
        x,
        auxiliary_losses=terms,
        features=features,
    )
