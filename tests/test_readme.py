"""The README's Python example runs as written."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_readme_python_example_runs(tmp_path, monkeypatch):
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README has no python example"
    monkeypatch.chdir(tmp_path)  # the example exports to ./savedmodels
    namespace = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    assert sorted(namespace["predictions"]) == ["income", "never_married"]
    assert namespace["predictions"]["income"].shape == (1000, 1)
    assert os.path.isfile(tmp_path / "savedmodels" / "census_mmoe" / "1" / "saved_model.pb")


def test_readme_multi_domain_example_runs():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    blocks = [
        b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "keras_mtl.STAR(" in b
    ]
    assert len(blocks) == 1, "README has no multi-domain python example"
    namespace = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    table = namespace["per_domain"]
    assert list(table.index) == [0, 1, 2, "all"]
    assert table.loc["all", "ctr_auc"] > 0.6


def test_readme_onnx_serving_snippet_loads_a_hashed_model(tmp_path, monkeypatch):
    import numpy as np

    import keras_mtl

    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    blocks = [
        b
        for b in re.findall(r"```python\n(.*?)```", text, flags=re.S)
        if "register_custom_ops_library" in b
    ]
    assert len(blocks) == 1, "README has no ONNX serving snippet"
    model = keras_mtl.SharedBottom(
        [keras_mtl.SparseFeat("query", hash_bins=8)],
        task_names=("ctr",),
        bottom_units=(2,),
        tower_units=(),
    )
    result = keras_mtl.export.export_onnx(model, str(tmp_path / "model.onnx"))
    assert result.custom_ops == "onnxruntime_extensions"
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    out = namespace["session"].run(None, {"query": np.array(["naïve", ""], dtype=object)})
    expected = model.predict({"query": np.array(["naïve", ""], dtype=object)}, verbose=0)["ctr"]
    np.testing.assert_allclose(out[0].reshape(expected.shape), expected, atol=1e-6)
