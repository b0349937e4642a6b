"""What ESMM and ESCM² share: click and conversion towers over the shared
embeddings, and their product `pCTCVR = pCTR · pCVR`."""

import tensorflow as tf

from keras_mtl.models import _builder


def click_conversion_towers(
    builder,
    features,
    task_names,
    ctcvr_name,
    tower_units,
    activation,
    dropout,
    l2_reg,
    l2_reg_embedding,
    more_towers=(),
):
    """Checks the names, then builds the towers of an entire-space model.

    Args:
        builder: the builder's name, for the error messages ("ESMM").
        more_towers: names of further binary towers over the same input,
            built after the product (ESCM²'s imputation tower).
        features, task_names, ctcvr_name, tower_units, activation, dropout,
            l2_reg, l2_reg_embedding: the builder's arguments.

    Returns:
        `(inputs, x, outputs, (ctr, cvr))`: the model's inputs, the shared
        embeddings x, `{ctr, cvr, ctcvr_name, *more_towers}` (each
        `(batch, 1)`, in that order) and the click and conversion names.
    """
    task_names, _ = _builder.task_list(task_names, None, min_tasks=2)
    if len(task_names) != 2:
        raise ValueError(
            f"{builder} expected two task names (click, conversion). "
            f"Received: task_names={task_names!r}"
        )
    ctr, cvr = task_names
    _builder.task_list((ctr, cvr, ctcvr_name, *more_towers), None)  # identifiers, unique
    tower_units = _builder.widths("tower_units", tower_units, allow_empty=False)
    kernel_reg = _builder.regularizer(l2_reg)
    inputs, x = _builder.bottom(features, l2_reg_embedding)

    def tower(task):
        return _builder.tower_head(x, task, "binary", tower_units, activation, dropout, kernel_reg)

    outputs = {ctr: tower(ctr), cvr: tower(cvr)}
    # float32 like the towers' outputs, also under mixed precision policies
    outputs[ctcvr_name] = tf.keras.layers.Multiply(name=ctcvr_name, dtype="float32")(
        [outputs[ctr], outputs[cvr]]
    )
    for task in more_towers:
        outputs[task] = tower(task)
    return inputs, x, outputs, (ctr, cvr)
