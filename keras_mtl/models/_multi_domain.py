"""Checks shared by multi-domain builders: the domain id feature."""

from keras_mtl.features.sparse_feat import SparseFeat
from keras_mtl.models import _builder


def domain_spec(specs, domain_feature, num_domains):
    """`(spec, D, other specs)`: the domain feature must hold encoded ids."""
    spec = next((s for s in specs if s.name == domain_feature), None)
    if spec is None:
        raise ValueError(
            f"domain_feature={domain_feature!r} is not among the features "
            f"{[s.name for s in specs]}. Expected a SparseFeat(name, "
            "vocabulary_size=num_domains) holding each row's domain id."
        )
    if not isinstance(spec, SparseFeat) or spec.encoding != "encoded":
        raise ValueError(
            "Multi-domain models route rows by pre-encoded integer domain "
            "ids. Expected "
            f"SparseFeat({domain_feature!r}, vocabulary_size=num_domains). "
            f"Received: {spec!r}"
        )
    if num_domains is None:
        num_domains = spec.vocabulary_size
    _builder.count("num_domains", num_domains)
    if num_domains != spec.vocabulary_size:
        raise ValueError(
            f"num_domains={num_domains} differs from the vocabulary_size="
            f"{spec.vocabulary_size} of domain feature {domain_feature!r}."
        )
    if any(
        getattr(s, "embedding_name", None) == spec.embedding_name for s in specs if s is not spec
    ):
        raise ValueError(
            f"The domain feature {domain_feature!r} shares its embedding table "
            f"'{spec.embedding_name}' with another feature. Expected a table of "
            "its own (the auxiliary network embeds the domain indicator)."
        )
    others = [s for s in specs if s is not spec]
    if not others:
        raise ValueError("expected features besides the domain feature.")
    return spec, num_domains, others
