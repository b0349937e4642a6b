"""ParameterServerStrategy when a task dies: a worker comes back, a PS needs a restart.

Every task of the cluster is its own OS process on 127.0.0.1: two workers and
two PS tasks forked by tests/training/ps_task.py, the stack of embedding
tables (item, color, size, query) sharded across both PS tasks. The
coordinator is tests/training/ps_fault_run.py in a subprocess: it pauses after
a given step with every scheduled step finished and prints how many ran; the
test SIGKILLs or restarts a task (same port), then lets it go on. Everything
is bounded by DEADLINE_S and killed when the test ends, passed or not; every
child also dies with its parent (PR_SET_PDEATHSIG), so a killed pytest leaves
no orphans either.

- Worker failure: worker 0 killed after 6 of 24 steps, restarted 6 steps
  later. TF's ClusterCoordinator puts the step that failed on it back in the
  queue (worker 1 runs it), waits for the worker (no setting needed), then
  re-creates its dataset iterator and schedules on it again: `fit` runs all
  24 steps.
- PS failure: PS 1 killed after 14 of 24 steps, with epoch-end backups every
  4 steps. `fit` raises `tf.errors.UnavailableError`. With PS 1 restarted, a
  new coordinator program under `BackupAndRestore` starts at the last backup
  (12 steps) with exactly the backed-up weights and finishes the 24 steps.
  Under this strategy tf_keras' `BackupAndRestore(save_freq=<steps>)` never
  backs up (checked): back up per epoch and choose `steps_per_epoch` as the
  backup interval.

tf_keras only (`TF_USE_LEGACY_KERAS=1`): Keras 3 has no ParameterServerStrategy.
"""

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow as tf

from tests.training.ps_task import PARENT_PID

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "tests", "training")
LEGACY_KERAS = tf.keras.__name__.startswith("tf_keras")
DEADLINE_S = 180  # for a whole test, every process included (each takes ~20-30 s here)
EPOCHS, STEPS = 6, 4  # 24 steps; BackupAndRestore backs up at epoch ends: every 4 steps
#: where the two shards of the stack of embedding tables live (round robin: either first)
SHARDS = [f"/job:ps/replica:0/task:{i}/device:CPU:0" for i in (0, 1)]

pytestmark = pytest.mark.skipif(
    not LEGACY_KERAS,
    reason="ParameterServerStrategy needs tf_keras 2 (TF_USE_LEGACY_KERAS=1): "
    "Keras 3 does not support it (keras-team/keras#18624)",
)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    """A child process talked to by lines: stdin written, stdout read against a deadline."""

    def __init__(self, args, log, deadline):
        env = dict(
            os.environ,
            TF_USE_LEGACY_KERAS="1",
            TF_CPP_MIN_LOG_LEVEL="2",
            PYTHONPATH=ROOT,
            **{PARENT_PID: str(os.getpid())},
        )
        self.log, self.deadline = log, deadline
        with open(log, "a") as stderr:
            self.popen = subprocess.Popen(
                [sys.executable, *args],
                cwd=ROOT,
                env=env,
                text=True,
                bufsize=1,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
        self.lines = queue.Queue()  # a thread reads: select() would miss buffered lines
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.popen.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def expect(self, *prefixes):
        """The words of the next stdout line starting with one of `prefixes`."""
        while True:
            try:
                line = self.lines.get(timeout=max(self.deadline - time.monotonic(), 0.1))
            except queue.Empty:
                raise AssertionError(f"no {prefixes} line in time\n{self.tail()}") from None
            if line is None:
                raise AssertionError(
                    f"exited ({self.popen.wait()}) before a {prefixes} line\n{self.tail()}"
                )
            if line.startswith(prefixes):
                return line.split()

    def send(self, line="go"):
        self.popen.stdin.write(line + "\n")
        self.popen.stdin.flush()

    def wait(self):
        return self.popen.wait(timeout=max(self.deadline - time.monotonic(), 1))

    def stop(self, grace_s=0):
        """Closes stdin, waits up to `grace_s`, then SIGKILLs; reaps."""
        try:
            self.popen.stdin.close()
            self.popen.wait(timeout=grace_s)
        except (OSError, subprocess.TimeoutExpired):
            pass
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait()

    def tail(self):
        with open(self.log) as f:
            return f.read()[-4000:]


class Cluster:
    """Two workers and two PS tasks (ps_task.py) and the coordinators run against them."""

    def __init__(self, folder, workers=2, ps=2):
        self.folder = folder
        self.deadline = time.monotonic() + DEADLINE_S
        self.spec = {
            "worker": [f"127.0.0.1:{_free_port()}" for _ in range(workers)],
            "ps": [f"127.0.0.1:{_free_port()}" for _ in range(ps)],
        }
        self.tasks = Process(
            [os.path.join(HERE, "ps_task.py"), json.dumps(self.spec)],
            str(folder / "tasks.log"),
            self.deadline,
        )
        self.coordinators, self.pids = [], set()

    def start(self, *tasks):
        for job, index in tasks:
            self.tasks.send(f"start {job} {index}")
        for _ in tasks:
            words = self.tasks.expect("ready", "failed")
            assert words[0] == "ready", (words, self.tasks.tail())
            self.pids.add(int(words[3]))

    def kill(self, job, index):
        """SIGKILLs the task's process; returns once it is reaped (its port free)."""
        self.tasks.send(f"kill {job} {index}")
        assert self.tasks.expect("killed")[1:3] == [job, str(index)]

    def coordinator(self, name, pauses=(), backup=None, check_step_backups=False):
        plan = {
            "name": name,
            "epochs": EPOCHS,
            "steps_per_epoch": STEPS,
            "pauses": dict(pauses),
            "backup": backup,
            "check_step_backups": check_step_backups,
        }
        process = Process(
            [
                os.path.join(HERE, "ps_fault_run.py"),
                json.dumps(self.spec),
                str(self.folder),
                json.dumps(plan),
            ],
            str(self.folder / f"{name}.log"),
            self.deadline,
        )
        self.coordinators.append(process)
        return process

    def report(self, process):
        path = process.expect("report")[1]
        assert process.wait() == 0, process.tail()
        with open(path) as f:
            return json.load(f)

    def close(self):
        """Ends every process; returns the pids of tasks still alive 5 s later (none)."""
        for process in self.coordinators:
            process.stop()
        self.tasks.stop(grace_s=10)  # it kills and reaps its tasks; else they die with it
        alive = set(self.pids)
        for _ in range(50):
            alive = {pid for pid in alive if os.path.exists(f"/proc/{pid}")}
            if not alive:
                break
            time.sleep(0.1)
        return alive


@pytest.fixture
def cluster(tmp_path):
    cluster = Cluster(tmp_path)
    try:
        cluster.start(*[(job, i) for job in ("ps", "worker") for i in range(2)])
        yield cluster
    finally:
        assert not cluster.close(), "task processes outlived the test"


def _events(report, text):
    """Times (s) of the coordinator's timeline events that contain `text`."""
    return [t for t, message in report["timeline"] if text in message]


def test_worker_failure_is_recovered_and_fit_runs_every_step(cluster):
    run = cluster.coordinator("worker", pauses={5: "kill", 11: "restart"})
    assert run.expect("pause") == ["pause", "kill", "6"]  # 6 steps ran, none in flight
    cluster.kill("worker", 0)
    run.send()
    # meanwhile worker 1 ran every step: the coordinator does not stall
    assert run.expect("pause") == ["pause", "restart", "12"]
    cluster.start(("worker", 0))  # a new process on the same port
    run.send()
    report = cluster.report(run)

    assert report["error"] is None, report["error"]
    assert sorted(report["shard_devices"]) == SHARDS  # one shard on each, round robin
    assert report["iterations"] == EPOCHS * STEPS  # each step once: none was mid-step
    assert report["history"]["epochs"] == list(range(EPOCHS))
    assert np.isfinite(report["history"]["loss"]).all()
    # what TF did: worker 0's step failed while it was down and went back into
    # the queue; once the worker was back, its resources were re-created
    worker = "/job:worker/replica:0/task:0"
    failed = _events(report, f"Worker {worker} failed with UnavailableError")
    put_back = _events(report, "[Worker 0] Putting back a closure")
    restarted = _events(report, "resume after restart")
    recovered = _events(report, f"Worker {worker} has been recovered")
    rebuilt = _events(report, "[Worker 0] calling _on_worker_recovery")
    assert failed and put_back and restarted and recovered and rebuilt, report["timeline"]
    assert _events(report, "resume after kill")[0] <= failed[0] < restarted[0], report["timeline"]
    assert restarted[0] <= recovered[0] <= rebuilt[0], report["timeline"]
    assert not _events(report, "Worker 1]") and not _events(report, "task:1 failed")


def test_ps_failure_fails_fit_and_a_restart_resumes_from_the_last_backup(cluster, tmp_path):
    backup = str(tmp_path / "backup")
    run = cluster.coordinator("first", pauses={13: "kill"}, backup=backup)
    assert run.expect("pause") == ["pause", "kill", "14"]  # 2 steps after the last backup
    cluster.kill("ps", 1)
    run.send()
    first = cluster.report(run)

    assert sorted(first["shard_devices"]) == SHARDS
    assert first["error"]["type"] == "tensorflow.python.framework.errors_impl.UnavailableError"
    assert "/job:ps/replica:0/task:1" in first["error"]["message"]
    assert first["history"] is None
    assert first["last_backup"] == {"epoch": 2, "iterations": 12}

    # the recovery: the PS task back (empty), a new coordinator program
    cluster.start(("ps", 1))
    resumed = cluster.report(cluster.coordinator("resumed", backup=backup, check_step_backups=True))
    assert resumed["error"] is None, resumed["error"]
    assert resumed["start"] == {"epoch": 3, "iterations": 12}  # 2 steps lost (<= 4)
    assert resumed["start"]["iterations"] >= 14 - STEPS
    with (
        np.load(tmp_path / "first_backup.npz") as saved,
        np.load(tmp_path / "resumed_start.npz") as start,
    ):
        assert saved.files == start.files and len(saved.files) > 0
        for key in saved.files:  # every weight, the sharded stack joined whole
            np.testing.assert_array_equal(start[key], saved[key])
    assert resumed["iterations"] == EPOCHS * STEPS
    assert resumed["history"]["epochs"] == [3, 4, 5]
    assert np.isfinite(resumed["history"]["loss"]).all()
    # tf_keras' BackupAndRestore skips its step-frequency backups under this strategy
    assert resumed["backups_written"] == {"1": False, "epoch": True}
