"""What distillation buys and costs: the same student, recipe and epochs trained without and with
the teacher(s), side by side in one script on one machine: accuracy, wall time, images/s, and the time
the teachers took to answer.

    python benchmarks/distillation.py --teacher runs/wide --data ../shared/data/cifar-10-python.tar.gz
    python benchmarks/distillation.py --teacher runs/wide,runs/long --preset fast --epochs 8

Both students train into RUNS/<preset>-<epochs>ep/{plain,distilled} and resume after a kill (finished
ones are reused).  `--reuse` names finished runs trained elsewhere, such as `make trainings`' runs/robust
and runs/distilled: one whose recorded recipe is exactly a student's (preset name aside) stands in for it,
so the comparison costs no training twice:

    python benchmarks/distillation.py --preset robust --teacher runs/wide --reuse runs/robust,runs/distilled

`--teacher-views K[,K...]` adds a student per K, taught from teacher answers kept for K augmented views and
replayed (`cifar-edge train --teacher-views`), against the one whose teachers answer every epoch: what
caching the answers saves, and what it costs in accuracy.  `--no-live` leaves that one out, and the first
K-view student is the taught one:

    python benchmarks/distillation.py --preset long --noise-fraction 0.15 --teacher runs/airbench96_seed1 \
        --teacher-views 10 --no-live --reuse runs/distilled_best

`--train-limit N` trains all of them on the first N training images, a smaller check for a CPU.

The choice between them is made on validation accuracy; test accuracy is printed for the record.  Hours
on a 2-core CPU: run it in the background.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's info and warnings are noise in the trainings' logs


def view_counts(text: str) -> list[int]:
    return [int(k) for k in text.split(",") if k.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", required=True, help="Finished run folder(s), comma-separated.")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--preset", default="standard", help="The student's recipe.")
    parser.add_argument("--epochs", type=int, default=None, help="Override the preset's epochs.")
    parser.add_argument("--cutout", type=int, default=None, help="Override the preset's cutout size.")
    parser.add_argument("--noise-fraction", type=float, default=None,
                        help="Override the preset's share of noised training images.")
    parser.add_argument("--distill-weight", type=float, default=None)
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--teacher-views", type=view_counts, default=[],
                        help="Also train the taught student with the teachers' answers kept for this many views "
                             "(comma-separated: one student each).")
    parser.add_argument("--no-live", dest="live", action="store_false",
                        help="Leave out the student whose teachers answer every epoch (on a CPU their answers cost "
                             "more than the student's training): the first --teacher-views student is then the "
                             "taught one compared with the plain student.")
    parser.add_argument("--train-limit", type=int, default=None, help="Train on the first N training images.")
    parser.add_argument("--runs", type=Path, default=Path("runs/distillation"))
    parser.add_argument("--reuse", default="", help="Finished run folders, comma-separated, that stand in for "
                                                    "a student whose recipe they recorded.")
    parser.add_argument("--no-progress", dest="progress", action="store_false")
    args = parser.parse_args()

    from cifar_edge import provenance
    from cifar_edge.train import make_config
    from cifar_edge.train.recipe import TrainConfig, changed_knobs, parse_runs
    from cifar_edge.train.trainer import train

    if not args.live and not args.teacher_views:
        raise SystemExit("--no-live leaves no taught student: name one with --teacher-views K")
    recipe = dict(epochs=args.epochs, cutout=args.cutout, noise_fraction=args.noise_fraction,
                  train_limit=args.train_limit)
    plain = make_config(args.preset, teacher=(), **recipe)
    taught = make_config(args.preset, teacher=parse_runs(args.teacher), distill_weight=args.distill_weight,
                         temperature=args.temperature, teacher_views=0, **recipe)
    students = [("plain", plain), *([("distilled", taught)] if args.live else []),
                *((f"{k} views", replace(taught, teacher_views=k)) for k in args.teacher_views)]
    finished = [json.loads((Path(run) / "metrics.json").read_text()) for run in parse_runs(args.reuse)]
    folder = f"{args.preset}-{plain.epochs}ep" + (f"-{args.train_limit}img" if args.train_limit else "")
    rows = []
    for name, config in students:
        run_dir = args.runs / folder / name.replace(" ", "_")
        done = run_dir / "metrics.json"
        same_recipe = [m for m in finished if not changed_knobs(TrainConfig.from_dict(m["config"]), config)]
        metrics = (same_recipe[0] if same_recipe else json.loads(done.read_text()) if done.is_file()
                   else train(config, data=args.data, run_dir=run_dir, resume=True, progress=args.progress))
        rows.append((name, config, metrics))
    if len({m["data"]["sha256"] for _, _, m in rows}) > 1:
        raise SystemExit("the students were trained on different data archives: not comparable")

    teachers = rows[1][2]["teachers"]
    overrides = "".join(f", {name} {value}" for name, value in
                        (("cutout", args.cutout), ("noise fraction", args.noise_fraction)) if value is not None)
    print(f"student: --preset {args.preset}, widths {'-'.join(map(str, plain.widths))}, {plain.epochs} epochs"
          + overrides + (f" on the first {plain.train_limit:,} training images" if plain.train_limit else "") + "; "
          f"teacher(s): " + ", ".join(f"{t['run']} ({t['test_accuracy']:.2%})" for t in teachers)
          + f"; distill weight {taught.distill_weight}, temperature {taught.temperature}")
    # Where the students trained, from their records: a reused run may come from another machine (a GPU).
    machines = sorted({provenance.describe_machine(m["machine"]) for _, _, m in rows})
    print(f"test set: {rows[0][2]['test_images']:,} images, data sha256 {rows[0][2]['data']['sha256'][:16]}; "
          f"trained on {' and '.join(machines)}")
    print(f"{'student':<11}{'val':>8}{'test':>8}{'flip TTA':>10}{'train min':>11}{'img/s':>7}{'teacher min':>13}")
    for name, _, m in rows:
        print(f"{name:<11}{m['val_accuracy']:>8.2%}{m['test_accuracy']:>8.2%}{m['test_accuracy_flip_tta']:>10.2%}"
              f"{m['train_wall_seconds'] / 60:>11.1f}{m['train_images_per_s']:>7.0f}"
              f"{m.get('teacher_seconds', 0) / 60:>13.1f}")
    gain = (rows[1][2]["val_accuracy"] - rows[0][2]["val_accuracy"]) * 100
    cost = rows[1][2]["train_wall_seconds"] / rows[0][2]["train_wall_seconds"]
    print(f"distillation: {gain:+.2f} pp validation accuracy for {cost:.2f}x the training wall time "
          "(teacher answers included" + ("" if args.live else f"; kept for {args.teacher_views[0]} views") + ")")
    if not args.live:
        return
    live = rows[1][2]
    for k, (_, _, kept) in zip(args.teacher_views, rows[2:]):
        print(f"teacher answers kept for {k} views against asked every epoch: "
              f"{(kept['val_accuracy'] - live['val_accuracy']) * 100:+.2f} pp validation accuracy, "
              f"{kept['teacher_seconds'] / live['teacher_seconds']:.2f}x the teachers' time, "
              f"{kept['train_wall_seconds'] / live['train_wall_seconds']:.2f}x the training wall time")


if __name__ == "__main__":
    main()
