"""Why the int8 ONNX file was no faster than the float one, measured: the same model converted with
each GELU spelt out as tf2onnx writes it (six elementwise ops) and fused into one `Gelu` node (what
`cifar-edge export` writes, `to_onnx.fuse_gelu`), each in float and int8, side by side in one run.

    python benchmarks/onnx_gelu.py exports/standard_seed1 [--data ...] [--limit 2000]

Per file: the quantize/dequantize nodes it holds, size, top-1 accuracy on the first `--limit` test
images, and latency at batch 1 and one thread (median after warm-up, as `cifar-edge benchmark`),
with the speed-up against the unfused float file.  Both int8 files are calibrated on the same
training images as `cifar-edge export` calibrates its own.
"""

from __future__ import annotations

import argparse
import collections
import tempfile
from pathlib import Path

import onnx

from cifar_edge.quiet import hide_tensorflow_start_up

hide_tensorflow_start_up()  # before anything imports Keras: its start-up lines are noise here

from cifar_edge import evaluation, provenance
from cifar_edge.data import load_cifar10
from cifar_edge.edge_runtime import Classifier, measure_latency
from cifar_edge.export.exporter import calibration_images, load_keras_model
from cifar_edge.export.to_onnx import fuse_gelu, keras_to_onnx_unfused, quantize_int8
from cifar_edge.formats import DEFAULT_PERCENTILE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export_dir", type=Path, help="a folder made by `cifar-edge export` (its model.keras)")
    parser.add_argument("--data", help="CIFAR-10 archive (default: $CIFAR_EDGE_DATA)")
    parser.add_argument("--limit", type=int, default=2000, help="test images scored per file")
    parser.add_argument("--calib", type=int, default=1000, help="calibration images, as `export --calib`")
    parser.add_argument("--runs", type=int, default=300, help="timed calls per file")
    args = parser.parse_args()

    dataset = load_cifar10(args.data)
    calibration = calibration_images(dataset.train, args.calib, seed=0)
    test = dataset.test.take(slice(0, args.limit))
    converted = keras_to_onnx_unfused(load_keras_model(args.export_dir / "model.keras"))
    unfused, fused = converted.SerializeToString(), fuse_gelu(converted)
    files = {"float, GELU as 6 ops": unfused, "int8, GELU as 6 ops": quantize_int8(unfused, calibration, DEFAULT_PERCENTILE),
             "float, Gelu node": fused, "int8, Gelu node (exported)": quantize_int8(fused, calibration, DEFAULT_PERCENTILE)}

    print(f"{'ONNX file':<28}{'Q/DQ nodes':>11}{'size MB':>9}{'accuracy':>10}{'ms 1 thread':>13}{'speed-up':>10}")
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, model) in enumerate(files.items()):
            path = Path(tmp) / f"{i}.onnx"
            path.write_bytes(model)
            ops = collections.Counter(node.op_type for node in onnx.load_from_string(model).graph.node)
            accuracy = evaluation.accuracy(Classifier(path, threads=2).predict(test.images), test.labels)
            median = measure_latency(path, threads=1, runs=args.runs)["median_ms"]
            base = base or median
            print(f"{name:<28}{ops['QuantizeLinear'] + ops['DequantizeLinear']:>11}{len(model) / 1e6:>9.2f}"
                  f"{accuracy:>10.2%}{median:>13.3f}{base / median:>9.2f}x")
    print(f"\n{args.export_dir}/model.keras; accuracy on the first {len(test)} test images (data sha256 "
          f"{dataset.sha256[:16]}); batch 1, median of "
          f"{args.runs} calls after 20 warm-up calls; measured here: "
          f"{provenance.describe_machine(provenance.machine_info())}")


if __name__ == "__main__":
    main()
