"""The tasks of a parameter-server cluster, each its own OS process, started and killed on request.

    python tests/training/ps_task.py CLUSTER_JSON

CLUSTER_JSON is `{"worker": [...], "ps": [...]}` (addresses on 127.0.0.1).
The process imports TensorFlow once, starts no TensorFlow runtime itself and
reads commands on stdin, one a line:

- `start JOB INDEX`: forks a child that starts the `tf.distribute.Server` of
  that task on its address (the same port every time, so a restart replaces
  the task) and prints "ready JOB INDEX PID" ("failed JOB INDEX ERROR" if the
  server does not start); the child serves until killed.
- `kill JOB INDEX`: SIGKILLs that child, reaps it (its port is free again)
  and prints "killed JOB INDEX PID".
- end of stdin: kills every child and exits.

Forking after the import saves each task the ~5-7 s import of TensorFlow
(this is a test fixture; a real cluster runs one `Server(...).join()` per
machine, docs/distributed.md). The children die with this process
(PR_SET_PDEATHSIG), which dies the same way with the process named by
$PS_FAULT_PARENT_PID (the test). The coordinator sends every function the
tasks run: they need neither keras_mtl nor Keras.
"""

import ctypes
import json
import os
import signal
import sys

#: set by the test: the pid this process must not outlive
PARENT_PID = "PS_FAULT_PARENT_PID"


def die_with_parent(parent=None):
    """Has the kernel SIGKILL this process when its parent ends (PR_SET_PDEATHSIG).

    `parent` (default: $PS_FAULT_PARENT_PID, else no check) is the pid the
    parent had: a parent that ended before the request was made ends this
    process at once. A no-op off Linux.
    """
    if not sys.platform.startswith("linux"):
        return
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    parent = parent or int(os.environ.get(PARENT_PID, "0"))
    if parent and os.getppid() != parent:
        os._exit(1)


def say(line):
    """One line on stdout in one write: lines of several children never mix."""
    os.write(sys.stdout.fileno(), (line.replace("\n", " ")[:1000] + "\n").encode())


def serve(cluster, job, index, parent):
    """In the forked child: runs the task's server until killed."""
    import tensorflow as tf

    die_with_parent(parent)
    spec = tf.train.ClusterSpec({name: cluster[name] for name in ("worker", "ps")})
    config = tf.compat.v1.ConfigProto()
    if job == "worker":  # as TF's parameter-server guide, on few cores
        config.inter_op_parallelism_threads = len(cluster["worker"]) + 1
    server = tf.distribute.Server(
        spec, job_name=job, task_index=index, config=config, protocol="grpc", start=True
    )
    say(f"ready {job} {index} {os.getpid()}")
    server.join()


def main(cluster):
    import tensorflow  # noqa: F401  (once, here: every child inherits it)

    children = {}
    for line in sys.stdin:
        command, job, index = line.split()
        task = (job, int(index))
        if command == "start":
            if task in children:
                raise ValueError(f"task {task} is running (pid {children[task]}): kill it first")
            parent = os.getpid()
            pid = os.fork()
            if pid == 0:
                try:
                    serve(cluster, *task, parent)
                except BaseException as error:
                    say(f"failed {job} {index} {error!r}")
                finally:
                    os._exit(1)  # never back into the command loop
            children[task] = pid
        elif command == "kill":
            pid = children.pop(task)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            say(f"killed {job} {index} {pid}")
        else:
            raise ValueError(f"expected 'start' or 'kill'. Received: {line!r}")
    for pid in children.values():
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


if __name__ == "__main__":
    die_with_parent()
    main(json.loads(sys.argv[1]))
