"""A `fit`-like loop for procedures that drive their own rounds (MAMDR)."""

import tensorflow as tf

from keras_mtl.training.weighting_callback import WeightingCallback


def steps_per_epoch(x, verbose):
    """Batches of `x` for the progress bar: its cardinality, else counted when it must be.

    A one-line-per-epoch log (`verbose=2`) needs the count at the start
    (tf_keras' logger reads it from `fit`'s step counter otherwise): for a
    dataset of unknown length it is counted by one pass over `x`.
    """
    steps = int(x.cardinality())
    if steps >= 0:
        return steps
    if verbose == 2:
        return int(x.reduce(tf.constant(0, tf.int64), lambda count, _: count + 1))
    return None


def fit_rounds(
    model, epoch_batches, train_step, epochs, steps, callbacks=None, validation_data=None, verbose=1
):
    """Runs `train_step` on each of `epoch_batches()`, `epochs` times, with Keras callbacks.

    Returns a `History`. `train_step(batch)` returns a step's logs (a dict
    of floats); an epoch's logs are their means, plus `val_` scores of
    `model.evaluate(validation_data)`. The
    model's weighting strategy gets its epoch-end update (DWA) as in
    `model.fit`; `model.stop_training` (EarlyStopping) ends the loop.
    """
    history = tf.keras.callbacks.History()
    callback_list = tf.keras.callbacks.CallbackList(
        [WeightingCallback(model.weighting)] + list(callbacks or []) + [history],
        add_progbar=verbose != 0,
        model=model,
        epochs=epochs,
        verbose=verbose,
        steps=steps,
    )
    model.stop_training = False
    callback_list.on_train_begin()
    logs = {}
    for epoch in range(epochs):
        callback_list.on_epoch_begin(epoch)
        totals, counts = {}, {}
        for step, batch in enumerate(epoch_batches()):
            callback_list.on_train_batch_begin(step)
            step_logs = train_step(batch)
            for key, value in step_logs.items():
                totals[key] = totals.get(key, 0.0) + value
                counts[key] = counts.get(key, 0) + 1
            callback_list.on_train_batch_end(step, step_logs)
        logs = {key: totals[key] / counts[key] for key in totals}
        if validation_data is not None:
            scores = model.evaluate(validation_data, return_dict=True, verbose=0)
            logs.update({f"val_{k}": float(v) for k, v in scores.items()})
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    return history
