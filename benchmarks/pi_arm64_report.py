"""The last step of `make pi-check` (benchmarks/pi_arm64.sh): scores the released files on this x86
machine, checks the arm64 predictions files image by image against them (`cifar-edge eval --against`
does the same for a user with a real Pi), prints the report that goes to results/pi_arm64.txt, and
records the agreement in the release's model cards.

    python benchmarks/pi_arm64_report.py WORK_DIR --data ARCHIVE --environment TEXT --facts TEXT...
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cifar_edge import provenance
from cifar_edge.contract import RELEASED_FILES
from cifar_edge.data import load_cifar10
from cifar_edge.edge_runtime import device_check
from cifar_edge.export.release import record_device_check

MODELS = Path("models")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("work", type=Path, help="the folder holding arm64_<file name, dots as _>.json")
    parser.add_argument("--data", required=True)
    parser.add_argument("--environment", required=True, help="the emulated system, in words")
    parser.add_argument("--facts", nargs="*", default=[], help="lines to print before the tables")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    dataset = load_cifar10(args.data, splits=("test",))
    test = dataset.test
    print(f"Raspberry Pi install under emulation: {args.environment}")
    print(f"host: {provenance.describe_machine(provenance.machine_info())}; data sha256 {dataset.sha256[:16]}; "
          "made by: make pi-check (benchmarks/pi_arm64.sh)")
    for fact in args.facts:
        print(fact)
    files = {}
    for fmt, name in RELEASED_FILES.items():
        arm64_file = args.work / f"arm64_{name.replace('.', '_')}.json"
        if not arm64_file.is_file():  # not asked for, or a run stopped before it: say so, report the rest
            print(f"\n{name}: not scored under arm64 (SCORE={name} make pi-check scores it, "
                  "going on from the slices a stopped run kept)")
            continue
        arm64 = device_check.read_predictions(arm64_file)
        x86 = device_check.score_test_set(MODELS / name, test.images, test.labels, dataset.sha256, args.threads)
        device_check.check_comparable(x86, arm64, f"the arm64 predictions of {name}")
        result = device_check.agreement(x86, arm64)
        print(f"\n{name}, {len(test):,} test images:")
        print(device_check.agreement_report(result, "x86 (this host)", "arm64 (emulated)"))
        files[fmt] = {"model_sha256": x86["model_sha256"], "x86_accuracy": x86["accuracy"],
                      "arm64_accuracy": arm64["accuracy"], "arm64_versions": arm64["versions"],
                      **{key: result.get(key) for key in ("top1_agreement", "identical_outputs", "largest_difference",
                                                          "largest_difference_steps")}}
    record_device_check(MODELS, {"environment": args.environment, "command": "make pi-check",
                                 "test_images": len(test), "data_sha256": dataset.sha256, "files": files})


if __name__ == "__main__":
    main()
