"""ESCM²: entire-space counterfactual multi-task model for post-click conversion."""

import tensorflow as tf

from keras_mtl.losses.doubly_robust_loss import DoublyRobustLoss
from keras_mtl.losses.imputation_loss import ImputationLoss
from keras_mtl.losses.inverse_propensity_loss import InversePropensityLoss
from keras_mtl.models import _builder

COUNTERFACTUALS = ("ips", "dr")


def ESCM2(
    features,
    task_names=("ctr", "cvr"),
    ctcvr_name="ctcvr",
    counterfactual="dr",
    counterfactual_weight=0.5,
    propensity_clip=0.05,
    imputation_name="cvr_imputation",
    tower_units=(256, 128, 64),
    activation="relu",
    dropout=0.0,
    l2_reg=0.0,
    l2_reg_embedding=0.0,
    name="escm2",
):
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
    task_names, _ = _builder.task_list(task_names, None, min_tasks=2)
    if len(task_names) != 2:
        raise ValueError(
            "ESCM2 expected two task names (click, conversion). "
            f"Received: task_names={task_names!r}"
        )
    if counterfactual not in COUNTERFACTUALS:
        raise ValueError(
            f"expected counterfactual in {COUNTERFACTUALS}. "
            f"Received: counterfactual={counterfactual!r}"
        )
    ctr, cvr = task_names
    names = (ctr, cvr, ctcvr_name) + ((imputation_name,) if counterfactual == "dr" else ())
    _builder.task_list(names, None)  # identifiers, unique
    tower_units = _builder.widths("tower_units", tower_units, allow_empty=False)
    kernel_reg = _builder.regularizer(l2_reg)
    inputs, x = _builder.bottom(features, l2_reg_embedding)
    outputs = {}
    for task in (ctr, cvr):
        outputs[task] = _builder.tower_head(
            x, task, "binary", tower_units, activation, dropout, kernel_reg
        )
    # float32 like the towers' outputs, also under mixed precision policies
    outputs[ctcvr_name] = tf.keras.layers.Multiply(name=ctcvr_name, dtype="float32")(
        [outputs[ctr], outputs[cvr]]
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
        outputs[imputation_name] = _builder.tower_head(
            x, imputation_name, "binary", tower_units, activation, dropout, kernel_reg
        )
        terms = [
            DoublyRobustLoss(imputation=imputation_name, **common),
            ImputationLoss(imputation=imputation_name, **common),
        ]
    return _builder.model(
        inputs, outputs, (ctr, ctcvr_name), ("binary", "binary"), name, x, auxiliary_losses=terms
    )
