"""How fast a distilled run's teachers answer, and how much their answers change, in float32 against
bfloat16, side by side in one run on the same augmented training images.

    python benchmarks/teacher_answers.py --teacher runs/airbench96,runs/wide --data ../shared/data/cifar-10-python.tar.gz

A teacher's forward pass over an epoch costs about as much as the student's training steps over it
(`benchmarks/distillation.py`: 6.7 of 14.1 minutes), so its precision matters.  A saved model computes
in float32; `cifar-edge train --teacher` rebuilds each teacher in the student's precision
(`distill.computing_in`), mixed_bfloat16 where `auto` picks it.  This script times the trainer's own call
(`distill.soft_targets`, batches of 1000) in both precisions, alternating, and takes the median of the
repeats; it prints which `auto` picks on this CPU.  What bfloat16 changes is measured on the same images
as top-1 agreement with the float32 answers, the mean KL divergence between the softened probabilities
the student learns from, and the largest change in one probability; test accuracy is given for both.
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import replace

from cifar_edge.quiet import hide_tensorflow_start_up

hide_tensorflow_start_up()  # before anything imports Keras: its start-up lines are noise here

import numpy as np  # noqa: E402

from cifar_edge import provenance  # noqa: E402
from cifar_edge.data import load_cifar10  # noqa: E402
from cifar_edge.train import make_config  # noqa: E402
from cifar_edge.train.augment import epoch_arrays  # noqa: E402
from cifar_edge.train.distill import computing_in, load_teachers, soft_targets  # noqa: E402
from cifar_edge.train.recipe import resolve_precision  # noqa: E402
from keras_predict import timed  # noqa: E402  (beside this script)

PRECISIONS = ("float32", "mixed_bfloat16")


def compare_teacher(run: str, sha256: str, images, test, temperature: float, repeats: int) -> dict:
    """Both precisions of one teacher: median answers/s over `repeats` alternating passes, and what
    bfloat16 changes against float32."""
    (teacher,) = load_teachers((run,), sha256)
    in_precision = {precision: replace(teacher, model=computing_in(teacher.model, precision))
                    for precision in PRECISIONS}

    def ask(precision: str, x: np.ndarray) -> np.ndarray:
        return soft_targets([in_precision[precision]], x, temperature)

    rates = {precision: [] for precision in PRECISIONS}
    cores = {precision: [] for precision in PRECISIONS}
    answers = {}
    for precision in PRECISIONS:  # warm-up: the first call traces the predict step
        ask(precision, images[:1000])
    for _ in range(repeats):
        for precision in PRECISIONS:
            # `timed` reports the cores busy too: a rate measured while the thread pool idled says so.
            answers[precision], rate, busy = timed(lambda x: ask(precision, x), images)
            rates[precision].append(rate)
            cores[precision].append(busy)
    result = {"run": run, "test_accuracy_recorded": teacher.test_accuracy, "precisions": {}}
    reference = answers["float32"]
    for precision in PRECISIONS:
        test_answers = ask(precision, test.images)
        p, q = reference, answers[precision]
        kl = np.sum(p * (np.log(np.maximum(p, 1e-12)) - np.log(np.maximum(q, 1e-12))), axis=1)
        result["precisions"][precision] = {
            "answers_per_s": round(statistics.median(rates[precision]), 1),
            "answers_per_s_each": [round(r, 1) for r in rates[precision]],
            "cores_busy": round(statistics.median(cores[precision]), 2),
            "test_accuracy": round(float(np.mean(test_answers.argmax(1) == test.labels)), 4),
            "agreement_with_float32": round(float(np.mean(q.argmax(1) == p.argmax(1))), 4),
            "mean_kl_from_float32": float(kl.mean()),
            "largest_probability_change": round(float(np.abs(q - p).max()), 4),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teacher", required=True, help="Finished run folder(s), comma-separated.")
    parser.add_argument("--data", default=None, help="CIFAR-10 path (default: $CIFAR_EDGE_DATA)")
    parser.add_argument("--images", type=int, default=4000, help="augmented training images per timed pass")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per precision, alternating")
    parser.add_argument("--test-limit", type=int, default=0, help="score on the first N test images (0: all)")
    parser.add_argument("--temperature", type=float, default=make_config("distilled").temperature)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    dataset = load_cifar10(args.data)
    config = make_config("standard")
    # The images a teacher meets in training: an epoch's shifted, flipped and cut-out arrays.
    images, _ = epoch_arrays(dataset.train.take(slice(0, args.images)), min(args.images, 1000), 0, 0,
                             config.translate, config.cutout)
    test = dataset.test.take(slice(0, args.test_limit)) if args.test_limit else dataset.test
    results = [compare_teacher(run, dataset.sha256, images, test, args.temperature, args.repeats)
               for run in args.teacher.split(",")]
    auto = resolve_precision("auto")
    summary = {"teachers": results, "auto_precision": auto, "images": len(images), "repeats": args.repeats,
               "temperature": args.temperature, "test_images": len(test), "data_sha256": dataset.sha256,
               "machine": provenance.machine_info()}
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{'teacher':<18}{'precision':<16}{'answers/s':>10}{'vs fp32':>9}{'cores':>7}{'test acc':>10}"
          f"{'agree':>9}{'mean KL':>10}{'max dp':>8}")
    for result in results:
        base = result["precisions"]["float32"]["answers_per_s"]
        for precision, r in result["precisions"].items():
            mark = "  <- auto" if precision == auto else ""
            print(f"{result['run'] if precision == 'float32' else '':<18}{precision:<16}{r['answers_per_s']:>10.0f}"
                  f"{r['answers_per_s'] / base:>9.2f}{r['cores_busy']:>7.2f}{r['test_accuracy']:>10.2%}"
                  f"{r['agreement_with_float32']:>9.2%}{r['mean_kl_from_float32']:>10.1e}"
                  f"{r['largest_probability_change']:>8.3f}{mark}")
    print(f"\n{len(images):,} augmented training images per pass, median of {args.repeats} alternating passes; "
          f"temperature {args.temperature:g}; test accuracy on {len(test):,} test images, data sha256 "
          f"{dataset.sha256[:16]}")
    print(f"measured here: {provenance.describe_machine(summary['machine'])}; auto picks {auto}, so "
          f"`cifar-edge train --teacher` asks its teachers in {auto} on this CPU")


if __name__ == "__main__":
    main()
