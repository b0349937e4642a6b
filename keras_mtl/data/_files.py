"""File patterns -> the files they match, or an error naming the pattern."""

import tensorflow as tf


def match_files(file_pattern, what="files"):
    """Sorted paths matched by a glob pattern (or a list of patterns / paths).

    Raises FileNotFoundError naming every pattern that matched nothing.
    """
    patterns = [file_pattern] if isinstance(file_pattern, (str, bytes)) else list(file_pattern)
    if not patterns:
        raise FileNotFoundError(f"expected a file pattern for the {what}. Received an empty list.")
    files, empty = [], []
    for pattern in patterns:
        pattern = pattern.decode() if isinstance(pattern, bytes) else str(pattern)
        matched = sorted(tf.io.gfile.glob(pattern))
        if not matched:
            empty.append(pattern)
        files.extend(matched)
    if empty:
        raise FileNotFoundError(
            f"expected {what} at {empty!r}. Received a pattern that matches no file "
            "(check the path, and quote the pattern so the shell does not expand it)."
        )
    return files
