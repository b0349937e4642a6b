"""ESMM: entire-space multi-task model for post-click conversion."""

import tensorflow as tf

from keras_mtl.models import _builder


def ESMM(
    features,
    task_names=("ctr", "cvr"),
    ctcvr_name="ctcvr",
    tower_units=(256, 128, 64),
    activation="relu",
    dropout=0.0,
    l2_reg=0.0,
    l2_reg_embedding=0.0,
    name="esmm",
):
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
    task_names, _ = _builder.task_list(task_names, None, min_tasks=2)
    if len(task_names) != 2:
        raise ValueError(
            f"ESMM expected two task names (click, conversion). Received: task_names={task_names!r}"
        )
    ctr, cvr = task_names
    _builder.task_list((ctr, cvr, ctcvr_name), None)  # identifiers, unique
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
    trained = (ctr, ctcvr_name)
    return _builder.model(inputs, outputs, trained, ("binary", "binary"), name, x)
