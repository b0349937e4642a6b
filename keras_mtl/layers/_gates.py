"""The gate kinds a mixture-of-experts builder can use, and the one factory."""

from keras_mtl.layers import _validation
from keras_mtl.layers.dselect_k_gate import DSelectKGate
from keras_mtl.layers.gate_layer import GateLayer

#: `gate=` values of MMoE, CGC, PLE (and `PLELayer`).
GATES = ("softmax", "dselect_k")


def checked(gate, k):
    """`(gate, k)` validated: a kind of `GATES` and a positive k."""
    if gate not in GATES:
        raise ValueError(f"expected gate in {GATES}. Received: gate={gate!r}")
    return gate, _validation.positive_int("k", k)


def make_gate(
    gate,
    k,
    num_experts,
    name,
    hidden_units=(),
    activation="relu",
    kernel_initializer="glorot_uniform",
    kernel_regularizer=None,
    return_weights=False,
):
    """An unbuilt `GateLayer` ("softmax") or `DSelectKGate` ("dselect_k").

    Both take `[gate_input (B, d), experts (B, E, units)]` and have
    `mixture_weights` and `gate_weights`. DSelect-k keeps its own
    initializers (near-uniform selectors); `kernel_initializer` is the
    softmax gate's. A gate over fewer than 2 experts is a softmax gate (it
    has nothing to select).
    """
    if gate == "dselect_k" and num_experts >= 2:
        return DSelectKGate(
            num_experts,
            k=k,
            hidden_units=hidden_units,
            activation=activation,
            kernel_regularizer=kernel_regularizer,
            return_weights=return_weights,
            name=name,
        )
    return GateLayer(
        num_experts,
        hidden_units=hidden_units,
        activation=activation,
        kernel_initializer=kernel_initializer,
        kernel_regularizer=kernel_regularizer,
        return_weights=return_weights,
        name=name,
    )
