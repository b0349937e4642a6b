"""Per-row sums of a sparse gradient, for the sparse optimizers, in place."""

from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl import keras_compat


def sums_in_place(scratch):
    """Whether `summed_rows` sums in `scratch`: not on a parameter server."""
    return "/job:ps" not in (getattr(scratch, "device", "") or "")


def summed_rows(
    optimizer: tf.keras.optimizers.Optimizer,
    scratch: tf.Variable,
    gradient: tf.IndexedSlices,
    in_place: Optional[bool] = None,
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """`(indices, rows of scratch, summed gradient rows)` of a `tf.IndexedSlices`.

    An embedding lookup of a batch with repeated ids (Zipf traffic) gives one
    gradient row per occurrence; `tf.IndexedSlices` means their sum. A
    per-row optimizer must see that sum once: Adam's second moment of the sum
    is not the sum of the second moments.

    The batch's rows of `scratch` (an optimizer slot of the variable's
    shape, which the caller then rewrites) are read, zeroed, the gradient
    rows scatter-added and read back, so every occurrence of an id gets the
    id's full sum. Shapes stay static (no `tf.unique`), and the caller's
    writes of equal rows for a duplicate id are idempotent.

    Against `tf.unique` + segment sum it is faster without XLA, and under
    XLA at small tables only: at millions of rows XLA on CPU copies the
    whole slot for the chain of scatters and reads (figures in
    docs/benchmarks.md, "Measurements behind design choices"). `tf.unique`
    under XLA lost a duplicated row's update on tf_keras (its padded dynamic
    shape), so it is not used: train models with tables of millions of rows without XLA, which is
    Keras' default (`jit_compile="auto"`) for keras_mtl models.

    Under `ParameterServerStrategy` (a `scratch` placed on a parameter
    server, `/job:ps`) workers update the same rows concurrently, and a
    slot used as scratch would be read half-summed by another worker's step
    (Adagrad's accumulator then went negative and its rows NaN). There the
    duplicates are summed in the step itself (`tf.unique` and a segment sum;
    no XLA under that strategy) and `scratch` is only read; each id comes
    back once. `in_place` overrides the choice (None: by placement).

    Args:
        optimizer: the optimizer that owns `scratch`.
        scratch: a slot variable shaped like the gradient's variable.
        gradient: a `tf.IndexedSlices`.
        in_place: sum in `scratch` (True) or in the step (False).

    Returns:
        the row indices to update, `scratch`'s rows there before the call, and
        the summed gradient rows (`(rows, *row shape)` each).
    """
    if in_place is None:
        in_place = sums_in_place(scratch)
    if not in_place:
        indices, positions = tf.unique(gradient.indices)  # (ids,), (rows,)
        summed = tf.math.unsorted_segment_sum(
            gradient.values, positions, tf.shape(indices)[0]
        )  # (ids, *row shape)
        old = keras_compat.gather_rows(scratch, indices)
        return indices, old, tf.cast(summed, old.dtype)
    indices = gradient.indices
    old = keras_compat.gather_rows(scratch, indices)  # (N, *row shape)
    keras_compat.scatter_update(optimizer, scratch, tf.IndexedSlices(tf.zeros_like(old), indices))
    values = tf.cast(gradient.values, old.dtype)
    keras_compat.scatter_update(optimizer, scratch, tf.IndexedSlices(values, indices), mode="add")
    return indices, old, keras_compat.gather_rows(scratch, indices)


class RowWise:
    """Mixin for a Keras optimizer: `tf.IndexedSlices` gradients go to `update_rows`.

    Dense gradients take the Keras optimizer's own `update_step`, so a
    `RowWise` optimizer equals its base class on dense variables.
    Subclasses implement `update_rows(gradient, variable, learning_rate)`.
    """

    def update_step(
        self,
        gradient: Union[tf.Tensor, tf.IndexedSlices],
        variable: tf.Variable,
        learning_rate: Optional[Union[float, tf.Tensor]] = None,
    ) -> None:
        # Keras 3 passes the step's learning rate; tf_keras 2 calls
        # update_step(gradient, variable) and keeps it in `learning_rate`.
        if not isinstance(gradient, tf.IndexedSlices):
            dense_args = () if learning_rate is None else (learning_rate,)
            return super().update_step(gradient, variable, *dense_args)
        if learning_rate is None:
            learning_rate = self.learning_rate
        return self.update_rows(gradient, variable, learning_rate)
