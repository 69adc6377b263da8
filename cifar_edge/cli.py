"""The `cifar-edge` command: parses options and calls the package; no logic lives here.

Every `CifarEdgeError` becomes `error: <message>` on stderr and a non-zero exit, never a traceback.
The training options are not written here: `with_recipe_options` makes one `--<field>` option per
`TrainConfig` field, with the help text the field carries.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import typing
from pathlib import Path
from typing import Optional

import typer

from cifar_edge.contract import CLASSES, MAX_RELEASE_MB, RELEASED_MODEL
from cifar_edge.errors import CifarEdgeError
from cifar_edge.formats import DEFAULT_PERCENTILE, FORMATS, RUNTIMES, formats_table
from cifar_edge.quiet import hide_tensorflow_start_up
from cifar_edge.train import recipe

app = typer.Typer(help="Train a CIFAR-10 CNN, export it for the edge, and run it on a camera. "
                  "TensorFlow's start-up messages are hidden: set TF_CPP_MIN_LOG_LEVEL=0 to see them.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
data_app = typer.Typer(help="Inspect the CIFAR-10 data.", no_args_is_help=True)
app.add_typer(data_app, name="data")

DATA_HELP = ("CIFAR-10 as cifar-10-python.tar.gz, its extracted cifar-10-batches-py/ folder, or an "
             "image folder ROOT/{train,test}/<class>/*.png. Default: $CIFAR_EDGE_DATA, else "
             "~/.cache/cifar-edge/ (downloaded there, MD5-checked, when missing).")


def print_json(data) -> None:
    typer.echo(json.dumps(data, indent=2))


@data_app.command("info")
def data_info(data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
              as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts.")):
    """Format, images per split and class, and the SHA-256 of the data."""
    from cifar_edge.data import load_cifar10

    dataset = load_cifar10(data)
    info = {"path": str(dataset.source), "format": dataset.format, "sha256": dataset.sha256,
            "classes": list(CLASSES),
            "splits": {name: {"images": len(split), "per_class": split.class_counts()}
                       for name, split in (("train", dataset.train), ("test", dataset.test))}}
    if as_json:
        return print_json(info)
    typer.echo(f"path    {info['path']}\nformat  {info['format']}\nsha256  {info['sha256']}\n")
    typer.echo(f"{'class':<12}{'train':>8}{'test':>8}")
    for i, name in enumerate(CLASSES):
        typer.echo(f"{name:<12}{dataset.train.class_counts()[i]:>8}{dataset.test.class_counts()[i]:>8}")
    typer.echo(f"{'total':<12}{len(dataset.train):>8}{len(dataset.test):>8}")


@data_app.command("samples")
def data_samples(out: Path = typer.Argument(Path("samples"), help="Folder for the PNG files."),
                 count: int = typer.Option(10, help="How many images, from the first of the split."),
                 split: str = typer.Option("test", help="train or test."),
                 data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
                 force: bool = typer.Option(False, help="Overwrite sample files that already exist.")):
    """Write CIFAR-10 images as PNG files named <index>_<class>.png, to try `cifar-edge predict` on."""
    from cifar_edge.data import load_cifar10, write_samples

    if split not in ("train", "test"):
        raise CifarEdgeError(f"--split must be train or test, got {split!r}")
    paths = write_samples(getattr(load_cifar10(data, splits=(split,)), split), out, count, force)
    typer.echo(f"{len(paths)} images written to {out}/ (the true class is in each name)")


def with_recipe_options(command):
    """`command` with one option per TrainConfig knob added to its signature (typer reads options from
    the signature); the values given arrive as `overrides`, None for those left at the preset's."""
    own = [p for name, p in inspect.signature(command).parameters.items() if name != "overrides"]
    types = recipe.knob_types()
    added = []
    for f in recipe.knobs():
        parser = f.metadata["parse"]
        default = getattr(recipe.PRESETS["standard"], f.name)
        option = typer.Option(None, f"--{recipe.option_name(f.name)}", help=f"{f.metadata['help']} "
                              f"(standard: {recipe.option_value(default)})", parser=parser,
                              metavar="A,B,C" if parser else None, rich_help_panel="Recipe (defaults: the preset's)")
        kind = tuple if parser else types[f.name]  # typer would read tuple[int, int, int] as three arguments
        added.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=option,
                                       annotation=Optional[kind]))

    def with_overrides(**values):
        overrides = {f.name: values.pop(f.name) for f in recipe.knobs()}
        return command(**values, overrides=overrides)

    with_overrides.__name__, with_overrides.__doc__ = command.__name__, command.__doc__
    with_overrides.__signature__ = inspect.Signature(own + added)
    with_overrides.__annotations__ = {**typing.get_type_hints(command), **{p.name: p.annotation for p in added}}
    return with_overrides


# Under the options of `train --help`: one paragraph per preset, so each long one wraps on its own.
PRESETS_EPILOG = "Presets:\n\n" + "\n\n".join(f"{name}: {note}" for name, note in recipe.PRESET_NOTES.items())


@app.command(epilog=PRESETS_EPILOG)
@with_recipe_options
def train(
    preset: str = typer.Option("standard", help=f"The recipe to start from: {', '.join(recipe.PRESETS)} "
                               "(each described under the options). Any option below overrides one of its values."),
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    name: Optional[str] = typer.Option(None, help="Run name: results go to RUNS_DIR/NAME. Default: the preset."),
    runs_dir: Path = typer.Option(Path("runs"), help="Folder that holds the run folders."),
    resume: bool = typer.Option(False, help="Continue an unfinished run from its last finished epoch."),
    force: bool = typer.Option(False, help="Delete an existing run of the same name and start over."),
    progress: bool = typer.Option(True, help="Show a progress bar per epoch."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the resolved configuration and the command "
                                 "that reproduces it as JSON, and train nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the final metrics as JSON."),
    overrides: dict = None,
):
    """Train the CNN; writes model.keras, metrics.json, history.csv and plots to RUNS_DIR/NAME."""
    config = recipe.make_config(preset, **overrides)
    if dry_run:
        return print_json({"config": config.to_dict(), "command": recipe.command_for(config)})
    from cifar_edge.train.trainer import train as run_training

    run_dir = runs_dir / (name or preset)
    metrics = run_training(config, data=data, run_dir=run_dir, resume=resume, force=force, progress=progress)
    if as_json:
        return print_json(metrics)
    val = metrics["val_accuracy"]
    typer.echo(f"\n{run_dir}: test accuracy {metrics['test_accuracy']:.2%} plain, "
               f"{metrics['test_accuracy_flip_tta']:.2%} with flip TTA"
               + (f"; validation {val:.2%}" if val is not None else ""))
    typer.echo(f"{metrics['epochs']} epochs in {metrics['train_wall_seconds'] / 60:.1f} min "
               f"({metrics['train_images_per_s']:.0f} images/s, {metrics['precision']})")


@app.command()
def export(
    source: Path = typer.Argument(..., help="A finished run folder (runs/NAME) or a model.keras file."),
    out: Optional[Path] = typer.Option(None, help="Output folder. Default: exports/<run name>."),
    formats: str = typer.Option("all", help=f"Comma-separated subset of {', '.join(FORMATS)} "
                                "(`cifar-edge formats` describes each)."),
    calib: int = typer.Option(1000, help="Training images (class-balanced) that calibrate the int8 files."),
    seed: int = typer.Option(0, help="Seed of the calibration image choice."),
    calib_percentile: float = typer.Option(DEFAULT_PERCENTILE, help="int8 activation ranges cover this percentile of "
                                           "the calibration values; 100 = their min and max."),
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    force: bool = typer.Option(False, help="Overwrite files that already exist in the output folder."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
    as_json: bool = typer.Option(False, "--json", help="Print the model card as JSON."),
):
    """Convert a trained model to TFLite (fp32, fp16, dynamic-range, full-integer int8) and ONNX
    (fp32, int8), each file carrying its labels and input contract; writes model_card.json."""
    from cifar_edge.export import export as run_export

    card = run_export(source, out=out, formats=formats, calib=calib, data=data, seed=seed,
                      calib_percentile=calib_percentile, force=force, progress=progress)
    if as_json:
        return print_json(card)
    for fmt, entry in card["files"].items():
        typer.echo(f"{fmt:<16}{entry['bytes'] / 1e6:>8.2f} MB  {Path(card['out']) / entry['file']}")
    typer.echo(f"\nnext: cifar-edge compare {card['out']}")


@app.command()
def formats(as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts.")):
    """The formats `cifar-edge export` writes: file, runtime, precision, and what `compare` checks."""
    if as_json:
        return print_json([{**vars(f), "suffix": f.suffix, "runtime": f.runtime} for f in FORMATS.values()])
    typer.echo(formats_table())


@app.command()
def compare(
    export_dir: Path = typer.Argument(..., help="A folder made by `cifar-edge export`."),
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    max_drop: Optional[float] = typer.Option(None, help="Exit 1 if any file loses more than this many "
                                             "percentage points of accuracy against the float model."),
    json_file: Optional[Path] = typer.Option(None, "--json", help="Also write the results to this JSON file."),
    limit: int = typer.Option(0, help="Score only the first N test images (0 = all 10,000)."),
    progress: bool = typer.Option(True, help="Show progress bars."),
):
    """Score the float model and every exported file on the test set through the device runtimes;
    prints size, accuracy, change vs float, agreement and latency, and writes compare.json/.md."""
    from cifar_edge.export.compare import compare as run_compare, failures, markdown_table
    from cifar_edge.files import write_json

    result = run_compare(export_dir, data=data, limit=limit, progress=progress)
    typer.echo(markdown_table(result["rows"]))
    typer.echo(f"\n{result['test_images']} test images; latency: batch 1, 1 thread, median and p90 of "
               f"{result['latency']['runs']} calls. Written: {export_dir}/compare.json, compare.md, confusion_*.png")
    if json_file:
        write_json(json_file, result)
    problems = failures(result, max_drop)
    for problem in problems:
        typer.echo(f"FAIL: {problem}", err=True)
    if problems:
        raise typer.Exit(1)


@app.command()
def robustness(
    folder: Path = typer.Argument(..., help="An export folder (`cifar-edge export`) or a release folder such "
                                  "as models/."),
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    formats: Optional[str] = typer.Option(None, help="Files to score, comma-separated (keras-fp32, tflite-int8, "
                                          "onnx-int8, ...) or 'all'. Default: keras-fp32, tflite-int8 and "
                                          "onnx-int8, those present; the float reference is always added."),
    corruptions: Optional[str] = typer.Option(None, help="Corruptions, comma-separated: names, 'cifar10-c' "
                                              "(the 15 the mCA averages), 'camera' or 'all' (default)."),
    limit: int = typer.Option(0, help="Use only the first N test images, for a quick look that no model card "
                              "records (0 = all 10,000)."),
    seed: int = typer.Option(0, help="Seed of the corruptions' randomness; the same seed gives the same sets."),
    cache: bool = typer.Option(True, help="Keep the corrupted sets in ~/.cache/cifar-edge/corrupted/ so "
                               "reruns skip making them."),
    out: Optional[Path] = typer.Option(None, help="Folder for robustness.json, .md and .png (default: FOLDER)."),
    record_in: Optional[Path] = typer.Option(None, help="Also add the summary to the model cards of this release "
                                             "folder (made by `cifar-edge release` from FOLDER)."),
    progress: bool = typer.Option(True, help="Show a progress bar over the sets."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole result as JSON for scripts."),
):
    """Score exported files on corrupted test images: CIFAR-10-C's 15 corruptions (noise, blur,
    weather, digital) at 5 severities plus camera conditions (low light, framing, colour cast), each
    file through its device runtime.  Prints accuracy per corruption, the mean corruption accuracy
    (mCA) and the int8-float gap; writes robustness.json, .md and a heatmap .png into FOLDER and a
    section into its model card."""
    from cifar_edge.robustness.score import robustness as run_robustness
    from cifar_edge.robustness.tables import terminal_table

    result = run_robustness(folder, data=data, formats=formats, corruption_names=corruptions, limit=limit,
                            seed=seed, progress=progress, cache=cache, out=out,
                            record_in=record_in)
    if as_json:
        return print_json(result)
    typer.echo(terminal_table(result))
    typer.echo(f"\n{result['test_images']} test images per set, seed {seed}, data sha256 "
               f"{result['data_sha256'][:16]}. Written: {out or folder}/robustness.json, robustness.md, robustness.png")


@app.command()
def release(
    export_dirs: list[Path] = typer.Argument(..., help="Export folders that `cifar-edge compare` has scored. "
                                             "With several, the one with the best validation accuracy whose "
                                             "int8 file fits --max-mb is released."),
    out: Path = typer.Option(Path("models"), help="Where the released files go."),
    max_mb: float = typer.Option(MAX_RELEASE_MB, help="Largest int8 file that may be released (the device budget)."),
    min_val_mca: Optional[float] = typer.Option(None, help="Release only a model whose mean accuracy on its "
                                                "corrupted validation images (15 CIFAR-10-C corruptions, 5 "
                                                "severities) is at least this, e.g. 0.82. Scored once per "
                                                "run, minutes each, and saved in its val_robustness.json."),
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    force: bool = typer.Option(False, help="Replace an existing release."),
    ignore_released: bool = typer.Option(False, help="Choose among the named exports only. Without it the model "
                                         "already released in --out competes too, on the validation scores its "
                                         "card recorded, and stays unless a candidate beats it."),
):
    """Publish a scored export as the shipped model: the int8 TFLite and ONNX files and the float ONNX one, plus
    model_card.json and MODEL_CARD.md (training command, hardware, accuracy of every format).
    Among several exports the choice is made on validation images, never on the test set."""
    from cifar_edge.export.exporter import CARD
    from cifar_edge.export.release import choose_by_validation, release as run_release
    from cifar_edge.files import read_json
    from cifar_edge.robustness.validation import validation_robustness

    released_card = None if ignore_released or not (out / CARD).is_file() else read_json(out / CARD)
    export_dir, candidates = choose_by_validation(export_dirs, max_mb, min_val_mca,
                                                  lambda run_dir: validation_robustness(run_dir, data)["mca"],
                                                  released_card)
    if len(candidates) > 1 or min_val_mca is not None:
        mca_header = f"{'val mCA':>9}" if min_val_mca is not None else ""
        width = max(28, *(len(row["export"]) + 2 for row in candidates))
        typer.echo(f"{'export':<{width}}{'validation':>11}{mca_header}{'int8 MB':>9}")
        for row in candidates:
            mca = ""
            if min_val_mca is not None:  # a candidate over the size budget is not scored: —
                mca = f"{row['val_mca']:>9.2%}" if row.get("val_mca") is not None else f"{'—':>9}"
            typer.echo(f"{row['export']:<{width}}{row['val_accuracy']:>11.2%}{mca}{row['int8_mb'] or 0:>9.2f}  "
                       f"{row['outcome']}")
    if export_dir is None:
        typer.echo(f"the model released from {released_card['released_from']} stays: no candidate beats its "
                   f"validation accuracy; {out} is unchanged (--ignore-released chooses among the named exports only)")
        return
    card = run_release(export_dir, out=out, force=force,
                       choice={"max_mb": max_mb, "min_val_mca": min_val_mca, "candidates": candidates})
    for entry in card["files"].values():
        typer.echo(f"{entry['bytes'] / 1e6:>8.2f} MB  {out / entry['file']}")
    typer.echo(f"model card: {out / 'MODEL_CARD.md'}")


@app.command()
def benchmark(
    models: Optional[list[Path]] = typer.Argument(None, help="Exported .tflite or .onnx files. Default: "
                                                  "the released int8 model."),
    threads: int = typer.Option(1, help="Interpreter threads."),
    runs: int = typer.Option(200, help="Timed single-image calls per model."),
    warmup: int = typer.Option(20, help="Untimed calls per model before the timed ones (fewer for a model "
                               "that takes seconds a call, as under emulation)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
):
    """Latency per image (batch 1) of exported models: median, p90 and mean after warm-up."""
    from cifar_edge.edge_runtime import measure_latency

    results = [{"model": str(m), "bytes": m.stat().st_size if m.is_file() else None,
                **measure_latency(m, threads=threads, warmup=warmup, runs=runs)} for m in models or [default_model()]]
    if as_json:
        return print_json(results)
    typer.echo(f"{'model':<40}{'size MB':>9}{'median ms':>11}{'p90 ms':>9}{'mean ms':>9}   threads={threads}")
    for r in results:
        typer.echo(f"{r['model']:<40}{r['bytes'] / 1e6:>9.2f}{r['median_ms']:>11.3f}{r['p90_ms']:>9.3f}{r['mean_ms']:>9.3f}")



@app.command("eval")
def evaluate(
    model: Optional[Path] = typer.Argument(None, help="Exported .tflite or .onnx file. Default: the released "
                                           "int8 model."),
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    out: Optional[Path] = typer.Option(None, help="Write every image's class and scores to this predictions "
                                       "file (JSON), to check against another machine's with --against."),
    against: Optional[Path] = typer.Option(None, help="A predictions file another machine wrote with --out "
                                           "for the same model: report accuracy on both, top-1 agreement and "
                                           "how far the raw outputs differ."),
    limit: int = typer.Option(0, help="Score only the first N test images (0 = all 10,000)."),
    threads: int = typer.Option(1, help="Interpreter threads."),
    force: bool = typer.Option(False, help="Overwrite --out if it exists."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (without per-image scores)."),
):
    """Score one exported file on the test set with this machine's interpreter, no TensorFlow: the
    check a Raspberry Pi can run.  `eval --out pi.json` on the Pi, then `eval --against pi.json` on the
    workstation says whether the Pi computes what `compare` found on it."""
    from tqdm import tqdm

    from cifar_edge.data import load_cifar10
    from cifar_edge.edge_runtime import device_check
    from cifar_edge.files import write_json

    model = model or default_model()
    if out and out.exists() and not force:
        raise CifarEdgeError(f"{out} exists: pass --force to overwrite it")
    theirs = device_check.read_predictions(against) if against else None  # read first: a bad file fails before the scoring
    dataset = load_cifar10(data, splits=("test",))
    test = dataset.test.take(slice(0, limit)) if limit else dataset.test
    if theirs is not None:  # before the scoring: a mismatch is known without it
        device_check.check_comparable(device_check.identity(model, dataset.sha256, len(test)), theirs, str(against))
    with tqdm(total=len(test), desc=model.name, unit="img", disable=not progress, leave=False) as bar:
        record = device_check.score_test_set(model, test.images, test.labels, dataset.sha256, threads, bar.update)
    if out:
        write_json(out, record)
    result = {key: value for key, value in record.items() if key not in ("predictions", "scores")}
    if theirs is not None:
        result["against"] = device_check.agreement(record, theirs)
    if as_json:
        return print_json(result)
    typer.echo(f"{model.name} on {len(test)} test images ({record['arch']}, {record['machine']}): "
               f"{record['accuracy']:.2%}" + (f"; predictions written to {out}" if out else ""))
    if theirs is not None:
        typer.echo("\n" + device_check.agreement_report(result["against"], "this machine", against.name))


def default_model() -> Path:
    """The released int8 model shipped with the package (models/), for users who trained nothing."""
    from cifar_edge.edge_runtime.released import released_model_path

    return released_model_path()


@app.command()
def predict(
    paths: list[Path] = typer.Argument(..., help="Images (PNG, JPEG, BMP, WebP; any size, gray, RGB, RGBA, "
                                       "8 or 16 bit). A first argument ending in .tflite/.onnx is the model."),
    model: Optional[Path] = typer.Option(None, help="Exported .tflite or .onnx model. Default: the released "
                                         f"int8 model (models/{RELEASED_MODEL})."),
    top_k: int = typer.Option(1, help="How many classes to show per image."),
    threads: int = typer.Option(1, help="Interpreter threads."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per image: path, label, index, "
                                 "confidence, top_k."),
):
    """Classify image files; a file that cannot be read gets one error line and the rest go on
    (exit code 1 if any failed)."""
    from cifar_edge.edge_runtime import Classifier
    from cifar_edge.images import read_image_rgb

    if model is None and paths and paths[0].suffix in RUNTIMES:
        model, paths = paths[0], paths[1:]
    if not paths:
        raise CifarEdgeError("no image given: cifar-edge predict [MODEL] IMAGE...")
    classifier = Classifier(model or default_model(), threads=threads)
    failed = 0
    for path in paths:
        try:
            prediction = classifier.classify(read_image_rgb(path))
        except CifarEdgeError as exc:
            typer.echo(f"error: {exc}", err=True)
            failed += 1
            continue
        top = prediction.top_k(max(1, top_k), classifier.labels)
        if as_json:
            typer.echo(json.dumps({"path": str(path), "label": prediction.label, "index": prediction.index,
                                   "confidence": round(prediction.confidence, 6), "top_k": top}))
        else:
            typer.echo(f"{path}: " + ", ".join(f"{t['label']} {t['confidence']:.1%}" for t in top))
    if failed:
        raise typer.Exit(1)


@app.command()
def camera(
    model: Optional[Path] = typer.Option(None, help="Exported .tflite or .onnx model. Default: the released "
                                         f"int8 model (models/{RELEASED_MODEL})."),
    source: str = typer.Option("0", help="Webcam index (0) or /dev/video* path, a video file, a folder of "
                               "images, or 'picamera2' for the Raspberry Pi camera."),
    headless: Optional[bool] = typer.Option(None, "--headless/--window", help="JSON lines instead of a "
                                            "window. Default: headless when there is no display, or with --serve."),
    output: Optional[Path] = typer.Option(None, help="Append the JSON lines to this file instead of stdout "
                                          "(with --serve, the only place they go)."),
    max_frames: int = typer.Option(0, help="Stop after N frames (0 = until the source ends or Ctrl-C)."),
    threads: int = typer.Option(2, help="Interpreter threads."),
    retries: int = typer.Option(5, help="Reconnection attempts when a live camera disconnects."),
    loop: bool = typer.Option(False, "--loop", help="Replay a video file or image folder from the start when "
                              "it ends (a demo on repeat)."),
    source_fps: float = typer.Option(0, min=0, help="Read a video file or image folder at most this many "
                                     "frames a second, as a camera delivers them (0 = as fast as they decode)."),
    serve: Optional[str] = typer.Option(None, metavar="[HOST:]PORT", help="Also serve a live page for any "
                                        "browser: stream, label, top-3, frames/s. 8000 listens on this machine "
                                        "only; 0.0.0.0:8000 on every network, with a token in the printed URL.",
                                        rich_help_panel="Web page"),
    serve_fps: float = typer.Option(15, min=0.1, help="Frames per second the page's stream is encoded at, "
                                    "at most; classification is never slowed to match.", rich_help_panel="Web page"),
    max_clients: int = typer.Option(4, min=1, help="Browsers that may watch at once; the next gets 503.",
                                    rich_help_panel="Web page"),
):
    """Classify camera frames live: a window with label, confidence bar and FPS, or one JSON line per
    frame (frame, time, label, index, confidence, latency_ms, fps, top3), or with --serve a web page:
    / (the page), /stream.mjpg (MJPEG), /events (the JSON lines as Server-Sent Events), /healthz."""
    from cifar_edge.camera_demo import ServeOptions, run_camera

    summary = run_camera(model or default_model(), source, headless=headless, output=output,
                         max_frames=max_frames, threads=threads, retries=retries, loop=loop, source_fps=source_fps,
                         serve=ServeOptions(serve, serve_fps, max_clients) if serve else None)
    typer.echo(f"{summary['frames']} frames in {summary['seconds']:.1f}s ({summary['fps']} frames/s); "
               f"ended: {summary['ended']}", err=True)


def summarise_commands_in_one_line(typer_app: typer.Typer) -> None:
    """Gives each command the one-line summary `cifar-edge --help` lists: its docstring's first paragraph,
    joined.  Left to itself, Typer's rich help keeps that paragraph's source line breaks in the list, which
    break its column mid-sentence.  Sub-apps (`data`) are walked too, so a new one needs no call of its own."""
    for command in typer_app.registered_commands:
        if command.short_help is None and command.callback.__doc__:
            command.short_help = " ".join(inspect.getdoc(command.callback).split("\n\n")[0].split())
    for group in typer_app.registered_groups:
        summarise_commands_in_one_line(group.typer_instance)


summarise_commands_in_one_line(app)

# The commands that run Keras (and so, on the default backend, TensorFlow).
KERAS_COMMANDS = {"train", "export", "compare", "release", "robustness"}


def main() -> None:
    # TensorFlow's start-up chatter is not for users; setting TF_CPP_MIN_LOG_LEVEL yourself (0 shows
    # everything) keeps it.
    if len(sys.argv) > 1 and sys.argv[1] in KERAS_COMMANDS:
        hide_tensorflow_start_up()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        app()
    except CifarEdgeError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(getattr(exc, "exit_code", 1))


if __name__ == "__main__":
    main()
