"""Exports that appear whole: staged under a hidden name, flushed, renamed.

TF Serving's file-system poller (and Triton's) loads a numeric folder of a
model's base path as soon as it sees one. An export therefore writes into a
hidden staging folder inside the base path (`.staging-<host>-<pid>-<random>`,
not all digits, so servers ignore it), flushes every file and folder to disk
(fsync), and only then renames the folder to `base_dir/<version>`: a rename
within one file system is atomic, so a server sees no version or a whole
one. A failed export removes its staging folder; one killed outright leaves
only a hidden folder, which the next export to the same base path removes
once its process is gone. Two exports racing for the same next version
cannot both claim it: renaming onto a folder that is not empty fails, and
the loser takes the following version.

Single files (a `.keras` model, an `.onnx` file) are written under a hidden
name beside their destination and moved over it with `os.replace`.
"""

import contextlib
import errno
import os
import shutil
import socket
import tempfile
from typing import Union

#: Names of staging folders (never all digits, so TF Serving skips them).
STAGING_PREFIX = ".staging-"


def next_version(base_dir: Union[str, os.PathLike]) -> int:
    """The next free integer version under `base_dir` (1 when empty)."""
    if not os.path.isdir(base_dir):
        return 1
    versions = [int(name) for name in os.listdir(base_dir) if name.isdigit()]
    return max(versions, default=0) + 1


def fsync_tree(path):
    """Flushes every file and folder under `path` (and `path`) to disk."""
    for root, _dirs, files in os.walk(path, topdown=False):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                os.fsync(f.fileno())
        fsync_folder(root)


def fsync_folder(path):
    """Flushes a folder's entries (a rename or a new file in it) to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _owner(name):
    """`(host, pid)` of a staging folder's name, or None."""
    parts = name[len(STAGING_PREFIX) :].split("-")
    if not name.startswith(STAGING_PREFIX) or len(parts) < 3 or not parts[-2].isdigit():
        return None
    return "-".join(parts[:-2]), int(parts[-2])


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(base_dir):
    """Removes the staging folders under `base_dir` left by dead processes of
    this host (an export killed before it finished). Returns their names."""
    if not os.path.isdir(base_dir):
        return []
    removed = []
    host = socket.gethostname()
    for name in os.listdir(base_dir):
        owner = _owner(name)
        if owner is not None and owner[0] == host and not _alive(owner[1]):
            shutil.rmtree(os.path.join(base_dir, name), ignore_errors=True)
            removed.append(name)
    return removed


class StagedVersion:
    """The folder an export writes into, and where it went.

    Attributes:
        path: the staging folder while the `with` block runs; the published
            version folder (`base_dir/<version>`) after it.
        version: the version claimed (after the block).
    """

    def __init__(self, path):
        self.path = path
        self.version = None


def _taken(base_dir, version):
    return FileExistsError(
        f"{os.path.join(base_dir, str(version))} exists already. Expected a new version "
        f"under {base_dir}; pass version=None to take the next free one."
    )


def check_version(base_dir, version):
    """Raises unless `version` is None or a positive int not yet under `base_dir`."""
    if version is None:
        return
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"expected a positive integer. Received: version={version!r}")
    if os.path.exists(os.path.join(base_dir, str(version))):
        raise _taken(base_dir, version)


def _claim(staging, base_dir, version):
    """Renames `staging` to the next free version (or `version`)."""
    while True:
        claimed = next_version(base_dir) if version is None else version
        target = os.path.join(base_dir, str(claimed))
        if version is not None and os.path.exists(target):
            raise _taken(base_dir, version)
        try:
            os.rename(staging, target)
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            if version is not None:
                raise FileExistsError(
                    f"{target} was written by another export meanwhile. Expected a new version."
                ) from None
            continue  # another export claimed it first: take the next one
        fsync_folder(base_dir)
        return claimed, target


@contextlib.contextmanager
def staged_version(base_dir, version=None):
    """Yields a `StagedVersion` whose hidden folder the block fills; on success
    the folder is flushed and renamed to `base_dir/<version>` (the next free
    one when `version` is None); on an error it is removed.

    Example:
    >>> import tempfile
    >>> base = tempfile.mkdtemp()
    >>> with staged_version(base) as staged:
    ...     open(os.path.join(staged.path, "saved_model.pb"), "w").close()
    >>> staged.version, sorted(os.listdir(base)), os.listdir(staged.path)
    (1, ['1'], ['saved_model.pb'])
    """
    os.makedirs(base_dir, exist_ok=True)
    remove_stale_staging(base_dir)
    check_version(base_dir, version)
    prefix = f"{STAGING_PREFIX}{socket.gethostname()}-{os.getpid()}-"
    staged = StagedVersion(tempfile.mkdtemp(prefix=prefix, dir=base_dir))
    try:
        yield staged
        fsync_tree(staged.path)
        staged.version, staged.path = _claim(staged.path, base_dir, version)
    except BaseException:
        shutil.rmtree(staged.path, ignore_errors=True)
        raise


@contextlib.contextmanager
def replacing_file(path):
    """Yields a hidden path beside `path` (same suffix) for the block to write;
    on success it is flushed and moved over `path` in one `os.replace`."""
    folder, name = os.path.split(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{name}.", suffix=os.path.splitext(name)[1], dir=folder
    )
    os.close(descriptor)
    os.remove(temporary)  # the writer creates it (Keras refuses to overwrite some files)
    try:
        yield temporary
        with open(temporary, "rb") as f:
            os.fsync(f.fileno())
        os.replace(temporary, path)
        fsync_folder(folder)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
