"""PEPNet: domain-personalised embeddings (EPNet) and task towers gated by priors (PPNet)."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl._types import FeatureSpec
from keras_mtl._types import TaskDependencies
from keras_mtl._types import TaskTypes
from keras_mtl.features import feature_inputs
from keras_mtl.layers.encoded_id_lookup import EncodedIdLookup
from keras_mtl.layers.epnet_layer import EPNetLayer
from keras_mtl.layers.logit_sum import LogitSum
from keras_mtl.layers.ppnet_layer import PPNetLayer
from keras_mtl.layers.star_topology import StarTopology
from keras_mtl.layers.task_head import TaskHead
from keras_mtl.layers.task_split import TaskSplit
from keras_mtl.models import _builder
from keras_mtl.models import _multi_domain
from keras_mtl.training.multi_task_model import MultiTaskModel


def PEPNet(
    features: Sequence[FeatureSpec],
    domain_feature: str = "domain",
    personal_features: Sequence[str] = (),
    num_domains: Optional[int] = None,
    task_names: Sequence[str] = ("ctr", "cvr"),
    task_types: TaskTypes = None,
    tower_units: Sequence[int] = (64,),
    gate_hidden_units: Optional[int] = None,
    gamma: float = 2.0,
    domain_units: Sequence[int] = (),
    domain_towers: bool = False,
    activation: Union[str, Callable] = "relu",
    dropout: float = 0.0,
    l2_reg: float = 0.0,
    l2_reg_embedding: float = 0.0,
    task_dependencies: TaskDependencies = None,
    name: str = "pepnet",
) -> MultiTaskModel:
    """Builds PEPNet: `y_t = head_t(PPNet_t(EPNet(E, e_p), P))`.

    E is the embedding of every feature but the domain feature. EPNet
    (`EPNetLayer` "epnet") scales it per domain,
    `E' = GateNU([e_p ; stop_gradient(E)]) ⊙ E`, e_p the embedding of the
    row's domain id. PPNet (`PPNetLayer` "ppnet") runs one tower per task;
    each hidden layer is scaled by `GateNU([P ; stop_gradient(E')])`, P the
    embeddings of the `personal_features` (user / item / author ids in the
    paper), from tables of their own (stacked per width in layers named
    `personal_embedding_tables_<width>`; the domain's table is a
    `tf.keras.layers.Embedding` named `<embedding_name>_embedding`).
    With no personal features named, P is the domain embedding e_p. Each
    task's tower ends in a `TaskHead` named after the task, or with
    `domain_towers=True` in a per-domain head: a shared linear logit plus
    one per domain (a `StarTopology` with `combine="add"`).

    `domain_units` (our addition, not in the paper) puts per-domain layers
    between EPNet and the towers: a `StarTopology` "domain_layers" whose
    weights are shared ⊙ the row's domain's (as in STAR; every domain starts
    as the shared layers, an unseen domain keeps them), so the towers read
    `act(E' · (W ⊙ W_p) + b + b_p)`. EPNet's gates only rescale each value of
    E by a factor in (0, γ); these layers let a domain turn the direction in
    which the features act. docs/benchmarks.md ("Multi-domain: STAR, PEPNet,
    Shared-Bottom per domain") compares the paper's form and this one
    (`domain_units=(64, 32)`, `tower_units=(16,)`, `domain_towers=True`, the
    item as personal prior) with STAR, domain by domain.

    Args:
        features: feature specs (adapted), the domain feature among them.
        domain_feature: name of the domain id feature, a
            `SparseFeat(name, vocabulary_size=num_domains)` of pre-encoded
            ids; ids outside 0..D-1 get the shared OOV slot.
        personal_features: names of the personal-prior features among the
            others (they stay in E too).
        num_domains: D; default (and must equal) the feature's `vocabulary_size`.
        task_names: one output per task, named after it.
        task_types: "binary" / "regression" per task; default all binary.
        tower_units: widths of every task's PPNet tower (at least one).
        gate_hidden_units: hidden width of every gate; None: the gated width.
        gamma: the gates' scale γ (2 in the paper).
        domain_units: widths of the per-domain layers on the towers' input;
            () (default): none, as in the paper.
        domain_towers: end every task in a per-domain head.
        activation, dropout, l2_reg, l2_reg_embedding, task_dependencies,
            name: as in `SharedBottom`.

    Returns:
        A `MultiTaskModel` with outputs `{task: (batch, 1)}`; its shared
        layer is "epnet" ("domain_layers" with `domain_units`).

    Example:
    >>> feats = [SparseFeat("domain", vocabulary_size=3), SparseFeat("user", vocabulary_size=9),
    ...          DenseFeat("price")]
    >>> model = PEPNet(feats, personal_features=("user",), tower_units=(8,))
    >>> sorted(model.output_names), model.shared_layer
    (['ctr', 'cvr'], 'epnet')

    References:
        Chang et al., "PEPNet: Parameter and Embedding Personalized Network
        for Infusing with Personalized Prior Information", KDD 2023.
    """
    towers = _builder.tower_args(
        task_names, task_types, task_dependencies, (), activation, dropout, l2_reg
    )
    specs = feature_inputs.validate_features(features)
    domain, num_domains, others = _multi_domain.domain_spec(specs, domain_feature, num_domains)
    if isinstance(personal_features, str):
        personal_features = (personal_features,)
    personal_features = tuple(personal_features)
    known = [s.name for s in others]
    unknown = [n for n in personal_features if n not in known]
    if unknown:
        raise ValueError(
            f"personal_features {unknown} are not among the features {known} "
            f"(the domain feature {domain_feature!r} is not a prior)."
        )
    tower_units = _builder.widths("tower_units", tower_units, allow_empty=False)
    domain_units = _builder.widths("domain_units", domain_units)
    embedding_reg = _builder.regularizer(l2_reg_embedding, "l2_reg_embedding")
    inputs = feature_inputs.build_inputs(specs)
    embeddings = feature_inputs.embed_features(inputs, others, embedding_reg)  # (B, d)
    ids = EncodedIdLookup(num_domains, name=f"{domain_feature}_index")(
        inputs[domain_feature]
    )  # (B,) in 0..D, D for unseen domains
    domain_embedding = tf.keras.layers.Embedding(
        num_domains + 1,
        domain.embedding_dim,
        embeddings_regularizer=embedding_reg,
        name=f"{domain.embedding_name}_embedding",
    )(ids)  # (B, dim)
    gates = dict(gamma=gamma, kernel_regularizer=towers.kernel_reg)
    personalised = EPNetLayer(hidden_units=gate_hidden_units, name="epnet", **gates)(
        [domain_embedding, embeddings]
    )  # (B, d)
    shared = personalised
    if domain_units:
        shared = StarTopology(
            num_domains,
            units=domain_units,
            activation=activation,
            dropout=dropout,
            kernel_regularizer=towers.kernel_reg,
            name="domain_layers",
        )([personalised, ids])  # (B, u)
    priors = domain_embedding
    if personal_features:
        priors = feature_inputs.embed_features(
            inputs,
            [s for s in others if s.name in personal_features],
            embedding_reg,
            name_prefix="personal_",
        )  # (B, p)
    stacked = PPNetLayer(
        len(towers.task_names),
        tower_units,
        gate_hidden_units=gate_hidden_units,
        activation=activation,
        dropout=dropout,
        name="ppnet",
        **gates,
    )([shared, priors])
    task_outputs = TaskSplit(len(towers.task_names), name="task_split")(stacked)  # T × (B, u)
    outputs = {}
    for task, task_type, h in zip(towers.task_names, towers.task_types, task_outputs):
        h = _builder.tower_input(h, task, outputs, towers.dependencies)
        if not domain_towers:
            outputs[task] = TaskHead(task_type, kernel_regularizer=towers.kernel_reg, name=task)(h)
            continue
        logit = StarTopology(
            num_domains,
            units=(1,),
            linear_output=True,
            combine="add",
            kernel_regularizer=towers.kernel_reg,
            name=f"domain_tower_{task}",
        )([h, ids])  # (B, 1)
        outputs[task] = LogitSum(task_type, name=task)([logit])
    return _builder.model(
        inputs, outputs, towers.task_names, towers.task_types, name, shared, features=features
    )
