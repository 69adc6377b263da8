"""Which training option buys robustness to camera conditions cheaply?  Trains the same recipe with
each candidate option, side by side, and scores every model on the validation images, clean and under
the corruptions of `cifar-edge robustness`, drawn with another seed (1) than the test sets (0), so the
choice never looks at the test set.  Test accuracy is printed beside, for the record only.

    python benchmarks/robust_training.py --data ../shared/data/cifar-10-python.tar.gz
    python benchmarks/robust_training.py --preset standard --only plain,noise

Each candidate trains into RUNS/NAME and resumes after a kill (finished ones are reused), so the script
can be stopped and run again.  Hours on a 2-core CPU: run it in the background.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's info and warnings are noise in the trainings' logs

CANDIDATES = {
    "plain": {},
    "noise": dict(noise_fraction=0.5),
    "noise-light": dict(noise_fraction=0.25),  # if half the images noisy costs too much clean accuracy
    "noise+blur": dict(noise_fraction=0.4, blur_fraction=0.2),
    "whiten-eps": dict(whiten_eps=5e-3),
    "noise+eps": dict(noise_fraction=0.5, whiten_eps=5e-3),
    "augmix": dict(augmix_fraction=0.5),
    "noise+augmix": dict(noise_fraction=0.3, augmix_fraction=0.4),
}
def stolen(metrics: dict) -> str:
    share = metrics.get("cpu_stolen")
    return "-" if share is None else f"{share:.0%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--preset", default="fast", help="The recipe every candidate starts from.")
    parser.add_argument("--epochs", type=int, default=None, help="Override the preset's epochs.")
    parser.add_argument("--only", default=None, help=f"Comma-separated candidates (default all: {', '.join(CANDIDATES)}).")
    parser.add_argument("--runs", type=Path, default=Path("runs/robust_training"))
    parser.add_argument("--no-progress", dest="progress", action="store_false")
    args = parser.parse_args()

    from cifar_edge import provenance
    from cifar_edge.robustness.validation import VAL_SEED, validation_robustness
    from cifar_edge.train import make_config
    from cifar_edge.train.trainer import train

    names = args.only.split(",") if args.only else list(CANDIDATES)
    unknown = [name for name in names if name not in CANDIDATES]
    if unknown:
        raise SystemExit(f"unknown candidate(s) {', '.join(unknown)}: choose from {', '.join(CANDIDATES)}")
    rows = []
    for name in names:
        config = make_config(args.preset, epochs=args.epochs, **CANDIDATES[name])
        run_dir = args.runs / f"{args.preset}-{config.epochs}ep" / name
        if (run_dir / "metrics.json").is_file():
            metrics = json.loads((run_dir / "metrics.json").read_text())
        else:
            metrics = train(config, data=args.data, run_dir=run_dir, resume=True, progress=args.progress)
        report = validation_robustness(run_dir, args.data, args.progress)
        rows.append((name, config, metrics, report))

    machine = provenance.describe_machine(provenance.machine_info())
    print(f"recipe: --preset {args.preset}, {rows[0][1].epochs} epochs; validation: {len(rows)} "
          f"candidates on {rows[0][2]['val_images']:,} held-out training images, corruptions seeded {VAL_SEED} "
          f"(test sets: 0); data sha256 {rows[0][3]['data_sha256'][:16]}; {machine}")
    print(f"{'candidate':<12}{'val clean':>10}{'val mCA':>9}{'noise 3':>9}{'camera':>8}{'worst corruption':>22}"
          f"{'test':>8}{'train min':>10}{'stolen':>7}  options")
    for name, config, metrics, report in rows:
        worst = report["worst"][0]
        options = " ".join(f"--{key.replace('_', '-')} {value}" for key, value in CANDIDATES[name].items()) or "—"
        print(f"{name:<12}{report['clean']:>10.2%}{report['mca']:>9.2%}"
              f"{report['accuracy']['gaussian_noise'][2]:>9.2%}{report['camera_mean']:>8.2%}"
              f"{worst + ' ' + format(report['mean'][worst], '.0%'):>22}{metrics['test_accuracy']:>8.2%}"
              f"{metrics['train_wall_seconds'] / 60:>10.1f}{stolen(metrics):>7}  {options}")
    print("val mCA: the 15 CIFAR-10-C corruptions at 5 severities; noise 3: Gaussian noise at severity 3 "
          "(sigma 0.08); camera: low light, framing and colour cast; stolen: the CPU time the virtual "
          "machine's hypervisor took during training (not recorded before it was measured: -), which "
          "slows the minutes by that share")


if __name__ == "__main__":
    main()
