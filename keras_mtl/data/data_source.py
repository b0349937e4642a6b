"""Files of rows and how to read them: the one reader table of keras_mtl."""

import os
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Literal
from typing import Optional
from typing import Union

import pandas as pd

from keras_mtl.data import _arrow_read
from keras_mtl.data import _tfrecord_read
from keras_mtl.data import validation
from keras_mtl.data._files import match_files
from keras_mtl.features.feature_spec import FeatureSpec

FORMATS = ("auto", "csv", "parquet", "tfrecord")
#: The suffix of a file name -> its format; a compression suffix may follow.
FORMAT_SUFFIXES = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".tfrecord": "tfrecord",
    ".tfrecords": "tfrecord",
    ".tfr": "tfrecord",
}
#: The last suffix of a compressed file -> its compression.
COMPRESSION_SUFFIXES = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz"}
#: The compressions each format's files may have (Parquet compresses inside the file).
COMPRESSIONS = {"csv": ("gzip", "bz2", "zip", "xz"), "parquet": (), "tfrecord": ("gzip", "zlib")}
#: The list separator of a CSV list column no separator is given for.
DEFAULT_SEPARATOR = "|"


def _suffix_compression(name, file_format):
    """The compression a (lower-case) file name's last suffix says, if `file_format` has it."""
    for suffix, compression in COMPRESSION_SUFFIXES.items():
        if name.endswith(suffix) and compression in COMPRESSIONS[file_format]:
            return compression
    return None


def _check_separators(list_separator):
    separators = list_separator if isinstance(list_separator, dict) else {None: list_separator}
    for name, separator in separators.items():
        if not isinstance(separator, str) or not separator:
            where = "list_separator" if name is None else f"list_separator[{name!r}]"
            raise ValueError(
                f"expected a non-empty string (or a dict of them by feature name). "
                f"Received: {where}={separator!r}"
            )
    return dict(list_separator) if isinstance(list_separator, dict) else list_separator


class DataSource:
    """Files of training rows and how to read them.

    The format goes by the file name (`format="auto"`), or is stated:

    - `csv`: `.csv`, and compressed `.csv.gz`, `.csv.bz2`, `.csv.zip`,
      `.csv.xz` (gzip, bz2, zip, xz);
    - `parquet`: `.parquet`, `.pq` (compressed inside the file);
    - `tfrecord`: `.tfrecord`, `.tfrecords`, `.tfr`, and their `.gz` (gzip;
      zlib when stated).

    A name with none of these suffixes is an error under `"auto"` (state the
    format). Compression goes by the last suffix (`compression="auto"`) or
    is stated. CSV and Parquet files are read with pyarrow, TFRecord files
    of `tf.Example` in `keras_mtl.data.parse_spec`'s layout with
    `tf.data`. Text cells of CSV list columns (`VarLenSparseFeat`, their
    weights, `DenseFeat` with `dimension > 1`) are split at their feature's
    separator ("3|5|8"; an empty cell is an empty list).

    `adapt` reads a source with `chunks(features)`
    (`keras_mtl.features.adapt(features, source)`; a plain file pattern
    there is read as `DataSource(pattern)`), and `csv_dataset`,
    `parquet_dataset` and `tfrecord_dataset` read their files through one.

    Args:
        file_pattern: glob pattern, or list of patterns / paths.
        format: "auto", "csv", "parquet" or "tfrecord".
        compression: "auto" (by suffix), None, or one of the format's
            compressions above.
        list_separator: the separator of the values in a CSV list cell:
            one string, or `{feature name: separator}` (features left out
            use "|").
        chunk_rows: rows per chunk.

    Attributes:
        files: the matched paths, sorted.
        format: the files' format ("csv", "parquet" or "tfrecord").
        compression: the files' compression, or None.

    Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "train.csv.bz2")
    >>> pd.DataFrame({"tags": ["a;b", ""], "item": [1, 2]}).to_csv(path, index=False)
    >>> source = DataSource(path, list_separator={"tags": ";"})
    >>> source.format, source.compression
    ('csv', 'bz2')
    >>> feats = [keras_mtl.features.VarLenSparseFeat("tags", maxlen=2), SparseFeat("item")]
    >>> next(source.chunks(feats))["tags"].tolist()
    [['a', 'b'], []]
    """

    def __init__(
        self,
        file_pattern: Union[str, Sequence[str]],
        format: Literal["auto", "csv", "parquet", "tfrecord"] = "auto",
        compression: Optional[str] = "auto",
        list_separator: Union[str, Mapping[str, str]] = DEFAULT_SEPARATOR,
        chunk_rows: int = 65_536,
    ) -> None:
        if format not in FORMATS:
            raise ValueError(f"expected format in {FORMATS}. Received: format={format!r}")
        self.chunk_rows = validation.positive_int("chunk_rows", chunk_rows)
        self.list_separator = _check_separators(list_separator)
        self.file_pattern = file_pattern
        what = "data files" if format == "auto" else f"{format} files"
        self.files = tuple(match_files(file_pattern, what))
        names = [os.path.basename(f).lower() for f in self.files]
        if format == "auto":
            formats = {f: self.detect(f)[0] for f in self.files}
            if len(set(formats.values())) > 1:
                raise ValueError(
                    f"expected files of one format at {file_pattern!r}. Received {formats} "
                    "(match one format, or state it with format=)."
                )
            format = formats[self.files[0]]
        self.format = format
        if compression == "auto":
            found = {f: _suffix_compression(n, format) for f, n in zip(self.files, names)}
            if len(set(found.values())) > 1:
                raise ValueError(
                    f"expected files of one compression at {file_pattern!r}. Received {found}."
                )
            compression = found[self.files[0]]
        elif compression is not None and compression not in COMPRESSIONS[format]:
            raise ValueError(
                f"expected compression in {('auto', None) + COMPRESSIONS[format]} for "
                f"{format} files. Received: compression={compression!r}"
            )
        self.compression = compression

    @staticmethod
    def suffixes(file_format: Optional[str] = None) -> tuple[str, ...]:
        """The suffixes `format="auto"` knows (of one format, or of all)."""
        out = []
        for suffix, fmt in FORMAT_SUFFIXES.items():
            if file_format in (None, fmt):
                out.append(suffix)
                out.extend(
                    suffix + compressed
                    for compressed, compression in COMPRESSION_SUFFIXES.items()
                    if compression in COMPRESSIONS[fmt]
                )
        return tuple(out)

    @staticmethod
    def detect(path: Union[str, os.PathLike]) -> tuple[str, Optional[str]]:
        """`(format, compression)` of a file from its name.

        Example:
        >>> DataSource.detect("logs/part-0.tfrecord.gz"), DataSource.detect("a.PQ")
        (('tfrecord', 'gzip'), ('parquet', None))
        """
        name = os.path.basename(str(path)).lower()
        for suffix, fmt in FORMAT_SUFFIXES.items():
            compression = _suffix_compression(name, fmt)
            if compression is None and name.endswith(suffix):
                return fmt, None
            if compression is not None and name[: name.rfind(".")].endswith(suffix):
                return fmt, compression
        raise ValueError(
            f"cannot tell the format of {str(path)!r} from its name: expected a name "
            f"ending in one of {DataSource.suffixes()}. State the format: "
            "DataSource(pattern, format='csv' | 'parquet' | 'tfrecord')."
        )

    def separator(self, name: str) -> str:
        """The list separator of column `name` in CSV files."""
        if isinstance(self.list_separator, str):
            return self.list_separator
        return self.list_separator.get(name, DEFAULT_SEPARATOR)

    def check_columns(self, columns: Sequence[str]) -> None:
        """KeyError naming the file, unless the first and last files hold `columns`."""
        if self.format == "tfrecord":
            return  # records are checked as they are parsed
        for file in sorted(set(self.files[:1] + self.files[-1:])):
            names = _arrow_read.column_names(file, self.format, self.compression)
            _arrow_read.check_columns(file, columns, names)

    def num_rows(self) -> Optional[int]:
        """The row count from the Parquet footers; None for CSV / TFRecord."""
        if self.format != "parquet":
            return None
        return _arrow_read.parquet_rows(self.files)

    def file_chunks(
        self,
        file: str,
        features: Sequence[FeatureSpec],
        columns: Sequence[str],
    ) -> Iterator[pd.DataFrame]:
        """DataFrames of at most `chunk_rows` rows of `columns` of one CSV / Parquet file."""
        return _arrow_read.chunks(
            file, self.format, self.compression, features, columns, self.chunk_rows, self.separator
        )

    def chunks(self, features: Sequence[FeatureSpec]) -> Iterator[pd.DataFrame]:
        """DataFrames of at most `chunk_rows` rows of the features' columns, file by file."""
        if self.format == "tfrecord":
            yield from _tfrecord_read.chunks(
                self.files, features, self.compression, self.chunk_rows
            )
            return
        columns = _arrow_read.feature_columns(features)
        for file in self.files:
            yield from self.file_chunks(file, features, columns)

    def __repr__(self):
        return (
            f"DataSource({self.file_pattern!r}, format={self.format!r}, "
            f"compression={self.compression!r}, {len(self.files)} files)"
        )
