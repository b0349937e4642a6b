"""examples/tfrecord_pipeline.py runs end to end on a small generated file."""

import os
import runpy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_tfrecord_example_trains_from_files_and_serves_tf_examples(tmp_path):
    main = runpy.run_path(os.path.join(ROOT, "examples", "tfrecord_pipeline.py"))["main"]
    result = main(["--rows", "3000", "--epochs", "1", "--dir", str(tmp_path)])
    assert result["auc"]["click"] > 0.6  # a constant predictor has AUC 0.5
    assert result["max_abs_diff"] == 0.0  # the same rows, the same graph
    assert os.path.isfile(os.path.join(result["path"], "saved_model.pb"))
