"""Resident memory of this process (Linux /proc), for the benchmark scripts.

`reset_peak()` then `peak_bytes()` measures the peak of one step: Linux
resets a process's peak resident set (VmHWM) to its current one when "5" is
written to /proc/self/clear_refs. VmHWM counts file pages mapped into the
process (ONNX Runtime maps its external data) as well as its own memory;
`PeakSampler("RssAnon")` samples the process's own (anonymous) memory alone.
"""

import threading
import time


def _status_kib(field, pid="self"):
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(f"/proc/{pid}/status has no {field}")


def rss_bytes(pid="self"):
    """Resident memory now (VmRSS)."""
    return _status_kib("VmRSS", pid) * 1024


def peak_bytes(pid="self"):
    """Peak resident memory since start or the last `reset_peak` (VmHWM)."""
    return _status_kib("VmHWM", pid) * 1024


def reset_peak():
    """Makes the peak the current resident memory."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")


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
