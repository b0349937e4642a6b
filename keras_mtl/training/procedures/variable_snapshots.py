"""Snapshots of variables for outer updates (MAMDR's θ̃ ← θ, θ ← θ + β(θ̃ − θ))."""

import tensorflow as tf


class VariableSnapshots:
    """Compiled copies of a variable list and the outer update back to them.

    `take()` copies the variables' values, `moved(start)` is `start − v` per
    variable, `interpolate(start, rate)` assigns `start + rate · (v − start)`.
    """

    def __init__(self, variables):
        self.variables = list(variables)
        self.take = tf.function(lambda: [tf.identity(v) for v in self.variables])
        self.interpolate = tf.function(self._interpolate)
        self.moved = tf.function(
            lambda start: [b - tf.convert_to_tensor(v) for v, b in zip(self.variables, start)]
        )

    def _interpolate(self, start, rate):
        """`v ← start + rate · (v − start)` (rate 0 restores `start`)."""
        for variable, begin in zip(self.variables, start):
            variable.assign(begin + rate * (tf.convert_to_tensor(variable) - begin))
