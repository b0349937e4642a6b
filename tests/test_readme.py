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
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S)
              if "keras_mtl.STAR(" in b]
    assert len(blocks) == 1, "README has no multi-domain python example"
    namespace = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    table = namespace["per_domain"]
    assert list(table.index) == [0, 1, 2, "all"]
    assert table.loc["all", "ctr_auc"] > 0.6
