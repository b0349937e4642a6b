"""benchmarks/_report.py: the machine line names the CPU's vector units."""

import os
import sys

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "benchmarks")
)
import _report


def test_cpu_isa_of_an_avx2_only_cpu():
    assert _report.cpu_isa("fpu fma avx avx2 bmi2".split()) == "AVX2, no AVX-512, no AMX"


def test_cpu_isa_of_an_amx_cpu():
    flags = "avx2 avx512f avx512_bf16 amx_bf16 amx_tile".split()
    assert _report.cpu_isa(flags) == "AVX2, AVX-512, AVX-512 BF16, AMX"


def test_machine_line_starts_with_the_cpu_and_names_its_units():
    line = _report.machine()
    assert "cores, Python" in line and "TensorFlow" in line
    if os.path.exists("/proc/cpuinfo"):
        assert "AMX" in line  # "AMX" or "no AMX": the vector units are named
