"""`cifar-edge release`: publish a scored export as the model cifar-edge ships.

    EXPORT_DIR/<tflite-int8 file> -> models/cifar_edge_int8.tflite  (what predict, camera and
                                     benchmark use when no --model is given)
    EXPORT_DIR/<onnx-int8 file>   -> models/cifar_edge_int8.onnx    (for ONNX Runtime on a device)
    EXPORT_DIR/<onnx-fp32 file>   -> models/cifar_edge_fp32.onnx    (the float reference;
                                     contract.RELEASED_FILES names all three)
    EXPORT_DIR/model_card.json    -> models/model_card.json and models/MODEL_CARD.md, with how the
                                     model was trained: command, seed, wall time, hardware, versions

Only an export that `cifar-edge compare` has scored can be released: the card's accuracy table is
the evidence that the shipped files keep the float model's accuracy.  The wheel carries the int8
file and the cards (pyproject maps models/ to the package `cifar_edge.models`).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from cifar_edge import provenance
from cifar_edge.contract import CLASSES, MAX_RELEASE_MB, RELEASED_FILES, InputContract
from cifar_edge.errors import CifarEdgeError
from cifar_edge.export.compare import markdown_table
from cifar_edge.export.exporter import CARD
from cifar_edge.files import read_json, write_atomically, write_json
from cifar_edge.robustness.tables import card_lines as robustness_lines

CARD_MD = "MODEL_CARD.md"


def training_record(card: dict) -> dict | None:
    """How the exported model was trained, from its run's metrics.json (None for a bare .keras file)."""
    metrics_path = Path(card["source"]["path"]).parent / "metrics.json"
    if not metrics_path.is_file():
        return None
    metrics = read_json(metrics_path)
    return {"command": metrics.get("command"), "seed": metrics["seed"], "epochs": metrics["epochs"],
            "train_wall_seconds": metrics["train_wall_seconds"], "precision": metrics.get("precision"),
            "machine": metrics.get("machine"), "versions": metrics.get("versions"), "data": metrics["data"],
            "test_accuracy": metrics["test_accuracy"], "test_accuracy_flip_tta": metrics["test_accuracy_flip_tta"],
            "bn_recalibration_images": metrics.get("bn_recalibration_images"),
            "bn_recalibration_on": metrics.get("bn_recalibration_on", "clean training images"),
            "bn_recalibrated_by": metrics.get("bn_recalibrated_by", "the trainer"),
            "teachers": metrics.get("teachers")}


def released_row(released_card: dict | None, export_dirs: list[str | Path]) -> dict | None:
    """The model already released, as a candidate row read from its card (`chosen_among` recorded its
    validation scores), so a new export must beat it, not only the exports that happen to be on this
    machine.  None when there is no release, it is among `export_dirs` anyway, or its card recorded no
    choice (a release made before the cards kept one)."""
    if not released_card or not released_card.get("chosen_among"):
        return None
    if any(Path(d) == Path(released_card["released_from"]) for d in export_dirs):
        return None
    chosen = next((row for row in released_card["chosen_among"]["candidates"] if row["chosen"]), None)
    if chosen is None:
        return None
    return {**{k: v for k, v in chosen.items() if k not in ("chosen", "outcome")},
            "export": f"{released_card['released_from']} (released)", "released": True}


def choose_by_validation(export_dirs: list[str | Path], max_mb: float = MAX_RELEASE_MB, min_val_mca: float | None = None,
                         val_mca_of: Callable[[Path], float] | None = None,
                         released_card: dict | None = None) -> tuple[Path | None, list[dict]]:
    """The export to release among several: the highest validation accuracy (held-out training
    images, never the test set, which would make the released figures optimistic) among those whose
    int8 file fits `max_mb` and, given `min_val_mca`, whose model keeps that mean accuracy on the
    corrupted validation images (a camera's frames are noisy, blurred, dim), which `val_mca_of(run
    folder)` measures (`robustness.validation`).  Given the current release's card, that model competes
    too, on the scores its card recorded: None is returned when it stays best.  Returns the winner and
    one row per candidate, whose `outcome` says why each lost."""
    rows = []
    for export_dir in map(Path, export_dirs):
        if not (export_dir / CARD).is_file():
            raise CifarEdgeError(f"{export_dir} has no {CARD}: make it with `cifar-edge export RUN_DIR`")
        card = read_json(export_dir / CARD)
        training, int8 = card.get("training") or {}, card["files"].get("tflite-int8")
        if training.get("val_accuracy") is None:
            raise CifarEdgeError(f"{export_dir} records no validation accuracy, so it cannot be chosen by one")
        rows.append({"export": str(export_dir), "val_accuracy": training["val_accuracy"],
                     "int8_mb": int8 and round(int8["bytes"] / 1e6, 2),
                     "data_sha256": (training.get("data") or {}).get("sha256"),
                     "fits": bool(int8) and int8["bytes"] / 1e6 <= max_mb,
                     "model": (card.get("source") or {}).get("path")})
    if len({row["data_sha256"] for row in rows}) > 1:
        raise CifarEdgeError("the candidates were trained on different data; their validation accuracies "
                             "do not compare")
    incumbent = released_row(released_card, export_dirs)
    # A release made on other data, or before the size budget or mCA floor it would now be held to, does
    # not compare: any candidate that passes replaces it.
    if incumbent and incumbent["data_sha256"] == rows[0]["data_sha256"] and incumbent["int8_mb"] <= max_mb \
            and (min_val_mca is None or (incumbent.get("val_mca") or 0) >= min_val_mca):
        rows.append(incumbent)  # its recorded "fits" and "robust" hold: it passed the checks just above
    if min_val_mca is not None:
        # Only a file within the budget can win; scoring a wider network on the ninety corrupted
        # validation sets costs minutes and decides nothing.
        for row in (row for row in rows if row["fits"] and not row.get("released")):
            if row["model"] is None:
                raise CifarEdgeError(f"{row['export']} does not name the model it was exported from")
            row["val_mca"] = val_mca_of(Path(row["model"]).parent)
            row["robust"] = row["val_mca"] >= min_val_mca
    fitting = [row for row in rows if row["fits"] and row.get("robust", True)]
    if not fitting:
        floor = "" if min_val_mca is None else f" and a validation mCA of at least {min_val_mca:.1%}"
        raise CifarEdgeError(f"no candidate has an int8 file of at most {max_mb} MB{floor}: "
                             + ", ".join(f"{row['export']} ({row['int8_mb']} MB"
                                         + ("" if "val_mca" not in row else f", mCA {row['val_mca']:.1%}") + ")"
                                         for row in rows))
    # On a tie the release stays: replacing it would change the shipped files for nothing.
    winner = max(fitting, key=lambda row: (row["val_accuracy"], bool(row.get("released"))))
    for row in rows:
        row["chosen"] = row is winner
        row["outcome"] = (("kept" if row.get("released") else "released") if row["chosen"]
                          else f"over {max_mb} MB" if not row["fits"]
                          else f"mCA under {min_val_mca:.1%}" if not row.get("robust", True)
                          else "lower validation accuracy")
    return (None if winner.get("released") else Path(winner["export"])), rows


def latency_line(compare: dict) -> str:
    """Where the card's latencies were timed: the machine `cifar-edge compare` ran on, which is not the
    training machine when that was a lent GPU."""
    machine = (compare.get("latency") or {}).get("machine")
    where = provenance.describe_machine(machine) if machine else "the machine that ran `cifar-edge compare`"
    return f"Latency: batch 1, one thread, median and p90 after warm-up, on {where}."


def release(export_dir: str | Path, out: str | Path = "models", force: bool = False,
            choice: dict | None = None) -> dict:
    """Copies the released files of `export_dir` to `out` and writes the model cards; returns the card.
    `choice` (the budget, the mCA floor and `choose_by_validation`'s rows) goes into the cards, so they say
    which candidates the model beat and on what."""
    export_dir, out = Path(export_dir), Path(out)
    if not (export_dir / CARD).is_file():
        raise CifarEdgeError(f"{export_dir} has no {CARD}: make it with `cifar-edge export RUN_DIR`")
    card = read_json(export_dir / CARD)
    if not card.get("compare") or card["compare"]["test_images"] != 10_000:
        raise CifarEdgeError(f"{export_dir} has not been scored on the whole test set: "
                             f"run `cifar-edge compare {export_dir}` first")
    missing = [fmt for fmt in RELEASED_FILES if fmt not in card["files"]]
    if missing:
        raise CifarEdgeError(f"{export_dir} lacks {', '.join(missing)}: export with --formats all")
    targets = [out / name for name in RELEASED_FILES.values()] + [out / CARD, out / CARD_MD]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not force:
        raise CifarEdgeError(f"{', '.join(existing)} already exist(s): use --force to replace the release")

    files = {}
    for fmt, name in RELEASED_FILES.items():
        model_bytes = (export_dir / card["files"][fmt]["file"]).read_bytes()
        if hashlib.sha256(model_bytes).hexdigest() != card["files"][fmt]["sha256"]:
            raise CifarEdgeError(f"{export_dir / card['files'][fmt]['file']} changed after export and compare")
        write_atomically(out / name, lambda tmp, data=model_bytes: Path(tmp).write_bytes(data))
        files[fmt] = {**card["files"][fmt], "file": name}
    released = {**card, "files": files, "training": training_record(card),
                "released_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "released_from": str(export_dir), **({"chosen_among": choice} if choice else {})}
    write_cards(out, released)
    return released


def write_cards(out: Path, card: dict) -> None:
    """Writes the model card as JSON and as Markdown.  The Markdown is rendered before either file is
    written, so a card that cannot be rendered leaves both files as they were, still telling one story."""
    markdown = card_markdown(card)
    write_json(out / CARD, card)
    write_atomically(out / CARD_MD, lambda tmp: Path(tmp).write_text(markdown))


def record_device_check(out: str | Path, check: dict) -> dict:
    """Adds what `make pi-check` measured (the released files scored under arm64, image by image
    against x86) to the release's model cards.  A check of other files than the released ones is refused."""
    out = Path(out)
    card = read_json(out / CARD)
    for fmt, entry in check["files"].items():
        if entry["model_sha256"] != card["files"][fmt]["sha256"]:
            raise CifarEdgeError(f"the arm64 check scored another {fmt} file than the one released in {out}")
    card = {**card, "arm64": check}
    write_cards(out, card)
    return card


def record_robustness(out: str | Path, summary: dict) -> dict:
    """Adds `cifar-edge robustness`'s summary (`robustness.tables.card_summary`) to the release's model
    cards.  Refused unless it scored the released files themselves."""
    out = Path(out)
    card = read_json(out / CARD)
    scored = {fmt: entry for fmt, entry in summary["formats"].items() if fmt in card["files"]}
    if not scored or any(entry["sha256"] != card["files"][fmt]["sha256"] for fmt, entry in scored.items()):
        raise CifarEdgeError(f"the robustness report scored other files than the ones released in {out}")
    card = {**card, "robustness": summary}
    write_cards(out, card)
    return card


def arm64_lines(check: dict) -> list[str]:
    lines = ["## On arm64 (a Raspberry Pi's instruction set, under emulation)", "",
             f"Scored with the arm64 interpreters in {check['environment']} (`{check['command']}`), "
             "image by image against the x86 figures above:", "",
             "| file | x86 | arm64 | top-1 agreement | identical outputs | largest difference |",
             "|---|---:|---:|---:|---:|---:|"]
    for fmt, e in check["files"].items():
        largest = (f"{e['largest_difference_steps']} int8 steps" if e.get("largest_difference_steps") is not None
                   else f"{e['largest_difference']:.1e}")
        lines.append(f"| `{RELEASED_FILES[fmt]}` | {e['x86_accuracy']:.2%} | {e['arm64_accuracy']:.2%} | "
                     f"{e['top1_agreement']:.2%} | {e['identical_outputs']:.1%} | {largest} |")
    return lines + ["", "Emulation checks what is computed, not how fast: a Pi's speed was not measured.", ""]


def choice_lines(choice: dict) -> list[str]:
    floor = choice.get("min_val_mca")
    lines = ["## Why this model", "",
             f"`cifar-edge release` chose it among the candidates below: the best accuracy on validation images "
             f"(held out from training; the test set played no part) among those whose int8 file fits "
             f"{choice['max_mb']} MB" + ("" if floor is None else f" and whose mean accuracy on the corrupted "
             f"validation images (mCA) is at least {floor:.0%}") + ".", "",
             "| export | validation | val mCA | int8 MB | outcome |", "|---|---:|---:|---:|---|"]
    for row in choice["candidates"]:
        mca = f"{row['val_mca']:.2%}" if row.get("val_mca") is not None else "—"
        lines.append(f"| `{row['export']}` | {row['val_accuracy']:.2%} | {mca} | {row['int8_mb']} | {row['outcome']} |")
    return lines + [""]


def card_markdown(card: dict) -> str:
    """The model card for people: what goes in, how it was made, how well every format scores."""
    training = card["training"] or {}
    machine = training.get("machine") or {}
    contract = InputContract.from_dict(card.get("input")).to_dict()
    lines = [
        f"# cifar-edge released model `{card['model_version']}`",
        "",
        f"CIFAR-10 classifier ({', '.join(CLASSES)}).",
        f"Input: one {contract['layout']} {contract['dtype']} {contract['color']} {contract['height']}×"
        f"{contract['width']} image, pixel values {contract['range'][0]}–{contract['range'][1]}, no normalisation "
        f"(it is inside the model). Output: {len(CLASSES)} logits in the order above; the labels and this "
        "contract are also in the file's metadata.",
        "",
        "| file | format | size | SHA-256 |",
        "|---|---|---:|---|",
        *[f"| `{f['file']}` | {fmt} | {f['bytes'] / 1e6:.2f} MB | `{f['sha256'][:16]}…` |"
          for fmt, f in card["files"].items()],
        "",
        "## Training",
        "",
        f"- Command: `{training.get('command')}`",
        f"- Seed {training.get('seed')}, {training.get('epochs')} epochs, "
        f"{training.get('train_wall_seconds', 0) / 60:.1f} min of training, precision {training.get('precision')}",
        f"- Hardware: {provenance.describe_machine(machine)} ({machine.get('platform')})",
        f"- BatchNorm statistics re-estimated on {training.get('bn_recalibration_images')} "
        f"{training.get('bn_recalibration_on', 'clean training images')} "
        f"by {training.get('bn_recalibrated_by')}",
        f"- Data: `{(training.get('data') or {}).get('sha256')}` (SHA-256 of the archive)",
        *[f"- Distilled from `{t['run']}` (test accuracy {t['test_accuracy']:.2%}, trained on data "
          f"`{t['data_sha256'][:16]}…`)" for t in training.get("teachers") or []],
        f"- Plain test accuracy {training.get('test_accuracy', 0):.2%}; with flip test-time augmentation "
        f"{training.get('test_accuracy_flip_tta', 0):.2%} (reported beside, never instead: the files are "
        "evaluated plain)",
        "",
        f"## Accuracy of every exported format ({card['compare']['test_images']:,} test images)",
        "",
        markdown_table(card["compare"]["rows"]),
        "",
        latency_line(card["compare"]),
        "",
        *(choice_lines(card["chosen_among"]) if card.get("chosen_among") else []),
        *(arm64_lines(card["arm64"]) if card.get("arm64") else []),
        *(robustness_lines(card["robustness"]) if card.get("robustness") else []),
        "## Limits",
        "",
        f"- The accuracies above are on the test set of the archive with SHA-256 "
        f"`{card['compare'].get('data_sha256')}`. A camera's frames are not CIFAR test images: sensor noise, "
        "blur and compression cost accuracy (`cifar-edge robustness` measures how much; "
        "`benchmarks/jpeg_quality.py` what JPEG costs).",
        f"- Trained on {contract['height']}×{contract['width']} thumbnails of {len(CLASSES)} classes: anything "
        f"else still gets one of the {len(CLASSES)} labels.",
        "",
    ]
    return "\n".join(lines)
