"""The domain-specific variables of a multi-domain model."""

import tensorflow as tf


def declared_domain_variables(model: tf.keras.Model) -> list[tf.Variable]:
    """The variables the model's layers declare domain-specific.

    A layer declares them with a `domain_variables` attribute: variables whose
    leading axis is the domain, slot p used only by rows routed to domain p
    (`StarTopology`'s `W_p, b_p`, `PartitionedNormalization`'s `γ_p, β_p`).
    Nested models are searched too.
    """
    found, seen = [], set()
    stack = list(model.layers)
    while stack:
        layer = stack.pop(0)
        stack.extend(getattr(layer, "layers", []) if layer is not model else [])
        for variable in getattr(layer, "domain_variables", ()):
            if id(variable) not in seen:
                seen.add(id(variable))
                found.append(variable)
    return found
