"""This process's memory as the kernel counts it (/proc/self/status), for the benchmarks that
run what they measure in a process of its own."""

from __future__ import annotations

from pathlib import Path


def status(field: str) -> float:
    """A /proc/self/status size in MiB (VmRSS, VmHWM) or count (Threads)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            value = int(line.split()[1])
            return value / 1024 if field.startswith("Vm") else value
    return float("nan")


def peak_mib() -> float:
    """This process's peak resident memory (VmHWM) since exec or the last reset_peak. Not
    ru_maxrss: that one carries the parent's size at fork across exec."""
    return status("VmHWM")


def reset_peak() -> None:
    """Start a new VmHWM from the current resident size (Linux 4.0 and later)."""
    Path("/proc/self/clear_refs").write_text("5")
