"""Shared reporting for the benchmark scripts.

Each benchmark owns one section of docs/benchmarks.md, delimited by
`<!-- begin NAME -->` / `<!-- end NAME -->`, and rewrites only that section,
so the scripts can run in any order and the page always holds the latest run
of each. `machine()` describes where the figures were taken.
"""

import os
import platform
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
_HEADER = (
    "# Benchmarks\n\n"
    "Figures written by the scripts in `benchmarks/`; each section names the command that "
    "produced it "
    "and the machine it ran on. Rerun a script to refresh its section.\n"
)


def cpu_isa(flags):
    """The vector units a figure depends on, from /proc/cpuinfo's `flags` words.

    >>> cpu_isa("fma avx2 avx512f avx512_bf16".split())
    'AVX2, AVX-512, AVX-512 BF16, no AMX'
    >>> cpu_isa(["avx2"])
    'AVX2, no AVX-512, no AMX'
    """
    flags = set(flags)
    units = [name for flag, name in (("avx2", "AVX2"), ("avx512f", "AVX-512")) if flag in flags]
    if "avx512f" not in flags:
        units.append("no AVX-512")
    if "avx512_bf16" in flags:
        units.append("AVX-512 BF16")
    units.append("AMX" if "amx_bf16" in flags else "no AMX")
    return ", ".join(units)


def _cpuinfo():
    """`{field: value}` of the first processor in /proc/cpuinfo (empty where unreadable)."""
    fields = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    return fields


def machine():
    """One line: CPU model (family/model, vector units), cores visible to the process,
    Python/TensorFlow/Keras versions."""
    info = _cpuinfo()
    cpu = info.get("model name") or platform.processor() or platform.machine()
    if "flags" in info:
        family = f"family {info.get('cpu family', '?')} model {info.get('model', '?')}"
        cpu = f"{cpu} ({family}; {cpu_isa(info['flags'].split())})"
    cores = _harness.cores()
    import tensorflow as tf  # imported late: some callers set TF env vars first

    # tf_keras 2 (TF_USE_LEGACY_KERAS=1) has no tf.keras.__version__
    keras_version = getattr(tf.keras, "__version__", None) or f"{tf.keras.__name__.split('.')[0]} 2"
    return (
        f"{cpu}, {cores} cores, Python {platform.python_version()}, TensorFlow {tf.__version__}, "
        f"tf.keras {keras_version}"
    )


def command():
    """The command line that is running, relative to the repository root."""
    script = os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)
    return " ".join(["python", script] + sys.argv[1:])


def write_section(name, markdown, path=DOC):
    """Replace (or append) section `name` of docs/benchmarks.md with `markdown`."""
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    block = f"{begin}\n{markdown.rstrip()}\n{end}\n"
    text = _HEADER
    if os.path.exists(path):
        with open(path, encoding="utf-8") as doc:
            text = doc.read()
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as doc:
        doc.write(text)
    return path
