"""The interface every loss-balancing strategy implements."""


class WeightingStrategy:
    """Turns per-task losses into the total loss and the gradients applied.

    `MultiTaskModel.train_step` calls a strategy through exactly two methods,
    whatever the strategy is:

    1. `combine(task_losses)` inside the gradient tape → `(total, weights)`;
       the total is what is reported as `loss`, the weights as `weight_<task>`.
    2. `gradients(tape, total, task_losses, variables, model)` after the tape
       closes → one gradient per variable in `variables`.

    The default `gradients` differentiates the total, which is all that
    loss-only strategies (fixed weights, uncertainty weighting, DWA) need.
    Strategies that need per-task gradients with respect to shared variables
    or the shared representation (GradNorm, PCGrad, MGDA) set
    `persistent_tape = True` and override `gradients`; the model exposes what
    they need (`model.task_names`, its variables) without knowing which
    strategy runs. `test_step` calls only `combine`.
    """

    #: Whether the model must record a persistent tape (per-task gradients).
    persistent_tape = False

    def build(self, task_names):
        """Called by `MultiTaskModel.compile` with the trained task names."""
        self.task_names = tuple(task_names)

    def task_weights(self, task_losses):
        """Returns `{task: scalar weight}` for these losses."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement task_weights(task_losses)."
        )

    def combine(self, task_losses):
        """Returns `(total, weights)` with `total = Σ_k w_k · L_k`."""
        weights = self.task_weights(task_losses)
        total = 0.0
        for task in self.task_names:
            total += weights[task] * task_losses[task]
        return total, weights

    def gradients(self, tape, total, task_losses, variables, model):
        """Returns the gradients of `total` for `variables` (one per variable)."""
        return tape.gradient(total, variables)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
