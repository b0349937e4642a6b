"""Config validation: every error names the offending key by its dotted path."""

import os

import pytest
import yaml

from keras_mtl.cli import config
from keras_mtl.cli.config_error import ConfigError
from keras_mtl.cli.main import main
from tests.cli import cli_cases


def _load(tmp_path, cfg, overrides=()):
    return config.load_config(cli_cases.write_run(str(tmp_path), cfg, rows=(20, 10, 10)), overrides)


def _error(tmp_path, cfg, overrides=()):
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, cfg, overrides)
    return info.value


def _with(section, **changes):
    cfg = cli_cases.config()
    cfg[section] = {**cfg[section], **changes}
    return cfg


def test_valid_config_resolves_paths_and_defaults(tmp_path):
    cfg = _load(tmp_path, cli_cases.config())
    assert cfg.data["train"] == os.path.join(str(tmp_path), "train.csv")
    assert cfg.data["format"] == {"train": "csv", "validation": "csv", "test": "csv"}
    assert [s.name for s in cfg.features] == ["item", "color", "price", "tags"]
    assert cfg.features[0].embedding_dim == 3 and cfg.features[2].log1p is True
    assert cfg.separators == {"tags": "|"}
    assert [(t.name, t.type, t.label) for t in cfg.tasks] == [
        ("ctr", "binary", "click"),
        ("spend", "regression", "spend"),
    ]
    assert cfg.model.kwargs == {
        "num_experts": 3,
        "expert_units": (8,),
        "tower_units": (4,),
        "task_names": ("ctr", "spend"),
        "task_types": ("binary", "regression"),
    }
    assert (cfg.training.batch_size, cfg.training.learning_rate, cfg.training.optimizer) == (
        64,
        config.DEFAULTS["training"]["learning_rate"],
        "adam",
    )
    out = os.path.join(str(tmp_path), "out")
    assert (cfg.output.saved_model, cfg.output.keras_model, cfg.output.onnx) == (
        os.path.join(out, "saved_model"),
        os.path.join(out, "model.keras"),
        None,
    )


def test_exact_message_for_a_bad_builder_argument(tmp_path):
    error = _error(tmp_path, _with("model", num_experts="eight"))
    assert error.path == "model.num_experts"
    assert str(error) == (
        "config error at model.num_experts: expected a positive integer, got 'eight'"
    )


@pytest.mark.parametrize(
    "section, changes, path, words",
    [
        ("model", {"num_experts": 0}, "model.num_experts", "positive integer, got 0"),
        ("model", {"expert_units": [8, "x"]}, "model.expert_units[1]", "got 'x'"),
        ("model", {"dropout": -0.5}, "model.dropout", "number >= 0.0"),
        ("model", {"experts": 3}, "model.experts", "Allowed keys: activation, builder"),
        ("model", {"task_types": ["binary"]}, "model.task_types", "set by tasks[].type"),
        (
            "model",
            {"builder": "MMOE"},
            "model.builder",
            "unknown builder 'MMOE'. Available builders: AdaTT, AITM, CGC",
        ),
        ("weighting", {"strategy": "Nash"}, "weighting.strategy", "Available strategies: DWA"),
        ("weighting", {"strategy": "GradNorm", "alpha": -1.0}, "weighting.alpha", "number >= 0.0"),
        (
            "weighting",
            {"strategy": "GradNorm", "min_weight": 0},
            "weighting.min_weight",
            "min_weight > 0. Received: min_weight=0.0",
        ),
        (
            "weighting",
            {"strategy": "DWA", "alpha": 1.0},
            "weighting.alpha",
            "Allowed keys: strategy, temperature",
        ),
        ("training", {"epochs": "ten"}, "training.epochs", "positive integer"),
        ("training", {"optimizer": "lion"}, "training.optimizer", "'adam'"),
        ("training", {"learning_rate": 0}, "training.learning_rate", "number > 0"),
        ("output", {"keras_model": "m.h5"}, "output.keras_model", "ending in .keras"),
        ("output", {"onx": "m.onnx"}, "output.onx", "Allowed keys: dir, history"),
        ("data", {"train": "nope.csv"}, "data.train", "file not found"),
        ("data", {"test": "test.txt"}, "data.test", "set data.format"),
    ],
)
def test_errors_point_at_the_key(tmp_path, section, changes, path, words):
    if section == "data" and changes.get("test") == "test.txt":
        (tmp_path / "test.txt").write_text("a\n1\n")
    error = _error(tmp_path, _with(section, **changes))
    assert error.path == path
    assert str(error).startswith(f"config error at {path}: ")
    assert words in str(error)


def test_feature_and_task_errors(tmp_path):
    features = cli_cases.config()["features"]
    cfg = cli_cases.config(
        features={
            **features,
            "sparse": {
                "defaults": {"embedding_dim": 4},
                "columns": ["item", {"name": "color", "embedding_dim": 0}],
            },
        }
    )
    assert _error(tmp_path, cfg).path == "features.sparse.columns[1].embedding_dim"
    cfg = cli_cases.config(
        features={**features, "sparse": {"defaults": {"embedding_dim": -1}, "columns": ["item"]}}
    )
    assert _error(tmp_path, cfg).path == "features.sparse.defaults.embedding_dim"
    cfg = cli_cases.config(
        features={**features, "varlen": [{"name": "tags", "maxlen": 3, "pooling": "median"}]}
    )
    error = _error(tmp_path, cfg)
    assert error.path == "features.varlen[0].pooling" and "'median'" in str(error)
    cfg = cli_cases.config(features={**features, "dense": [{"name": "price", "scale": 2}]})
    error = _error(tmp_path, cfg)
    assert error.path == "features.dense[0].scale" and "dimension, keep_value, log1p" in str(error)
    cfg = cli_cases.config(features={**features, "dense": ["item"]})
    assert "declared twice" in str(_error(tmp_path, cfg))
    cfg = cli_cases.config(tasks=[{"name": "ctr", "type": "ranking"}])
    assert _error(tmp_path, cfg).path == "tasks[0].type"
    cfg = cli_cases.config(tasks=[{"name": "ctr rate"}])
    assert _error(tmp_path, cfg).path == "tasks[0].name"
    cfg = cli_cases.config(tasks=[{"name": "ctr", "type": "regression"}], model={"builder": "ESMM"})
    assert _error(tmp_path, cfg).path == "tasks[0].type"
    cfg = cli_cases.config()
    del cfg["tasks"]
    error = _error(tmp_path, cfg)
    assert (error.path, error.message) == ("tasks", "required key is missing")
    cfg["tasks"], cfg["epochs"] = ["ctr"], 3
    assert "Allowed keys: data, features, model, output, seed, tasks" in str(_error(tmp_path, cfg))


def test_set_overrides_nested_keys_and_list_items(tmp_path):
    cfg = _load(
        tmp_path,
        cli_cases.config(),
        ["training.epochs=4", "tasks.1.label=price", "model.gate_units=[2]", "seed=7"],
    )
    assert (cfg.training.epochs, cfg.tasks[1].label, cfg.seed) == (4, "price", 7)
    assert cfg.model.kwargs["gate_units"] == (2,)
    assert _error(tmp_path, cli_cases.config(), ["training.epochs=0"]).path == "training.epochs"
    assert _error(tmp_path, cli_cases.config(), ["tasks.5.label=x"]).path == "tasks.5"
    assert _error(tmp_path, cli_cases.config(), ["training.epochs"]).path == "--set"


def test_format_comes_from_the_data_source_table(tmp_path):
    df = cli_cases.frame(20)
    for name, fmt in (("t.csv.bz2", "csv"), ("t.csv.xz", "csv"), ("t.tfrecord.gz", "tfrecord")):
        (tmp_path / name).write_bytes(b"")  # never read: the name says the format
        assert _load(tmp_path, _with("data", train=name)).data["format"]["train"] == fmt
    df.to_csv(tmp_path / "rows.dat", index=False)
    stated = _with("data", train="rows.dat", format="csv")
    assert _load(tmp_path, stated).data["format"]["train"] == "csv"
    error = _error(tmp_path, _with("data", train="rows.dat"))
    assert error.path == "data.train"
    assert "'.csv.bz2'" in str(error) and "'.tfr.gz'" in str(error)
    assert config.CSV_SUFFIXES == (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz")
    assert config.FORMATS == ("auto", "csv", "parquet", "tfrecord")


def test_parquet_needs_an_engine(tmp_path):
    df = cli_cases.frame(20)
    path = tmp_path / "train.parquet"
    cfg = _with("data", train="train.parquet")
    if config.parquet_engine() is None:
        path.write_bytes(b"PAR1")  # never read: the engine check comes first
        error = _error(tmp_path, cfg)
        assert error.path == "data.train"
        assert "pip install pyarrow" in str(error)
    else:
        df.to_parquet(path)
        assert _load(tmp_path, cfg).data["format"]["train"] == "parquet"


def test_cli_reports_config_errors_before_training(tmp_path, capsys):
    path = cli_cases.write_run(
        str(tmp_path), _with("model", num_experts="eight"), rows=(20, 10, 10)
    )
    assert main(["train", "--config", path]) == 2
    assert capsys.readouterr().err.strip() == (
        "keras-mtl train: config error at model.num_experts: expected a positive "
        "integer, got 'eight'"
    )
    assert not (tmp_path / "out").exists()
    # the builder's own checks run after adapt, before any training
    path = cli_cases.write_run(
        str(tmp_path),
        cli_cases.config(
            model={"builder": "PLE", "num_specific_experts": [1, 2, 3], "expert_units": [4]}
        ),
        rows=(20, 10, 10),
    )
    assert main(["train", "--config", path]) == 2
    err = capsys.readouterr().err
    assert "config error at model.num_specific_experts: " in err and "one specific" in err
    assert not (tmp_path / "out").exists()
    # a column the data lacks is reported at the feature that names it
    cfg = cli_cases.config()
    cfg["features"]["sparse"] = ["item", "colour"]
    path = cli_cases.write_run(str(tmp_path), cfg, rows=(20, 10, 10))
    assert main(["train", "--config", path]) == 2
    assert "config error at features.sparse[1]: column 'colour' is not in data.train" in (
        capsys.readouterr().err
    )
    assert main(["train", "--config", path, "--set", "features.sparse.1=color", "--check"]) == 0
    assert "config OK (MMoE" in capsys.readouterr().out


def test_example_config_is_valid():
    example = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "cli", "census.yaml")
    cfg = config.load_config(example)
    assert cfg.model.builder == "MMoE" and [t.name for t in cfg.tasks] == [
        "income",
        "never_married",
    ]
    assert len(cfg.features) == 38
    with open(example, encoding="utf-8") as f:
        assert yaml.safe_load(f)["training"]["epochs"] == cfg.training.epochs
