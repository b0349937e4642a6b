"""The plumbing every benchmark script shares: memory, timers, paired statistics, workers, models.

- Memory (Linux /proc and getrusage): `rss_bytes` / `peak_bytes` (VmRSS / VmHWM
  of this process or of any pid, such as a child's), `reset_peak`,
  `max_rss_bytes` (ru_maxrss of this process or of its ended children),
  `PeakSampler` (a field sampled while a block runs) and `cpu_seconds(pid)`.
- `Timer`: wall-clock and process-CPU seconds of a block, rows per second of
  each; `fit_timer` a Keras callback of one Timer per epoch; `latencies_ms`.
- `mean_se` and `paired`: mean ± standard error, and of per-seed differences.
- `call` / `Worker`: a function of a benchmark script run in a fresh Python
  process (its own peak memory, its own thread pools), with a timeout; its
  return value comes back as JSON.
- `BUILDERS` / `build`: model name -> keras_mtl's builder, with settings shared
  by a benchmark's models; `config_features` / `config_model`: the throughput
  benchmark's MMoE and PLE (`_config.py`).

Nothing here imports TensorFlow at import time: a worker of a PyTorch library
imports this module too.

    python benchmarks/_harness.py SCRIPT FUNCTION KWARGS_JSON RESULT_PATH   # what `call` runs
"""

import dataclasses
import importlib.util
import inspect
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MIB = 2**20

if HERE not in sys.path:
    sys.path.insert(0, HERE)
import _config as cfg  # noqa: E402


def cores():
    """CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


# ------------------------------------------------------------------ memory


def _status_kib(field, pid="self"):
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(f"/proc/{pid}/status has no {field}")


def rss_bytes(pid="self"):
    """Resident memory of a process now (VmRSS); `pid` may be a child's."""
    return _status_kib("VmRSS", pid) * 1024


def peak_bytes(pid="self"):
    """Peak resident memory since start or the last `reset_peak` (VmHWM).

    VmHWM counts file pages mapped into the process (ONNX Runtime maps its
    external data) as well as its own memory; `PeakSampler("RssAnon")` samples
    the process's own (anonymous) memory alone.
    """
    return _status_kib("VmHWM", pid) * 1024


def reset_peak():
    """Makes this process's peak (VmHWM) its current resident memory (Linux: "5" to clear_refs)."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")


def max_rss_bytes(children=False):
    """Largest resident set of this process (getrusage's ru_maxrss, which `reset_peak` leaves),
    or with `children` of the largest of its children that have ended and been waited for."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss * 1024  # Linux reports KiB


def cpu_seconds(pid="self"):
    """User + system CPU seconds of a running process (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PeakSampler:
    """Samples a /proc/self/status field while a `with` block runs.

    Attributes (bytes, after the block): `start` (at entry) and `peak` (the
    largest sample, every `interval` seconds).
    """

    def __init__(self, field="RssAnon", interval=0.005):
        self.field, self.interval = field, interval
        self.start = self.peak = 0
        self._stop = threading.Event()
        self._thread = None

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _status_kib(self.field) * 1024)
            time.sleep(self.interval)

    def __enter__(self):
        self.start = self.peak = _status_kib(self.field) * 1024
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _status_kib(self.field) * 1024)
        return False


# ------------------------------------------------------------------ timers


class Timer:
    """Wall-clock and process-CPU seconds of a `with` block, or from `start()` to `stop()`.

    CPU time is this process's, all its threads (`time.process_time`). Read
    while the timer runs, `wall_s` and `cpu_s` are the seconds so far. With
    `rows` (the rows the block processed), `rows_per_s` and `rows_per_cpu_s`.

        with Timer(rows=steps * batch) as timer:
            model.fit(...)
        timer.wall_s, timer.cpu_s, timer.rows_per_cpu_s
    """

    def __init__(self, rows=0):
        self.rows = rows
        self._start = self._end = None

    def start(self):
        self._start, self._end = (time.perf_counter(), time.process_time()), None
        return self

    def stop(self):
        self._end = (time.perf_counter(), time.process_time())
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def _seconds(self, clock):
        if self._start is None:
            raise RuntimeError("this Timer was never started: use it in `with` or call start()")
        end = self._end or (time.perf_counter(), time.process_time())
        return end[clock] - self._start[clock]

    @property
    def wall_s(self):
        return self._seconds(0)

    @property
    def cpu_s(self):
        return self._seconds(1)

    @property
    def rows_per_s(self):
        return self.rows / self.wall_s

    @property
    def rows_per_cpu_s(self):
        return self.rows / self.cpu_s


def fit_timer(skip_steps=0):
    """A Keras callback timing each epoch of `fit` from its batch `skip_steps` to its end.

    `skip_steps=0` times the whole epoch; more leaves the first batches
    (tracing, warm-up) out. After `fit`: `.epochs`, one `Timer` per epoch, and
    `.steps`, the batches of the last epoch.
    """
    import tensorflow as tf

    class FitTimer(tf.keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epochs, self.steps = [], 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epochs.append(Timer())
            self.steps = 0
            if not skip_steps:
                self.epochs[-1].start()

        def on_train_batch_begin(self, batch, logs=None):
            if skip_steps and batch == skip_steps:
                self.epochs[-1].start()

        def on_train_batch_end(self, batch, logs=None):
            self.steps = batch + 1

        def on_epoch_end(self, epoch, logs=None):
            self.epochs[-1].stop()

    return FitTimer()


def latencies_ms(fn, calls, seconds=0.0):
    """Milliseconds of each call of `fn()`: `calls` calls, and more until `seconds` have passed."""
    times, start = [], time.perf_counter()
    while len(times) < calls or time.perf_counter() - start < seconds:
        begin = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - begin) / 1e6)
    return np.array(times)


# -------------------------------------------------------------- statistics


def mean_se(values, axis=None, single=float("nan")):
    """`(mean, standard error)` of `values`: SE = sample sd (ddof 1) / √n, `single` when n = 1.

    With `axis`, arrays over the other axes (`axis=0`: per column over rows).
    """
    values = np.asarray(values, "float64")
    n = values.size if axis is None else values.shape[axis]
    mean = values.mean(axis=axis)
    if n > 1:
        se = values.std(axis=axis, ddof=1) / np.sqrt(n)
    else:
        se = np.full_like(mean, single)
    if axis is None:
        return float(mean), float(se)
    return mean, se


@dataclasses.dataclass(frozen=True)
class Paired:
    """Per-seed differences `a − b` (`diffs`) and their mean ± standard error."""

    diffs: np.ndarray
    mean: float
    se: float

    @property
    def higher(self):
        """Seeds where `a` is higher."""
        return int(np.sum(self.diffs > 0))

    @property
    def median(self):
        return float(np.median(self.diffs))


def paired(a, b, single=float("nan")):
    """`a − b` paired by position (by seed): a `Paired`; its SE is `single` for one pair."""
    diffs = np.asarray(a, "float64") - np.asarray(b, "float64")
    return Paired(diffs, *mean_se(diffs, single=single))


# ----------------------------------------------------------------- workers


def worker_env(extra=None):
    """This process's environment, TensorFlow's C++ logging off, unbuffered output, then `extra`."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    env.update(extra or {})
    return env


class WorkerError(RuntimeError):
    """A worker ended without a result: it raised, it died, or it ran past its timeout."""

    def __init__(self, name, reason, returncode, stdout, stderr):
        super().__init__(f"{name} failed ({reason}):\n{stderr[-3000:]}")
        self.name, self.reason, self.returncode = name, reason, returncode
        self.stdout, self.stderr = stdout, stderr

    def tail(self, lines=3):
        """The last `lines` lines of its stderr (of its stdout when stderr is empty)."""
        return (self.stderr or self.stdout).strip().splitlines()[-lines:]


class Worker:
    """`function(**kwargs)` of the script at `path`, running in a fresh Python process.

    The script is imported as a module (its `__main__` block does not run),
    with the benchmarks folder and the repository root on `sys.path`; the
    function's return value (JSON) is the worker's result, even where the
    process then exits with an error (TensorFlow sometimes crashes at exit).
    Its output is kept in temporary files (no pipe to fill), the tail of stderr
    shown on failure. `done()` polls, `result(timeout)` waits, `kill()` stops
    it, `pid` is its process id.
    """

    def __init__(self, path, function, kwargs=None, env=None):
        self.name = f"{os.path.basename(path)}:{function}({json.dumps(kwargs or {})[:300]})"
        self._dir = tempfile.TemporaryDirectory(prefix="benchmark_worker_")
        self._result = os.path.join(self._dir.name, "result.json")
        self._out, self._err = (
            open(os.path.join(self._dir.name, name), "w+", encoding="utf-8")
            for name in ("stdout", "stderr")
        )
        command = [
            sys.executable,
            os.path.abspath(__file__),
            os.path.abspath(path),
            function,
            json.dumps(kwargs or {}),
            self._result,
        ]
        self.process = subprocess.Popen(
            command, stdout=self._out, stderr=self._err, env=worker_env(env)
        )
        self.pid = self.process.pid

    def done(self):
        return self.process.poll() is not None

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._cleanup()

    def result(self, timeout=None):
        """The function's return value; raises `WorkerError` when there is none."""
        reason = None
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
            reason = f"ran past its timeout of {timeout} s"
        outputs = []
        for stream in (self._out, self._err):
            stream.seek(0)
            outputs.append(stream.read())
        result = None
        if reason is None and os.path.exists(self._result):
            with open(self._result, encoding="utf-8") as saved:
                result = json.load(saved)
        self._cleanup()
        if result is None:
            reason = reason or f"exit code {code}, no result"
            raise WorkerError(self.name, reason, code, *outputs)
        return result["value"]

    def _cleanup(self):
        self._out.close()
        self._err.close()
        self._dir.cleanup()


def call(path, function, kwargs=None, *, timeout=None, env=None):
    """`function(**kwargs)` of the script at `path` in a fresh Python process; its JSON result.

    `env` adds to the worker's environment (`worker_env`); `timeout` seconds
    (None: no limit) kill it. Raises `WorkerError` with its stderr's tail
    when it returns nothing.
    """
    return Worker(path, function, kwargs, env).result(timeout)


def _run_worker(path, function, kwargs, result_path):
    """The worker side of `call`: imports the script, calls the function, writes its result."""
    for folder in (ROOT, os.path.dirname(path)):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    value = getattr(module, function)(**kwargs)
    with open(result_path, "w", encoding="utf-8") as out:
        json.dump({"value": value}, out)


# ---------------------------------------------------------------- builders

#: Settings that mean the same to every keras_mtl builder that takes them. `build`
#: passes each to the builders whose signature has it and leaves it out for the
#: others, so one dict of a benchmark's widths serves all its models; any other
#: keyword goes to the builder as given (one it does not take raises).
COMMON = frozenset(
    "task_names task_types tower_units expert_units bottom_units num_experts num_levels "
    "num_shared_experts num_specific_experts num_task_experts".split()
)
#: keras_mtl's public builders, by their names
MODEL_NAMES = tuple(
    "SharedBottom OMoE MMoE CGC PLE STEM AdaTT HoME CrossStitch SNR MetaHeac PEPNet STAR "
    "ESMM ESM2 ESCM2 AITM".split()
)


def _builder(name):
    def build_model(features, **kwargs):
        import keras_mtl

        builder = getattr(keras_mtl, name)
        takes = inspect.signature(builder).parameters
        kept = {k: v for k, v in kwargs.items() if k in takes or k not in COMMON}
        return builder(features, **kept)

    build_model.__name__ = build_model.__qualname__ = name
    build_model.__doc__ = f"`keras_mtl.{name}(features, **kwargs)`, less the COMMON it lacks."
    return build_model


#: Model name -> `(features, **kwargs) -> model`, by keras_mtl's public builders.
BUILDERS = {name: _builder(name) for name in MODEL_NAMES}


def build(name, features, **kwargs):
    """Model `name` of `BUILDERS` over `features` (see `COMMON` for the shared settings)."""
    if name not in BUILDERS:
        raise ValueError(f"expected a model name among {sorted(BUILDERS)}. Received: name={name!r}")
    return BUILDERS[name](features, **kwargs)


def config_features(vocab=cfg.VOCAB):
    """The throughput benchmark's features: `_config`'s ids (`vocab` each) and numeric values."""
    import keras_mtl

    return [
        keras_mtl.SparseFeat(c, vocabulary_size=vocab, embedding_dim=cfg.DIM)
        for c in cfg.CATEGORICAL
    ] + [keras_mtl.DenseFeat(n) for n in cfg.NUMERIC]


def config_model(name, features):
    """The throughput benchmark's model `name` ("mmoe" or "ple", `_config.MODELS`)."""
    builder, settings = cfg.MODELS[name]
    return build(
        builder,
        features,
        task_names=cfg.TASKS,
        expert_units=cfg.EXPERT_UNITS,
        tower_units=cfg.TOWER_UNITS,
        **settings,
    )


if __name__ == "__main__":
    _run_worker(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4])
