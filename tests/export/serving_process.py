"""Serving SavedModels in one fresh Python process where keras_mtl is blocked.

Every test that needs a fresh process hands all its SavedModels to one
`serve_in_fresh_process` call (a TensorFlow import costs seconds). The
process calls each model's `serving_default` with the given inputs, keyed by
the names a client sends (the feature names), and replays the TF Serving
warmup requests of the SavedModel, as TF Serving does when it loads it.
"""

import os
import pickle
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import os, pickle, sys

    class _Block:  # keras_mtl must not be needed to serve
        def find_spec(self, name, path=None, target=None):
            if name == "keras_mtl" or name.startswith("keras_mtl."):
                raise ImportError("keras_mtl is blocked in this process")

    sys.meta_path.insert(0, _Block())
    try:
        import keras_mtl  # noqa: F401
        raise SystemExit("keras_mtl was importable")
    except ImportError:
        pass
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    def call(fn, inputs):
        try:
            out = fn(**{k: tf.constant(v) for k, v in inputs.items()})
        except tf.errors.InvalidArgumentError as error:
            return str(error)
        return {k: v.numpy() for k, v in out.items()}

    jobs = pickle.load(open(sys.argv[1], "rb"))
    results = {}
    for name, job in jobs.items():
        fn = tf.saved_model.load(job["path"]).signatures[job.get("signature", "serving_default")]
        result = {"calls": {label: call(fn, x) for label, x in job.get("calls", {}).items()}}
        warmup = os.path.join(job["path"], "assets.extra", "tf_serving_warmup_requests")
        if job.get("warmup"):
            result["warmup"] = []
            for record in tf.data.TFRecordDataset(warmup).as_numpy_iterator():
                request = prediction_log_pb2.PredictionLog.FromString(record).predict_log.request
                inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
                result["warmup"].append((inputs, call(fn, inputs)))
        results[name] = result
    pickle.dump(results, open(sys.argv[2], "wb"))
    """
)


def serve_in_fresh_process(jobs, folder, timeout=300):
    """Runs `jobs` in one fresh process; returns its results.

    Args:
        jobs: `{name: {"path": SavedModel folder, "calls": {label: {input
            key: array}}, "warmup": bool, "signature": name}}` (the signature
            called defaults to "serving_default").
        folder: a pathlib folder for the job and result files.

    Returns:
        `{name: {"calls": {label: {output: array} or the error message},
        "warmup": [(request inputs, outputs or error message), ...]}}`.
    """
    (folder / "jobs.pkl").write_bytes(pickle.dumps(jobs))
    (folder / "serve.py").write_text(SCRIPT)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    run = subprocess.run(
        [
            sys.executable,
            str(folder / "serve.py"),
            str(folder / "jobs.pkl"),
            str(folder / "out.pkl"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(folder),
        timeout=timeout,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return pickle.loads((folder / "out.pkl").read_bytes())
