"""Latency of one exported model, the way a device sees it: batch 1, fixed threads, after warm-up.

Used by `cifar-edge benchmark` and by `cifar-edge compare` for its latency column.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from cifar_edge.contract import InputContract
from cifar_edge.edge_runtime.backends import open_backend


def measure_latency(path: str | Path, threads: int = 1, warmup: int = 20, runs: int = 200,
                    seed: int = 0) -> dict:
    """Milliseconds per single-image call: median, p90, mean and min over `runs` timed calls."""
    backend = open_backend(path, threads)
    shape = InputContract.from_metadata(backend.metadata).shape
    image = np.random.default_rng(seed).integers(0, 256, (1, *shape), dtype=np.uint8)
    for _ in range(warmup):
        backend.run(image)
    times = np.empty(runs)
    for i in range(runs):
        start = time.perf_counter()
        backend.run(image)
        times[i] = (time.perf_counter() - start) * 1000
    return {"threads": threads, "warmup": warmup, "runs": runs, "median_ms": float(np.median(times)),
            "p90_ms": float(np.percentile(times, 90)), "mean_ms": float(times.mean()),
            "min_ms": float(times.min())}
