"""Latency and size of every exported file of one model, side by side, at 1 and 2 threads.

    python benchmarks/inference_latency.py exports/standard [--runs 300] [--json]

The baseline is the float32 TFLite file in the same run: the last column is each file's speed-up
against it at the same thread count.  Batch 1 (a camera frame at a time), median after 20 warm-up
calls, through the runtime a device uses (`cifar_edge.edge_runtime`).  No TensorFlow is imported.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from cifar_edge import provenance
from cifar_edge.edge_runtime import measure_latency
from cifar_edge.formats import FORMATS

BASELINE = FORMATS["tflite-fp32"].file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export_dir", type=Path, help="a folder made by `cifar-edge export`")
    parser.add_argument("--runs", type=int, default=300, help="timed calls per file and thread count")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    files = [args.export_dir / f.file for f in FORMATS.values() if (args.export_dir / f.file).is_file()]
    threads = sorted({1, min(2, os.cpu_count() or 1)})
    rows = [{"file": f.name, "bytes": f.stat().st_size,
             **{f"median_ms_{t}t": measure_latency(f, threads=t, runs=args.runs)["median_ms"] for t in threads}}
            for f in files]
    base = next((r for r in rows if r["file"] == BASELINE), rows[0])
    if args.json:
        print(json.dumps({"export_dir": str(args.export_dir), "threads": threads, "runs": args.runs,
                          "baseline": base["file"], "rows": rows, "machine": provenance.machine_info()}, indent=2))
        return
    header = "".join(f"{f'ms {t} thread' + ('s' if t > 1 else ''):>13}" for t in threads)
    print(f"{'file':<22}{'size MB':>9}{header}{'speed-up vs ' + base['file'] + ' (1 thread)':>44}")
    for r in rows:
        cells = "".join(f"{r[f'median_ms_{t}t']:>13.3f}" for t in threads)
        print(f"{r['file']:<22}{r['bytes'] / 1e6:>9.2f}{cells}{base['median_ms_1t'] / r['median_ms_1t']:>43.2f}x")
    print(f"\nbatch 1, median of {args.runs} calls after 20 warm-up calls; "
          f"measured here: {provenance.describe_machine(provenance.machine_info())}")


if __name__ == "__main__":
    main()
