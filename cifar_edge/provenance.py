"""What a number was measured with: package versions and the machine.  Every stage stamps these into
what it writes (metrics.json, model cards, compare.json, benchmark outputs), because the same command
runs up to 6x faster on one CPU than on another.  Imports only the standard library."""

from __future__ import annotations

import contextlib
import os
import platform
from importlib import metadata
from pathlib import Path


def package_versions(names) -> dict[str, str]:
    """Python's version and those of the installed packages among `names` (absent ones left out)."""
    versions = {"python": platform.python_version()}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


#: The instruction sets that decide CPU speed here (machines named alike, "AMD EPYC", differ by up to 6x).
SPEED_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")


def describe_machine(machine: dict) -> str:
    """'AMD EPYC (avx2), 2 cores': the line benchmark outputs and model cards print from
    `machine_info()`, and 'NVIDIA H200 (host: Intel Xeon …)' for a run that trained on a GPU (its
    metrics' `accelerator`).  Records older than `cpu_features` give the CPU's name alone."""
    cpu = machine.get("cpu") or machine.get("processor") or "CPU model not recorded"
    features = machine.get("cpu_features")
    flags = "" if features is None else f" ({', '.join(features) or 'no avx2'})"
    host = f"{cpu}{flags}, {machine.get('cpu_count')} cores"
    gpu = gpu_of(machine)
    return f"{gpu} (host: {host})" if gpu else host


def gpu_of(machine: dict) -> str | None:
    """The GPU a record says the training steps ran on; None for a CPU run and for records older than
    the `accelerator` field."""
    accelerator = machine.get("accelerator")
    return accelerator if accelerator and accelerator != "cpu" else None


def cpu_clock() -> tuple[int, int] | None:
    """(stolen, total) CPU time of all cores since boot, in clock ticks, from /proc/stat; None where
    that is unreadable.  On a virtual machine the hypervisor can take half the cores' time ("steal"),
    which halves a run's images/s on the same CPU model, so timed results record it beside the CPU."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        # user nice system idle iowait irq softirq steal (guest time is already counted in user)
        ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        return ticks[7], sum(ticks)
    return None


def stolen_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """The share of the CPU's time the hypervisor took between two `cpu_clock()` readings."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return round((after[0] - before[0]) / (after[1] - before[1]), 3)


def machine_info() -> dict:
    """OS, CPU model, core count and the CPU's speed-deciding instruction sets (the platform module
    leaves the CPU name empty on Linux; /proc/cpuinfo has it)."""
    cpu, flags = platform.processor(), set()
    with contextlib.suppress(OSError):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), cpu)
        flags = set(next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), []))
    return {"platform": platform.platform(), "cpu": cpu, "cpu_count": os.cpu_count(),
            "cpu_features": [flag for flag in SPEED_FLAGS if flag in flags]}
