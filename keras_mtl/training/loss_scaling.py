"""One dynamic loss scale for a whole multi-task step (`mixed_float16`).

float16 gradients underflow, so under the `mixed_float16` policy the loss is
multiplied by a scale S before backpropagation and the gradients divided by S
after it. Keras' `LossScaleOptimizer` holds S (and the count of finite steps
since it last changed); `MultiTaskModel.compile` wraps every optimizer group
in one when the policy needs it. A keras_mtl step differentiates several
targets (per-task losses for PCGrad and GradNorm, the representation for
MGDA) and applies the gradients through up to three optimizer groups, so the
scaling happens once, around the whole step (`keras_mtl.training.step.descend`):

1. every `tape.gradient` of the weighting strategy backpropagates S times its
   target and returns gradients divided by S (`ScaledTape`): a strategy's
   arithmetic (norms, Gram matrices, projections) sees true gradients;
2. if any gradient of any group is inf or NaN (on any replica), no group
   applies its gradients, and S halves;
3. otherwise every group applies them through its inner optimizer, and S
   doubles after `dynamic_growth_steps` finite steps in a row.

Every wrapped group holds the same S (the towers' optimizer's is read, and
all are written), so the groups never disagree on whether a step happened.
Under `mixed_bfloat16` and float32 nothing is scaled (bfloat16 has float32's
exponent range) and none of this runs.
"""

import tensorflow as tf

from keras_mtl import keras_compat
from keras_mtl.losses import masked


def policy_needs_scaling():
    """Whether the global dtype policy is one that needs loss scaling (float16)."""
    return tf.keras.mixed_precision.global_policy().compute_dtype == "float16"


def wrapped(optimizer):
    """`optimizer` in a `LossScaleOptimizer` when the global policy needs one.

    `compile` uses it for the optimizer groups that Keras' own `compile` does
    not wrap; an optimizer that is already wrapped is returned as it is.
    """
    optimizer = tf.keras.optimizers.get(optimizer)
    if policy_needs_scaling() and not keras_compat.is_loss_scale_optimizer(optimizer):
        return tf.keras.mixed_precision.LossScaleOptimizer(optimizer)
    return optimizer


def unwrapped(optimizer):
    """The optimizer a `LossScaleOptimizer` wraps, or `optimizer` itself.

    `TrainingState.apply_gradients` applies through it: the gradients it gets
    are already unscaled and checked by `LossScale.apply`.
    """
    if keras_compat.is_loss_scale_optimizer(optimizer):
        return optimizer.inner_optimizer
    return optimizer


class LossScale:
    """The loss scale S shared by the wrapped optimizers of one model.

    Args:
        optimizers: the `LossScaleOptimizer`s of the model's groups; the
            first one's S is read, every one's is written.
    """

    def __init__(self, optimizers):
        if not optimizers:
            raise ValueError("LossScale expected at least one LossScaleOptimizer. Received none.")
        self.optimizers = list(optimizers)

    @classmethod
    def of(cls, optimizers):
        """The `LossScale` of these optimizers (the wrapped ones), or None if none is."""
        scaled = [o for o in optimizers if keras_compat.is_loss_scale_optimizer(o)]
        return cls(scaled) if scaled else None

    def value(self):
        """S, a float32 scalar."""
        scale, _, _ = keras_compat.loss_scale_state(self.optimizers[0])
        return tf.cast(tf.convert_to_tensor(scale), tf.float32)

    def tape(self, tape):
        """`tape` seen through the scale: see `ScaledTape`."""
        return ScaledTape(tape, self.value())

    def apply(self, apply_fn, grads, replicas=1):
        """Runs `apply_fn()` if every gradient is finite, then updates S.

        Args:
            apply_fn: applies the (unscaled) gradients of every group.
            grads: those gradients (None entries are skipped).
            replicas: replicas in sync; the check covers all of them.

        Returns:
            Whether the gradients were finite (a boolean tensor).
        """
        finite = all_finite(grads, replicas)

        def skip():
            return None

        tf.cond(finite, lambda: _run(apply_fn), skip)
        self._update(finite)
        return finite

    def _update(self, finite):
        scale, counter, growth_steps = keras_compat.loss_scale_state(self.optimizers[0])
        if counter is None:  # a fixed scale (tf_keras' dynamic=False)
            return
        scale = tf.convert_to_tensor(scale)
        count = tf.cast(tf.convert_to_tensor(counter), tf.int64) + 1
        grow = tf.logical_and(finite, count >= growth_steps)
        new_scale = tf.where(finite, tf.where(grow, scale * 2.0, scale), scale * 0.5)
        new_count = tf.where(tf.logical_and(finite, tf.logical_not(grow)), count, 0)
        for optimizer in self.optimizers:
            own_scale, own_counter, _ = keras_compat.loss_scale_state(optimizer)
            own_scale.assign(tf.cast(new_scale, own_scale.dtype))
            own_counter.assign(tf.cast(new_count, own_counter.dtype))


def _run(apply_fn):
    apply_fn()
    return None


class ScaledTape:
    """A gradient tape whose `gradient` backpropagates `scale · target`.

    It returns the gradients divided by `scale`, in float32 where they were
    16-bit: the values a float32 tape gives, computed through float16 layers
    without underflowing. `output_gradients` (MGDA's weights) are scaled
    too. Everything else is read from the wrapped tape.
    """

    def __init__(self, tape, scale):
        self.tape = tape
        self.scale = scale

    def gradient(self, target, sources, output_gradients=None, **kwargs):
        if output_gradients is None:
            output_gradients = tf.nest.map_structure(lambda t: self.scale * tf.ones_like(t), target)
        else:
            output_gradients = tf.nest.map_structure(
                lambda g: None if g is None else tf.cast(self.scale, g.dtype) * g,
                output_gradients,
            )
        grads = self.tape.gradient(target, sources, output_gradients=output_gradients, **kwargs)
        inverse = 1.0 / self.scale
        return tf.nest.map_structure(lambda g: _scaled(g, inverse), grads, expand_composites=False)

    def __getattr__(self, name):
        return getattr(self.tape, name)


def _scaled(grad, factor):
    if grad is None:
        return None
    if isinstance(grad, tf.IndexedSlices):
        values = masked.as_float32(grad.values)
        return tf.IndexedSlices(values * factor, grad.indices, grad.dense_shape)
    return masked.as_float32(grad) * factor


def all_finite(grads, replicas=1):
    """Whether every entry of every gradient is finite, on every replica."""
    checks = [
        tf.reduce_all(tf.math.is_finite(g.values if isinstance(g, tf.IndexedSlices) else g))
        for g in grads
        if g is not None
    ]
    if not checks:
        return tf.constant(True)
    bad = tf.reduce_sum(tf.cast(tf.logical_not(tf.stack(checks)), tf.float32))
    return tf.equal(masked.global_sum(bad, replicas), 0.0)
