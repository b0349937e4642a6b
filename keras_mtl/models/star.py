"""STAR: one model for several domains, star-topology weights."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Literal
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl._types import FeatureSpec
from keras_mtl._types import TaskTypes
from keras_mtl.features import feature_inputs
from keras_mtl.layers.encoded_id_lookup import EncodedIdLookup
from keras_mtl.layers.logit_sum import LogitSum
from keras_mtl.layers.mlp import MLP
from keras_mtl.layers.partitioned_normalization import PartitionedNormalization
from keras_mtl.layers.star_topology import StarTopology
from keras_mtl.layers.task_head import TaskHead
from keras_mtl.models import _builder
from keras_mtl.models import _multi_domain
from keras_mtl.training.multi_task_model import MultiTaskModel


def STAR(
    features: Sequence[FeatureSpec],
    domain_feature: str = "domain",
    num_domains: Optional[int] = None,
    task_names: Sequence[str] = ("ctr",),
    task_types: TaskTypes = None,
    star_units: Sequence[int] = (64, 32),
    tower_units: Sequence[int] = (),
    combine: Literal["multiply", "add"] = "multiply",
    partitioned_norm: bool = True,
    auxiliary_units: Optional[Sequence[int]] = (32,),
    auxiliary_features: bool = False,
    activation: Union[str, Callable] = "relu",
    dropout: float = 0.0,
    l2_reg: float = 0.0,
    l2_reg_embedding: float = 0.0,
    name: str = "star",
) -> MultiTaskModel:
    """Builds STAR: `ŷ_k = sigmoid(star_k(star(PN(x), p), p) + aux_k(e_p))`.

    Each row carries a domain id p (`domain_feature`, a `SparseFeat` with
    `vocabulary_size=num_domains`: pre-encoded ids 0..D-1). The other features
    are embedded into x, normalised by `PartitionedNormalization` (per-domain
    statistics, scale and offset) and go through the `StarTopology` trunk
    `star_fcn` (weights `W ⊙ W_p`, `b + b_p`), shared by the tasks. Each task
    has a star-topology tower ending in a logit s_m and an auxiliary network,
    an MLP over the domain indicator's embedding e_p (with
    `auxiliary_features=True`, over [e_p, x]) ending in a logit s_a; the
    output is `sigmoid(s_m + s_a)` (the sum for regression tasks).

    Domain ids outside 0..D-1 (unseen domains) are served by the shared
    weights and the OOV slots of PN and of the domain embedding. The domain id
    is a serving input of the export. The per-domain weights of the star
    layers and PN are the model's domain-specific parameters for
    `keras_mtl.training.MAMDR`.

    Args:
        features: feature specs (adapted), the domain feature among them.
        domain_feature: name of the domain id feature.
        num_domains: D; default (and must equal) the feature's
            `vocabulary_size`.
        task_names: one output per task, named after it.
        task_types: "binary" / "regression" per task; default all binary.
        star_units: widths of the shared star trunk.
        tower_units: hidden widths of each task's star tower before its logit.
        combine: "multiply" (STAR) or "add": shared and domain networks run
            side by side and their outputs (for the towers: logits) are added.
        partitioned_norm: normalise x with `PartitionedNormalization`.
        auxiliary_units: hidden widths of the auxiliary network; None leaves
            it out, () makes it linear.
        auxiliary_features: also feed x to the auxiliary network.
        activation, dropout, l2_reg, l2_reg_embedding, name: as in
            `SharedBottom`.

    Returns:
        A `MultiTaskModel` with outputs `{task: (batch, 1)}`; its shared layer
        is the trunk `star_fcn`.

    Example:
    >>> feats = [SparseFeat("domain", vocabulary_size=3), DenseFeat("price")]
    >>> model = STAR(feats, domain_feature="domain", star_units=(8,))
    >>> sorted(model.output_names), model.shared_layer
    (['ctr'], 'star_fcn')

    References:
        Sheng et al., "One Model to Serve All: Star Topology Adaptive
        Recommender for Multi-Domain CTR Prediction", CIKM 2021.
    """
    task_names, task_types = _builder.task_list(task_names, task_types)
    specs = feature_inputs.validate_features(features)
    domain, num_domains, others = _multi_domain.domain_spec(specs, domain_feature, num_domains)
    star_units = _builder.widths("star_units", star_units, allow_empty=False)
    tower_units = _builder.widths("tower_units", tower_units)
    if auxiliary_units is not None:
        auxiliary_units = _builder.widths("auxiliary_units", auxiliary_units)
    kernel_reg = _builder.regularizer(l2_reg)
    embedding_reg = _builder.regularizer(l2_reg_embedding, "l2_reg_embedding")
    inputs = feature_inputs.build_inputs(specs)
    x = feature_inputs.embed_features(inputs, others, embedding_reg)  # (B, d)
    ids = EncodedIdLookup(num_domains, name=f"{domain_feature}_index")(
        inputs[domain_feature]
    )  # (B,) in 0..D, D for unseen domains
    main = x
    if partitioned_norm:
        main = PartitionedNormalization(num_domains, name="partitioned_norm")([x, ids])
    star = dict(
        num_domains=num_domains,
        activation=activation,
        combine=combine,
        dropout=dropout,
        kernel_regularizer=kernel_reg,
    )
    shared = StarTopology(units=star_units, name="star_fcn", **star)([main, ids])
    if auxiliary_units is not None:
        indicator = tf.keras.layers.Embedding(
            num_domains + 1,
            domain.embedding_dim,
            embeddings_regularizer=embedding_reg,
            name=f"{domain.embedding_name}_embedding",
        )(ids)  # (B, dim)
        if auxiliary_features:
            indicator = tf.keras.layers.Concatenate(name="auxiliary_input")([indicator, x])
    outputs = {}
    for task, task_type in zip(task_names, task_types):
        logits = [
            StarTopology(
                units=tower_units + (1,), linear_output=True, name=f"star_tower_{task}", **star
            )([shared, ids])
        ]
        if auxiliary_units is not None:
            h = indicator
            if auxiliary_units:
                h = MLP(
                    auxiliary_units,
                    activation=activation,
                    kernel_regularizer=kernel_reg,
                    name=f"auxiliary_{task}",
                )(h)
            logits.append(
                TaskHead(
                    "regression", kernel_regularizer=kernel_reg, name=f"auxiliary_logit_{task}"
                )(h)
            )
        outputs[task] = LogitSum(task_type, name=task)(logits)  # (B, 1)
    return _builder.model(inputs, outputs, task_names, task_types, name, shared, features=features)
