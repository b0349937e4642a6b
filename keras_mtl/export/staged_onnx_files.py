"""Writing an .onnx file and its external-data file so that they appear whole."""

import os
import shutil
import socket
import tempfile

from keras_mtl.export import versions


def _data_files(path):
    """The external-data files the .onnx file at `path` refers to (beside it)."""
    if not os.path.exists(path):
        return set()
    import onnx

    proto = onnx.load(path, load_external_data=False)
    folder = os.path.dirname(os.path.abspath(path))
    return {
        os.path.join(folder, entry.value)
        for t in proto.graph.initializer
        for entry in t.external_data
        if entry.key == "location"
    }


class StagedOnnxFiles:
    """An .onnx file and its data file staged in a hidden folder beside `path`.

    `with StagedOnnxFiles(path) as staged:` the block writes `staged.onnx`
    and, for external data, `staged.data` (the name the .onnx file must
    refer to); an error discards both.

    On success the data file lands first, then the .onnx file, each by
    `os.replace`, so the .onnx file at `path` always names a complete data
    file. Replacing an earlier export in place, the new data file takes a
    fresh name (`<name>.<token>.data`) while the old .onnx file still names
    the old one, which is removed once the new .onnx file is in place.
    """

    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.folder, self.name = os.path.split(self.path)
        self.published_data = None

    def __enter__(self):
        os.makedirs(self.folder, exist_ok=True)
        versions.remove_stale_staging(self.folder)
        self.staging = tempfile.mkdtemp(
            prefix=f"{versions.STAGING_PREFIX}{socket.gethostname()}-{os.getpid()}-",
            dir=self.folder,
        )
        data_name = self.name + ".data"
        if os.path.exists(os.path.join(self.folder, data_name)):
            data_name = f"{self.name}.{os.path.basename(self.staging)[-8:]}.data"
        self.onnx = os.path.join(self.staging, self.name)
        self.data = os.path.join(self.staging, data_name)
        return self

    def __exit__(self, kind, error, trace):
        try:
            if kind is None:
                old = _data_files(self.path)
                if os.path.exists(self.data):
                    self.published_data = os.path.join(self.folder, os.path.basename(self.data))
                    versions.fsync_tree(self.staging)
                    os.replace(self.data, self.published_data)
                else:
                    versions.fsync_tree(self.staging)
                os.replace(self.onnx, self.path)
                versions.fsync_folder(self.folder)
                for stale in old - {self.published_data}:
                    if os.path.basename(stale).startswith(self.name) and os.path.isfile(stale):
                        os.remove(stale)
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)
        return False
