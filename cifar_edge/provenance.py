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


def machine_info() -> dict:
    """OS, CPU model and core count (the platform module leaves the CPU name empty on Linux,
    /proc/cpuinfo has it)."""
    cpu = platform.processor()
    with contextlib.suppress(OSError):
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), cpu)
    return {"platform": platform.platform(), "cpu": cpu, "cpu_count": os.cpu_count()}
