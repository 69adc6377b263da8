"""Every test can fail: plant one realistic bug at a time and check that the tests meant to catch it do.

A test that passes whatever the code does proves nothing.  This script holds a table of deliberate
breaks (BREAKS below): each is one small, plausible bug in the package (an off-by-one, a swapped colour
order, a dropped check, a wrong constant, a reworded error, a skipped metadata field, a results file
re-run without updating the README ...; one, in tests/conftest.py, breaks the harness's CI rule) and the
tests that should fail because of it.  For each break it copies the working tree to a temporary folder, makes the one edit there (never in your checkout),
runs pytest on the targeted tests with the copy first on PYTHONPATH (so the copy's `cifar_edge`
shadows the editable install), and reads which test functions failed from pytest's JUnit XML.

It then lists every test function of the suite with the breaks that failed it.  The list "never failed
by any break" should hold only tests that no change to the project can fail, each with the reason
(UNBREAKABLE).  A few breaks are marked `weakness`: bugs the targeted tests *should* catch but do not;
they are expected to pass and are reported as weak spots, not as coverage.

    .venv/bin/python tests/deliberate_breaks.py               # every break (23 min on 2 EPYC cores), writes
                                                              # results/deliberate_breaks.txt
    .venv/bin/python tests/deliberate_breaks.py --list        # the breaks, and whether each still applies
    .venv/bin/python tests/deliberate_breaks.py --only NAME   # one break (repeatable), printed only
    .venv/bin/python tests/deliberate_breaks.py --no-baseline # skip the unbroken run of the whole suite

The data archive comes from $CIFAR_EDGE_DATA, else ../shared/data/cifar-10-python.tar.gz.  The name does
not start with `test_`, so pytest never collects this file.  A break whose `old` text no longer occurs
exactly once (the code moved on) is reported as STALE: update its snippet.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = REPO / ".venv" / "bin" / "python"
ARCHIVE = Path(os.environ.get("CIFAR_EDGE_DATA") or REPO.parent / "shared" / "data" / "cifar-10-python.tar.gz")
REPORT = REPO / "results" / "deliberate_breaks.txt"
# Not copied: the environment, history, local outputs and caches (a copy holds ~12 MB).
IGNORE = shutil.ignore_patterns(".venv", ".git", "runs", "exports", "samples", "build", "dist", "logs",
                                "__pycache__", ".pytest_cache", ".ruff_cache", "*.egg-info")
PYTEST_TIMEOUT_S = 1200


@dataclass(frozen=True)
class Break:
    name: str
    file: str            # relative to the repository root
    old: str             # must occur exactly once in `file`
    new: str
    targets: tuple[str, ...]  # "tests/x.py::test_function" (all its parameters) or "tests/x.py" (the file)
    bug: str             # what a developer did, in a few words
    weakness: str = ""   # set: the targets let this bug through (expected to pass); says why


# Test file paths, to keep the table short.
CAMERA = "tests/camera_demo/test_camera.py"
SERVE = "tests/camera_demo/test_serve.py"
PAGE = "tests/camera_demo/test_camera_page.py"
NO_TF = "tests/edge_runtime/test_no_tensorflow_on_device.py"
PREPROCESS = "tests/edge_runtime/test_preprocess_and_predict.py"
DEVICE = "tests/edge_runtime/test_device_check.py"
WINDOW = "tests/camera_demo/test_camera_window.py"
CORRUPT = "tests/robustness/test_corruptions.py"
ROBUST = "tests/robustness/test_score.py"
DISTILL = "tests/train/test_distill.py"
EXPORT = "tests/export/test_export_and_compare.py"
RELEASE = "tests/export/test_release.py"
CLI = "tests/test_cli.py"
DATA = "tests/test_data.py"
LAYOUT = "tests/test_layout.py"
PACKAGING = "tests/test_packaging.py"
README = "tests/test_readme.py"
BENCH = "tests/test_benchmarks.py"
RECIPE = "tests/train/test_recipe_parts.py"
TRAINER = "tests/train/test_trainer.py"
BREAKS_TABLE = "tests/test_deliberate_breaks.py"
PROVENANCE = "tests/test_provenance.py"

# data.download_archive's loop, verbatim: one break rewrites it to write in place.
DOWNLOAD_LOOP = (
    '    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")\n'
    '    try:\n'
    '        digest = hashlib.md5()\n'
    '        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=30) as response:\n'
    '            total = int(response.headers.get("Content-Length") or 0) or None\n'
    '            with tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {dest.name}",\n'
    '                      disable=not progress) as bar:\n'
    '                while chunk := response.read(1 << 20):\n'
    '                    out.write(chunk)\n'
    '                    digest.update(chunk)\n'
    '                    bar.update(len(chunk))\n'
    '        if digest.hexdigest() != md5:\n'
    '            raise CifarEdgeError(f"download from {url} has MD5 {digest.hexdigest()}, expected {md5}; "\n'
    '                                 "nothing was saved")\n'
    '        os.replace(tmp, dest)\n'
)

BREAKS: list[Break] = [
    # ------------------------------------------------------------------ camera --serve
    Break("serve_binds_every_interface_by_default", "cifar_edge/camera_demo/server.py",
          'host = host.strip("[]") or "127.0.0.1"', 'host = host.strip("[]") or "0.0.0.0"',
          (f"{SERVE}::test_serve_address_defaults_to_this_machine_only",),
          "--serve 8000 listens on every network instead of this machine only"),
    Break("events_not_separated", "cifar_edge/camera_demo/server.py",
          '"".join(f"data: {line}\\n\\n" for line in batch)', '"".join(f"data: {line}\\n" for line in batch)',
          (f"{SERVE}::test_page_health_stream_and_events",
           f"{SERVE}::test_served_camera_keeps_its_json_lines_and_stops_on_sigterm"),
          "Server-Sent Events written without the blank line that ends each event"),
    Break("files_served_beside_the_page", "cifar_edge/camera_demo/server.py",
          '"/healthz": self.send_health}.get(url.path)',
          '"/healthz": self.send_health}.get(url.path, lambda: self.reply(HTTPStatus.OK, "text/plain", '
          '(Path(__file__).parent / url.path.lstrip("/")).read_bytes()))',
          (f"{SERVE}::test_no_path_reaches_the_file_system",),
          "unknown paths served as files from the package folder (a static-file fallback)"),
    Break("garbage_answered_in_http09", "cifar_edge/camera_demo/server.py",
          '    default_request_version = "HTTP/1.0"\n', "",
          (f"{SERVE}::test_bad_requests_get_their_status_and_the_demo_goes_on",),
          "bytes that are not HTTP answered the standard library's way, with no status line"),
    Break("token_checked_on_the_page_only", "cifar_edge/camera_demo/server.py",
          "if token and not hmac.compare_digest(", 'if token and url.path == "/" and not hmac.compare_digest(',
          (f"{SERVE}::test_off_loopback_every_path_needs_the_token",),
          "the token guards the page but not the stream, events or health"),
    Break("printed_urls_lose_the_token", "cifar_edge/camera_demo/server.py",
          'query = f"?token={self.token}" if self.token else ""', 'query = ""',
          (f"{SERVE}::test_urls_name_the_token_and_this_machine", f"{SERVE}::test_serve_off_loopback_prints_a_token_url"),
          "the printed URL leaves the token out, so the page it opens is refused"),
    Break("one_viewer_too_many", "cifar_edge/camera_demo/live_feed.py",
          "if self._viewers >= self.max_clients:", "if self._viewers > self.max_clients:",
          (f"{SERVE}::test_viewers_beyond_max_clients_get_503_with_one_line",),
          "--max-clients N lets N + 1 viewers in"),
    Break("viewer_sends_under_the_lock", "cifar_edge/camera_demo/live_feed.py",
          "                jpeg, seen = self._jpeg, self._jpeg_seq\n            yield jpeg\n",
          "                jpeg, seen = self._jpeg, self._jpeg_seq\n                yield jpeg\n",
          (f"{SERVE}::test_a_viewer_that_stops_reading_holds_up_nobody",),
          "each JPEG is sent while holding the feed's lock, so a stalled viewer stops the camera loop"),
    Break("encoder_not_rate_limited", "cifar_edge/camera_demo/live_feed.py",
          "            time.sleep(max(0.0, next_at - time.monotonic()))  # at most serve_fps encodes a second\n", "",
          (f"{SERVE}::test_stream_is_encoded_at_most_serve_fps",),
          "the stream encodes every camera frame, ignoring --serve-fps"),
    Break("stop_leaves_streams_open", "cifar_edge/camera_demo/server.py",
          "        self.feed.close()\n        self.shutdown()\n        with self._connections_lock:\n"
          "            for connection in self._connections:\n",
          "        self.shutdown()\n        with self._connections_lock:\n"
          "            for connection in []:\n",
          (f"{SERVE}::test_closing_the_server_ends_every_stream",),
          "stopping the server only stops accepting: open streams go on (the feed stays open, no connection is cut)"),
    Break("sigterm_not_handled", "cifar_edge/camera_demo/app.py",
          "        with out_context as out, sigterm_as_interrupt():", "        with out_context as out:",
          (f"{SERVE}::test_served_camera_keeps_its_json_lines_and_stops_on_sigterm",),
          "SIGTERM kills the demo (exit -15) instead of ending it like Ctrl-C"),
    Break("wildcard_counted_as_loopback", "cifar_edge/camera_demo/server.py",
          "        return all(ipaddress.ip_address(info[4][0]).is_loopback\n",
          "        return all(ipaddress.ip_address(info[4][0]).is_loopback or ipaddress.ip_address(info[4][0]).is_unspecified\n",
          (f"{SERVE}::test_serve_address_defaults_to_this_machine_only", f"{SERVE}::test_serve_off_loopback_prints_a_token_url"),
          "0.0.0.0 taken for this machine only, so the page is open to the network without a token"),
    Break("port_in_use_traceback", "cifar_edge/camera_demo/server.py",
          "        try:\n            super().__init__(address, Handler)\n        except OSError as exc:\n"
          '            raise CifarEdgeError(f"cannot serve on {host}:{address[1]}: {exc.strerror or exc}") from None\n',
          "        super().__init__(address, Handler)\n",
          (f"{SERVE}::test_a_port_in_use_is_a_clear_error",),
          "a port already in use ends in a traceback"),
    Break("page_shows_frame_numbers_from_one", "cifar_edge/camera_demo/page.html",
          '$("frame").textContent = drawn.frame;', '$("frame").textContent = drawn.frame + 1;',
          (f"{PAGE}::test_page_shows_the_label_events_sent_for_the_same_frame",),
          "the page numbers frames from 1, so its label and latency belong to another frame than it says"),
    Break("loop_plays_once", "cifar_edge/camera_demo/sources.py",
          "            self.current.close()\n            self.current = open_source(self.spec)\n",
          "            return\n",
          (f"{CAMERA}::test_loop_replays_a_video_and_refuses_a_camera",),
          "--loop plays the file once"),
    Break("source_fps_ignored", "cifar_edge/camera_demo/sources.py",
          "        time.sleep(max(0.0, due - time.monotonic()))\n", "",
          (f"{CAMERA}::test_source_fps_paces_frames_like_a_camera",),
          "--source-fps reads the file as fast as it decodes anyway"),
    Break("top3_ties_broken_unlike_argmax", "cifar_edge/edge_runtime/classifier.py",
          'np.argsort(-self.probabilities, kind="stable")', "np.argsort(-self.probabilities)",
          (f"{CAMERA}::test_video_frames_reach_the_model_as_the_test_images_they_show",),
          "top-k breaks ties its own way, so the first of top3 can disagree with the label"),
    Break("page_left_out_of_the_wheel", "pyproject.toml",
          '"cifar_edge.camera_demo" = ["page.html"]\n', "",
          (f"{PACKAGING}::test_the_wheel_carries_the_released_model_and_predict_uses_it",),
          "page.html not declared as package data: camera --serve from a pip install has no page"),
    # ------------------------------------------------------------------ camera demo
    Break("capture_frames_left_bgr", "cifar_edge/camera_demo/sources.py",
          "yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)", "yield frame",
          (f"{CAMERA}::test_video_frames_reach_the_model_as_the_test_images_they_show",
           f"{CAMERA}::test_frames_come_out_rgb"),
          "camera/video frames passed on in OpenCV's BGR order"),
    Break("folder_source_catches_the_wrong_error", "cifar_edge/camera_demo/sources.py",
          "except CifarEdgeError as exc:\n                warn(f\"skipped {exc}\")",
          "except OSError as exc:\n                warn(f\"skipped {exc}\")",
          (f"{CAMERA}::test_image_folder_source_skips_unreadable_files",),
          "an unreadable picture in a folder source ends the demo instead of being skipped"),
    Break("max_frames_off_by_one", "cifar_edge/camera_demo/app.py",
          "count >= max_frames", "count > max_frames",
          (f"{CAMERA}::test_max_frames_stops_early", f"{CAMERA}::test_camera_cli_streams_json_lines"),
          "--max-frames N classifies N + 1 frames"),
    Break("window_error_exit_code_dropped", "cifar_edge/camera_demo/app.py",
          "        error.exit_code = 2\n", "",
          (f"{CAMERA}::test_window_without_gui_opencv_is_one_clear_line_and_writes_nothing",),
          "--window on headless OpenCV exits 1 like any error, not the documented 2"),
    Break("dev_paths_not_opened_as_cameras", "cifar_edge/camera_demo/sources.py",
          '    if spec.startswith("/dev/"):\n'
          '        return CaptureSource(spec, live=True, retries=retries, backoff_s=backoff_s)\n', "",
          (f"{CAMERA}::test_camera_that_cannot_be_opened_is_a_clear_error",),
          "/dev/video* paths no longer treated as cameras"),
    Break("reconnect_retries_one_short", "cifar_edge/camera_demo/sources.py",
          "for attempt in range(self.retries):", "for attempt in range(1, self.retries):",
          (f"{CAMERA}::test_live_camera_that_disconnects_is_retried_then_ends_cleanly",),
          "a disconnected camera is retried retries - 1 times"),
    Break("picamera2_imported_when_the_cli_loads", "cifar_edge/cli.py",
          "import typer\n",
          "import typer\nfrom picamera2 import Picamera2  # noqa: F401  (for --source picamera2)\n",
          (f"{CAMERA}::test_picamera2_is_only_imported_when_asked_for",
           f"{NO_TF}::test_device_side_packages_import_without_tensorflow"),
          "picamera2 imported at the top of the CLI (a PC has none, so the CLI cannot start)"),
    Break("picamera2_probed_when_the_cli_loads", "cifar_edge/cli.py",
          "import typer\n",
          "import typer\n\n"
          "try:  # the Pi camera is the natural default --source where it is installed\n"
          "    from picamera2 import Picamera2  # noqa: F401\n"
          "    DEFAULT_SOURCE = 'picamera2'\n"
          "except ImportError:\n"
          "    DEFAULT_SOURCE = '0'\n",
          (f"{CAMERA}::test_picamera2_is_only_imported_when_asked_for",),
          "picamera2 imported (guarded) every time the CLI loads"),
    Break("picamera2_install_hint_wrong", "cifar_edge/camera_demo/sources.py",
          '"picamera2 is not importable: on Raspberry Pi OS install python3-picamera2 "\n'
          '                                 "with apt and make the venv with --system-site-packages"',
          '"picamera2 is not importable: pip install picamera2"',
          (f"{CAMERA}::test_missing_picamera2_is_explained",),
          "the missing-picamera2 error gives the pip advice that does not work on a Pi"),
    Break("picamera2_frames_taken_as_rgb", "cifar_edge/camera_demo/sources.py",
          "frame[:, :, 2::-1]", "frame[:, :, :3]",
          (f"{CAMERA}::test_picamera2_frames_come_out_rgb",),
          "Picamera2's RGB888 (B, G, R in memory) read as R, G, B"),

    # ------------------------------------------------------------------ device side without TensorFlow
    Break("train_package_exports_the_model", "cifar_edge/train/__init__.py",
          "from cifar_edge.train.recipe import PRESETS, TrainConfig, make_config\n",
          "from cifar_edge.train.recipe import PRESETS, TrainConfig, make_config\n"
          "from cifar_edge.train.model import build_model  # noqa: F401  (a shortcut for notebooks)\n",
          (f"{NO_TF}::test_device_side_packages_import_without_tensorflow",
           f"{NO_TF}::test_data_info_runs_without_tensorflow"),
          "cifar_edge.train re-exports build_model, so the CLI imports Keras on the device"),
    Break("tflite_schema_from_tensorflow", "cifar_edge/edge_runtime/model_info.py",
          "from ai_edge_litert import schema_py_generated",
          "from tensorflow.lite.python import schema_py_generated",
          (f"{NO_TF}::test_exported_models_run_without_tensorflow",
           f"{LAYOUT}::test_device_side_imports_neither_training_nor_export_nor_tensorflow"),
          "the .tflite schema taken from TensorFlow's copy, which a Pi does not have"),

    # ------------------------------------------------------------------ pictures to model input
    Break("preprocess_swaps_channels_again", "cifar_edge/edge_runtime/preprocess.py",
          "picture = CROPS[policy.crop](to_uint8_rgb(image))",
          "picture = CROPS[policy.crop](to_uint8_rgb(image)[..., ::-1])  # OpenCV order",
          (f"{PREPROCESS}::test_model_sized_rgb_passes_through_unchanged",
           f"{PREPROCESS}::test_upscaled_frame_with_bars_comes_back_exactly",
           f"{PREPROCESS}::test_every_format_reads_as_the_same_rgb_image"),
          "RGB converted to BGR a second time before the model"),
    Break("crop_takes_the_top_left_corner", "cifar_edge/edge_runtime/preprocess.py",
          "top, left = (height - side) // 2, (width - side) // 2", "top, left = 0, 0",
          (f"{PREPROCESS}::test_upscaled_frame_with_bars_comes_back_exactly",),
          "the square crop taken from the corner, not the centre"),
    Break("alpha_channel_kept", "cifar_edge/images.py",
          "    image = image[:, :, :3]\n", "",
          (f"{PREPROCESS}::test_any_picture_becomes_uint8_rgb_32x32",
           f"{PREPROCESS}::test_every_format_reads_as_the_same_rgb_image"),
          "RGBA pictures keep their alpha channel"),
    Break("uint16_check_typo", "cifar_edge/images.py",
          "if image.dtype == np.uint16:", "if image.dtype == np.int16:",
          (f"{PREPROCESS}::test_sixteen_bit_keeps_its_top_byte",
           f"{PREPROCESS}::test_any_picture_becomes_uint8_rgb_32x32"),
          "16-bit pictures refused (int16 written for uint16)"),
    Break("sixteen_bit_keeps_the_low_byte", "cifar_edge/images.py",
          "image = (image >> 8).astype(np.uint8)", "image = image.astype(np.uint8)",
          (f"{PREPROCESS}::test_sixteen_bit_keeps_its_top_byte",),
          "16-bit pixels cast to uint8 (keeps the low byte: 0x1200 becomes 0)"),
    Break("float_pixels_accepted", "cifar_edge/images.py",
          '    elif image.dtype != np.uint8:\n'
          '        raise CifarEdgeError(f"expected 8- or 16-bit pixels, got {image.dtype}")\n',
          '    elif image.dtype != np.uint8:\n'
          '        image = np.clip(image, 0, 255).astype(np.uint8)  # float pictures: assume 0..255\n',
          (f"{PREPROCESS}::test_bad_arrays_are_refused",),
          "float pictures silently clipped to 0..255 instead of refused"),
    Break("images_read_as_bgr", "cifar_edge/images.py",
          "    if image.ndim == 3 and image.shape[2] == 3:\n"
          "        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)\n"
          "    elif image.ndim == 3 and image.shape[2] == 4:\n",
          "    if image.ndim == 3 and image.shape[2] == 4:\n",
          (f"{PREPROCESS}::test_every_format_reads_as_the_same_rgb_image",
           f"{DATA}::test_image_folder_loads_pixels_exactly_in_rgb"),
          "3-channel picture files left in OpenCV's BGR order"),
    Break("jpeg_start_marker_typo", "cifar_edge/images.py",
          r'data[:2] == b"\xff\xd8"', r'data[:2] == b"\xff\xd9"',
          (f"{DATA}::test_image_folder_truncated_jpeg_is_named",),
          "truncated-JPEG check looks for the wrong start marker, so it never fires"),
    Break("jpeg_start_marker_typo_seen_by_predict", "cifar_edge/images.py",
          r'data[:2] == b"\xff\xd8"', r'data[:2] == b"\xff\xd9"',
          (f"{PREPROCESS}::test_bad_files_get_one_clear_error",),
          "the same bug, against the predict-side test of bad files"),
    Break("undecodable_file_not_checked", "cifar_edge/images.py",
          "    if image is None:\n"
          "        raise CifarEdgeError(f\"{path}: not a readable image (truncated, corrupt, or not PNG, JPEG, "
          "BMP or WebP)\")\n", "",
          (f"{PREPROCESS}::test_bad_files_get_one_clear_error",
           f"{DATA}::test_image_folder_non_image_file_is_named"),
          "cv2.imdecode's None (not a picture) not checked"),
    Break("softmax_not_normalised", "cifar_edge/edge_runtime/classifier.py",
          "return shifted / shifted.sum(axis=-1, keepdims=True)", "return shifted",
          (f"{PREPROCESS}::test_classify_matches_the_batch_scores",),
          "softmax without its denominator: confidences do not sum to 1"),
    Break("softmax_summed_over_the_batch", "cifar_edge/edge_runtime/classifier.py",
          "return shifted / shifted.sum(axis=-1, keepdims=True)", "return shifted / shifted.sum()",
          (f"{PREPROCESS}::test_classify_matches_the_batch_scores",),
          "softmax normalised over the whole batch, not per image"),
    Break("new_format_without_a_converter", "cifar_edge/formats.py",
          '    Format("onnx-fp32", "model_fp32.onnx", "fp32", quantized=False, calibrated=False, full_integer=False),\n',
          '    Format("onnx-fp32", "model_fp32.onnx", "fp32", quantized=False, calibrated=False, full_integer=False),\n'
          '    Format("onnx-fp16", "model_fp16.onnx", "fp16", quantized=False, calibrated=False, full_integer=False),\n',
          (f"{EXPORT}::test_every_format_has_a_converter_and_a_metadata_writer",),
          "a format added to the table with no converter written for it"),
    Break("top_k_least_likely_first", "cifar_edge/edge_runtime/classifier.py",
          "np.argsort(-self.probabilities, kind=\"stable\")[:k]", "np.argsort(self.probabilities, kind=\"stable\")[:k]",
          (f"{PREPROCESS}::test_predict_cli_classifies_good_files_and_reports_bad_ones",),
          "predict --top-k lists the least likely classes"),
    Break("predict_exits_zero_after_bad_files", "cifar_edge/cli.py",
          "    if failed:\n        raise typer.Exit(1)\n", "",
          (f"{PREPROCESS}::test_predict_cli_classifies_good_files_and_reports_bad_ones",),
          "predict exits 0 although some files could not be read"),
    Break("missing_model_file_not_checked", "cifar_edge/edge_runtime/backends.py",
          "    if not path.is_file():\n"
          "        raise CifarEdgeError(f\"model file {path} does not exist\")\n", "",
          (f"{PREPROCESS}::test_predict_without_any_model_says_what_to_do",),
          "a missing --model file ends in a traceback"),

    # ------------------------------------------------------------------ export and compare
    Break("card_size_before_metadata", "cifar_edge/export/exporter.py",
          '"bytes": len(model_bytes),', '"bytes": len(converted),',
          (f"{EXPORT}::test_export_writes_every_format_and_a_model_card",),
          "the model card records each file's size before its metadata was embedded"),
    Break("fp32_tflite_quantized_by_copy_paste", "cifar_edge/export/to_tflite.py",
          "def convert_fp32(conversion) -> bytes:\n    return float_converter(conversion.model).convert()\n",
          "def convert_fp32(conversion) -> bytes:\n"
          "    tf = _tf()\n"
          "    converter = float_converter(conversion.model)\n"
          "    converter.optimizations = [tf.lite.Optimize.DEFAULT]\n"
          "    return converter.convert()\n",
          (f"{EXPORT}::test_each_format_runs_in_its_runtime_and_agrees_with_keras",),
          "the fp32 .tflite gets Optimize.DEFAULT (copied from fp16): int8 weights"),
    Break("contract_std_is_the_variance", "cifar_edge/export/exporter.py",
          "std = np.sqrt(ops.convert_to_numpy(normalize.variance).ravel())",
          "std = ops.convert_to_numpy(normalize.variance).ravel()",
          (f"{EXPORT}::test_every_file_carries_its_metadata",),
          "the metadata's std is the normalisation layer's variance"),
    Break("full_integer_check_wrong_type_names", "cifar_edge/edge_runtime/model_info.py",
          'if kind.startswith(("FLOAT", "BFLOAT", "COMPLEX"))', 'if kind in ("FLOAT", "BFLOAT16", "COMPLEX64")',
          (f"{EXPORT}::test_int8_is_full_integer_and_the_dynamic_range_trap_is_caught",
           f"{EXPORT}::test_compare_writes_its_report_and_gates"),
          "the full-integer check looks for a type named FLOAT (the schema's is FLOAT32)"),
    Break("default_percentile_changed", "cifar_edge/formats.py",
          "DEFAULT_PERCENTILE = 99.99", "DEFAULT_PERCENTILE = 99.9",
          (f"{EXPORT}::test_int8_activation_ranges_are_percentiles_within_min_max",
           f"{README}::test_cli_reference_is_current"),
          "the calibration percentile default changed (99.9) without regenerating docs/cli.md"),
    Break("compare_gate_ignores_full_integer", "cifar_edge/export/compare.py",
          '        if row.get("full_integer") is False:\n'
          '            problems.append(f"{row[\'format\']} is not full-integer: float tensors '
          '{\', \'.join(row[\'float_tensors\'][:3])}")\n', "",
          (f"{EXPORT}::test_compare_writes_its_report_and_gates",),
          "compare's gate no longer fails a float file named int8"),
    Break("export_refusal_names_no_flag", "cifar_edge/export/exporter.py",
          "already exist(s): use --force to overwrite", "already exist(s); delete them first",
          (f"{EXPORT}::test_existing_exports_are_kept_without_force",),
          "the refusal to overwrite exports no longer mentions --force"),
    Break("onnx_load_errors_escape", "cifar_edge/edge_runtime/backends.py",
          "except Exception as exc:  # ORT raises", "except OSError as exc:  # ORT raises",
          (f"{EXPORT}::test_truncated_model_files_give_clear_errors",),
          "a corrupt .onnx raises ONNX Runtime's exception, not a one-line error"),
    Break("export_accepts_any_suffix", "cifar_edge/export/exporter.py",
          '    if model_path.suffix != ".keras":\n'
          '        raise CifarEdgeError(f"{model_path} is not a Keras model: expected a run folder or a .keras '
          'file")\n', "",
          (f"{EXPORT}::test_export_and_compare_cli_errors",),
          "export no longer checks that the file is a .keras model"),
    Break("unknown_formats_dropped", "cifar_edge/formats.py",
          "    if unknown:\n"
          "        raise CifarEdgeError(f\"unknown format(s) {', '.join(unknown)}; choose from "
          "{', '.join(FORMATS)}\")\n", "",
          (f"{EXPORT}::test_unknown_format_and_bad_percentile_are_refused",),
          "unknown --formats names silently ignored"),

    # ------------------------------------------------------------------ release
    Break("release_checks_size_only_when_scored", "cifar_edge/export/release.py",
          'if not card.get("compare") or card["compare"]["test_images"] != 10_000:',
          'if card.get("compare") and card["compare"]["test_images"] != 10_000:',
          (f"{RELEASE}::test_an_unscored_export_is_refused",),
          "an export that compare never scored can be released ('and' for 'or')"),
    Break("release_card_drops_the_command", "cifar_edge/export/release.py",
          'return {"command": metrics.get("command"), "seed": metrics["seed"],',
          'return {"seed": metrics["seed"],',
          (f"{RELEASE}::test_release_copies_the_files_and_writes_both_cards",),
          "the released model card leaves out the training command"),
    Break("release_chosen_ignoring_the_size_budget", "cifar_edge/export/release.py",
          'if row["fits"] and row.get', 'if row.get',
          (f"{RELEASE}::test_the_release_is_chosen_on_validation_within_the_size_budget",),
          "the wider network's 4.7 MB int8 file is released because it validates best"),
    Break("release_tie_replaces_the_release", "cifar_edge/export/release.py",
          'winner = max(fitting, key=lambda row: (row["val_accuracy"], bool(row.get("released"))))',
          'winner = max(fitting, key=lambda row: (row["val_accuracy"], not row.get("released")))',
          (f"{RELEASE}::test_the_released_model_stays_unless_a_candidate_beats_it_on_validation",),
          "a candidate that only ties the released model's validation accuracy replaces its files"),
    Break("release_incumbent_from_other_data_competes", "cifar_edge/export/release.py",
          'if incumbent and incumbent["data_sha256"] == rows[0]["data_sha256"] and incumbent["int8_mb"] <= max_mb',
          'if incumbent and incumbent["int8_mb"] <= max_mb',
          (f"{RELEASE}::test_the_released_model_stays_unless_a_candidate_beats_it_on_validation",),
          "a release trained on other data keeps its place on a validation score that does not compare"),
    Break("release_ignores_the_released_model", "cifar_edge/cli.py",
          'released_card = None if ignore_released or not (out / CARD).is_file() else read_json(out / CARD)',
          'released_card = None',
          (f"{RELEASE}::test_a_validation_mca_floor_scores_each_run_once_and_refuses_a_fragile_model",),
          "`cifar-edge release` chooses among the exports on this machine only and replaces a better release"),
    Break("release_candidates_from_other_data_mixed", "cifar_edge/export/release.py",
          "    if len({row[\"data_sha256\"] for row in rows}) > 1:", "    if False:",
          (f"{RELEASE}::test_candidates_trained_on_different_data_are_refused",),
          "validation accuracies on different data compared as if alike"),
    Break("release_cli_drops_force", "cifar_edge/cli.py",
          "card = run_release(export_dir, out=out, force=force,", "card = run_release(export_dir, out=out,",
          (f"{RELEASE}::test_an_existing_release_is_kept_without_force",),
          "`cifar-edge release --force` does not pass --force on"),

    # ------------------------------------------------------------------ the command line as a table
    Break("float_options_rounded", "cifar_edge/train/recipe.py",
          "return repr(value) if isinstance(value, float) else str(value)",
          'return f"{value:g}" if isinstance(value, float) else str(value)',
          (f"{CLI}::test_every_knob_is_an_option_and_its_recorded_command_reproduces_the_config",),
          "recorded commands write floats with 6 significant digits"),
    Break("knob_options_keep_underscores", "cifar_edge/train/recipe.py",
          'return field_name.replace("_", "-")', "return field_name",
          (f"{CLI}::test_every_knob_is_an_option_and_its_recorded_command_reproduces_the_config",
           f"{CLI}::test_no_knob_is_missing_from_the_help"),
          "options named --bn_momentum instead of --bn-momentum"),
    Break("help_quotes_a_measured_time", "cifar_edge/train/recipe.py",
          '"standard": ("30 epochs: what `make run` trains"',
          '"standard": ("30 epochs, 44 min on 2 cores: what `make run` trains"',
          (f"{CLI}::test_help_quotes_no_measured_number", f"{README}::test_cli_reference_is_current"),
          "a measured time quoted in --help (and docs/cli.md not regenerated)"),

    # ------------------------------------------------------------------ data
    Break("batches_left_channels_first", "cifar_edge/data.py",
          "data.reshape(-1, CHANNELS, INPUT_SIZE, INPUT_SIZE).transpose(0, 2, 3, 1)",
          "data.reshape(-1, CHANNELS, INPUT_SIZE, INPUT_SIZE)",
          (f"{DATA}::test_real_test_batch_has_official_shape_and_balance",),
          "batch rows reshaped to (N, 3, 32, 32) and never transposed"),
    Break("batch_rows_read_interleaved", "cifar_edge/data.py",
          "data.reshape(-1, CHANNELS, INPUT_SIZE, INPUT_SIZE).transpose(0, 2, 3, 1)",
          "data.reshape(-1, INPUT_SIZE, INPUT_SIZE, CHANNELS)",
          (f"{DATA}::test_real_archive_full_load_matches_official_layout",),
          "planar R, G, B rows read as interleaved RGB (right shape, wrong pixels)"),
    Break("validation_split_ignores_seed", "cifar_edge/data.py",
          "rng = np.random.default_rng(seed)", "rng = np.random.default_rng()",
          (f"{DATA}::test_validation_split_is_seeded_stratified_and_disjoint",),
          "the validation split is unseeded"),
    Break("truncated_gzip_not_caught", "cifar_edge/data.py",
          "except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:", "except tarfile.TarError as exc:",
          (f"{DATA}::test_truncated_archive_is_a_clear_error",),
          "a truncated archive's EOFError escapes"),
    Break("corrupt_archive_error_escapes", "cifar_edge/data.py",
          "except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:",
          "except (EOFError, zlib.error, OSError) as exc:",
          (f"{DATA}::test_corrupt_bytes_are_a_clear_error",),
          "tarfile.ReadError (not an OSError) left out of the caught errors"),
    Break("unpickler_falls_back_to_pickle", "cifar_edge/data.py",
          '            raise CifarEdgeError(f"refusing to unpickle {module}.{name}: a CIFAR-10 batch only holds "\n'
          '                                 "numpy arrays, lists and strings (is this file tampered with?)")\n',
          "            return super().find_class(module, name)  # anything else: pickle's default\n",
          (f"{DATA}::test_malicious_pickle_is_refused_and_nothing_runs",),
          "the safe unpickler falls back to pickle's own find_class"),
    Break("absolute_member_paths_allowed", "cifar_edge/data.py",
          'if path.is_absolute() or ".." in path.parts:', 'if ".." in path.parts:',
          (f"{DATA}::test_archive_members_escaping_the_folder_are_refused",),
          "archive members with absolute paths accepted"),
    Break("batch_width_unchecked", "cifar_edge/data.py",
          "or data.ndim != 2 or data.shape[1] != PIXELS:", "or data.ndim != 2:",
          (f"{DATA}::test_wrong_shapes_are_a_clear_error",),
          "a batch whose rows are not 3072 values long is not checked"),
    Break("missing_batches_unchecked", "cifar_edge/data.py",
          "    if missing:\n"
          "        raise CifarEdgeError(f\"{archive} lacks {', '.join(missing)}: is it cifar-10-python.tar.gz?\")\n",
          "",
          (f"{DATA}::test_archive_without_the_batches_says_what_is_missing",),
          "an archive without the batches ends in a KeyError"),
    Break("batches_parent_folder_not_followed", "cifar_edge/data.py",
          "folder = path / BATCHES_DIR if (path / BATCHES_DIR).is_dir() else path", "folder = path",
          (f"{DATA}::test_extracted_batches_folder_reads_like_the_archive",),
          "--data pointing at the parent of cifar-10-batches-py/ no longer works"),
    Break("unknown_class_folders_ignored", "cifar_edge/data.py",
          "    if unknown:\n"
          "        raise CifarEdgeError(f\"{folder} has unknown class folder(s) {', '.join(unknown)}; \"\n"
          "                             f\"expected some of: {', '.join(CLASSES)}\")\n", "",
          (f"{DATA}::test_image_folder_unknown_class_is_refused",),
          "a misspelt class folder silently ignored"),
    Break("image_size_message_swapped", "cifar_edge/data.py",
          "is {image.shape[1]}x{image.shape[0]}; CIFAR-10", "is {image.shape[0]}x{image.shape[1]}; CIFAR-10",
          (f"{DATA}::test_image_folder_wrong_size_is_refused",),
          "the wrong-size error gives height x width"),
    Break("image_folder_resizes_any_size", "cifar_edge/data.py",
          "    image = read_rgb(path)\n"
          "    if image.shape[:2] != (INPUT_SIZE, INPUT_SIZE):\n"
          "        raise CifarEdgeError(f\"{path} is {image.shape[1]}x{image.shape[0]}; CIFAR-10 images are \"\n"
          "                             f\"{INPUT_SIZE}x{INPUT_SIZE}\")\n"
          "    return image\n",
          "    from cifar_edge.edge_runtime.preprocess import to_model_input\n\n"
          "    return to_model_input(read_rgb(path))  # any size: resized as camera frames are\n",
          (f"{DATA}::test_image_folder_wrong_size_is_refused",
           f"{LAYOUT}::test_ground_floor_imports_no_subpackage"),
          "image-folder datasets resize pictures with the device code instead of refusing them"),
    Break("environment_beats_data_option", "cifar_edge/data.py",
          '((data, "--data"), (os.environ.get("CIFAR_EDGE_DATA"), "CIFAR_EDGE_DATA"))',
          '((os.environ.get("CIFAR_EDGE_DATA"), "CIFAR_EDGE_DATA"), (data, "--data"))',
          (f"{DATA}::test_data_option_beats_environment",),
          "$CIFAR_EDGE_DATA wins over --data"),
    Break("cache_ignores_xdg", "cifar_edge/data.py",
          'return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cifar-edge"',
          'return Path.home() / ".cache" / "cifar-edge"',
          (f"{DATA}::test_cache_folder_is_used_and_offline_error_says_where_to_put_the_file",),
          "the cache folder ignores $XDG_CACHE_HOME"),
    Break("download_leaves_part_file", "cifar_edge/data.py",
          "    finally:\n        if os.path.exists(tmp):\n            os.unlink(tmp)\n", "",
          (f"{DATA}::test_download_checks_md5_and_writes_atomically",
           f"{DATA}::test_download_offline_is_a_clear_error"),
          "a failed download leaves its .part file behind"),
    Break("download_written_in_place", "cifar_edge/data.py", DOWNLOAD_LOOP,
          DOWNLOAD_LOOP.replace(
              'fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")',
              "fd, tmp = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), str(dest)").replace(
              "os.replace(tmp, dest)", 'tmp = ""  # complete: keep it (the finally below deletes a failed one)'),
          (f"{DATA}::test_download_checks_md5_and_writes_atomically",),
          "the download is written straight to its final name and deleted if it fails (a killed download "
          "leaves half an archive, which the next run takes for the data)"),

    # ------------------------------------------------------------------ layout
    Break("tflite_interpreter_falls_back_to_tensorflow", "cifar_edge/edge_runtime/backends.py",
          "        raise CifarEdgeError(\"running .tflite models needs a TFLite interpreter: \"\n"
          "                             \"pip install ai-edge-litert\") from None\n",
          "        import tensorflow as tf  # where the training extras are installed\n\n"
          "        return tf.lite.Interpreter\n",
          (f"{LAYOUT}::test_device_side_imports_neither_training_nor_export_nor_tensorflow",),
          "TensorFlow's bundled interpreter brought back as a fallback on the device side"),
    Break("compare_reuses_the_trainers_predict", "cifar_edge/export/compare.py",
          "    from cifar_edge.train.model import logits_of\n\n"
          "    model = load_keras_model(export_dir / REFERENCE)\n"
          "    return logits_of(model, images, batch_size=500)\n",
          "    from cifar_edge.train.trainer import predict_logits\n\n"
          "    return predict_logits(load_keras_model(export_dir / REFERENCE), images)\n",
          (f"{LAYOUT}::test_export_imports_training_only_for_the_custom_layers",),
          "compare imports the trainer to reuse its predict helper"),
    Break("trainer_loads_checkpoints_with_the_exporter", "cifar_edge/train/trainer.py",
          'model = keras.models.load_model(run_dir / state["checkpoint"])',
          "from cifar_edge.export.exporter import load_keras_model\n\n"
          '            model = load_keras_model(run_dir / state["checkpoint"])',
          (f"{LAYOUT}::test_training_never_imports_export",),
          "the trainer imports the exporter's model loader"),
    Break("to_tflite_type_hint_import_circle", "cifar_edge/export/to_tflite.py",
          "from typing import Iterable\n",
          "from typing import TYPE_CHECKING, Iterable\n\n"
          "if TYPE_CHECKING:\n"
          "    from cifar_edge.export.exporter import Conversion  # noqa: F401  (for the converters' hints)\n",
          (f"{LAYOUT}::test_no_import_circle",),
          "to_tflite imports the exporter (for a type hint), which imports to_tflite"),
    Break("released_name_hard_coded", "cifar_edge/edge_runtime/released.py",
          "def released_model_path(name: str = RELEASED_MODEL) -> Path:",
          'def released_model_path(name: str = "cifar_edge_int8.tflite") -> Path:',
          (f"{LAYOUT}::test_each_part_of_the_contract_is_written_once",),
          "the released file name written out again instead of taken from the contract"),

    # ------------------------------------------------------------------ packaging
    Break("released_model_defaults_to_onnx", "cifar_edge/contract.py",
          'RELEASED_MODEL = RELEASED_FILES["tflite-int8"]', 'RELEASED_MODEL = RELEASED_FILES["onnx-fp32"]',
          (f"{PACKAGING}::test_the_wheel_carries_the_released_model_and_predict_uses_it",),
          "predict's default model is the float ONNX file, which the wheel does not carry"),

    # ------------------------------------------------------------------ README and results
    Break("ci_runs_only_the_fast_tests", ".ci/run", "\nmake test\n", "\nmake test-fast\n",
          (f"{README}::test_ci_runs_exactly_the_readme_test_command",),
          "CI runs `make test-fast`, not the README's `make test`"),
    Break("ci_no_longer_sets_ci", ".ci/run",
          'export CI="${CI:-true}"\n', "",
          (f"{README}::test_ci_runs_exactly_the_readme_test_command",),
          "CI stops setting CI, so a missing archive skips the data tests there instead of failing"),
    Break("release_check_rerun_readme_stale", "results/release_check.txt",
          # Its header, not a score: the scores change with every release, and the snippet would go stale.
          "runtime         accuracy  model card", "runtime         top-1     model card",
          (f"{README}::test_benchmark_outputs_are_quoted_verbatim",),
          "a benchmark re-run without updating the README"),
    Break("release_check_made_on_old_data", "results/release_check.txt",
          "data: sha256 a9eb80df4dda1f27", "data: sha256 c94eb8375fe30b4a",
          (f"{README}::test_every_quoted_result_was_made_on_the_shared_archive",),
          "a benchmark output made on the earlier archive committed to results/"),
    Break("released_card_table_edited_in_readme", "README.md",
          # The size, not a score or a latency: those change with every release and every compare.
          "| tflite-int8 | 2.02 MB | ", "| tflite-int8 | 2.0 MB | ",
          (f"{README}::test_the_released_model_card_is_quoted_only_if_made_on_the_shared_archive",),
          "the released model's compare table, made on this archive, rounded by hand in the README"),
    Break("run_record_copied_without_its_table", "results/standard_20ep_seed2/metrics.json",
          '"test_accuracy": 0.939,', '"test_accuracy": 0.9402,',
          (f"{README}::test_every_committed_run_is_in_the_quoted_results_table",),
          "a retrained run's record copied into results/ without regenerating the results table"),
    Break("compare_table_rerun_docs_stale", "results/standard_20ep/compare.md",
          "| tflite-int8 | 2.02 MB | 93.76% |", "| tflite-int8 | 2.02 MB | 93.77% |",
          (f"{README}::test_every_committed_compare_table_is_quoted",),
          "a run's export compared again without quoting its new table"),
    Break("quote_results_fences_markdown_tables", "docs/quote_results.py",
          'block = f"{body}\\n" if path.suffix == ".md" else f"```\\n{body}\\n```\\n"',
          'block = f"```\\n{body}\\n```\\n"',
          (f"{README}::test_quoted_results_are_current",),
          "the quoting script puts compare's Markdown tables in a code fence, unlike the pages it checks"),
    Break("results_table_mixes_data", "benchmarks/accuracy_vs_compute.py",
          "    if len(data) > 1:", "    if len(data) > 99:",
          (f"{BENCH}::test_results_table_refuses_runs_scored_on_different_data",),
          "the results table puts runs scored on different test sets side by side"),
    Break("seed_spread_mixes_data", "benchmarks/seed_spread.py",
          "    if len(data) != 1:", "    if len(data) > 99:",
          (f"{BENCH}::test_seed_spread_refuses_runs_scored_on_different_data",),
          "the seed spread averages runs scored on different test sets"),
    Break("step_timer_counts_the_warm_up", "benchmarks/train_speed.py",
          "self.end, self.timed_steps = time.perf_counter(), batch + 1 - self.warmup",
          "self.end, self.timed_steps = time.perf_counter(), batch + 1",
          (f"{BENCH}::test_the_step_timer_times_from_the_first_timed_step_so_one_step_is_enough",),
          "train_speed counts the untimed warm-up steps' images in the timed seconds (a rate too high)"),
    Break("seed_spread_compares_preset_names", "benchmarks/seed_spread.py",
          "for config in configs[1:]):", "for config in configs[1:]) or len({c.preset for c in configs}) > 1:",
          (f"{BENCH}::test_seed_spread_takes_one_recipe_under_any_preset_name_and_refuses_two",),
          "the seed spread refuses the best preset's two seeds, one recorded under the recipe's earlier name"),
    Break("seed_spread_ignores_the_recipe", "benchmarks/seed_spread.py",
          "    if any(set(changed_knobs(configs[0], config))", "    if False and any(set(changed_knobs(configs[0], config))",
          (f"{BENCH}::test_seed_spread_takes_one_recipe_under_any_preset_name_and_refuses_two",),
          "the seed spread averages runs of different recipes as if they were seeds"),
    Break("jpeg_quality_ignores_quality", "benchmarks/jpeg_quality.py",
          "params = [cv2.IMWRITE_JPEG_QUALITY, quality,", "params = [cv2.IMWRITE_JPEG_QUALITY, 75,",
          (f"{BENCH}::test_jpeg_round_trip_keeps_shape_and_loses_more_at_lower_quality",),
          "the JPEG benchmark encodes every quality at 75"),
    Break("jpeg_agreement_against_labels", "benchmarks/jpeg_quality.py",
          '"agreement": float(np.mean(predicted == clean)),', '"agreement": float(np.mean(predicted == labels)),',
          (f"{BENCH}::test_jpeg_measure_counts_accuracy_and_agreement_against_the_clean_predictions",),
          "agreement counted against the labels (it is accuracy again)"),
    Break("command_list_keeps_docstring_line_breaks", "cifar_edge/cli.py",
          "summarise_commands_in_one_line(app)\n", "\n",
          (f"{CLI}::test_the_list_of_commands_gives_each_summary_as_one_paragraph",),
          "`cifar-edge --help` lists the commands with their docstrings' line breaks, mid-sentence"),
    Break("cli_help_changed_readme_stale", "cifar_edge/cli.py",
          'help="How many classes to show per image."',
          'help="How many of the most likely classes to show per image."',
          (f"{README}::test_cli_reference_is_current",),
          "an option's help edited without regenerating the CLI reference (docs/cli.md)"),

    # ------------------------------------------------------------------ recipe: presets and options
    Break("wide_preset_runs_longer", "cifar_edge/train/recipe.py",
          "dict(widths=(128, 384, 384), epochs=14)", "dict(widths=(128, 384, 384), epochs=20)",
          (f"{RECIPE}::test_presets_exist_and_grow_in_cost",
           f"{README}::test_every_committed_run_records_a_command_that_reproduces_it"),
          "the wide preset's epochs changed (it now costs more than long, and its committed runs' "
          "commands no longer reproduce them)"),
    Break("none_overrides_the_preset", "cifar_edge/train/recipe.py",
          "**{k: v for k, v in overrides.items() if v is not None})", "**overrides)",
          (f"{RECIPE}::test_any_option_overrides_a_preset_and_none_keeps_it",),
          "options left unset (None) replace the preset's values"),
    Break("zero_epochs_allowed", "cifar_edge/train/recipe.py",
          "config.epochs < 1", "config.epochs < 0",
          (f"{RECIPE}::test_bad_options_are_clear_errors",),
          "--epochs 0 accepted"),
    Break("command_compared_with_the_defaults", "cifar_edge/train/recipe.py",
          "preset = PRESETS[config.preset]", "preset = TrainConfig()",
          (f"{RECIPE}::test_the_recorded_command_names_the_preset_and_what_differs",),
          "the recorded command lists what differs from the defaults, not from the preset"),
    Break("old_records_need_every_field", "cifar_edge/train/recipe.py",
          "        return cls(**values)\n",
          "        return cls(**{f.name: values[f.name] for f in dataclasses.fields(cls) if f.name != \"preset\"},\n"
          "                   preset=values.get(\"preset\", \"standard\"))\n",
          (f"{RECIPE}::test_old_records_read_back_with_the_defaults_of_newer_fields",),
          "TrainConfig.from_dict requires every field (records made before a field existed fail)"),

    # ------------------------------------------------------------------ recipe: optimiser, augmentation, model
    Break("slow_weights_share_the_buffer", "cifar_edge/train/optim.py",
          "slow.assign(ops.copy(v))", "slow.assign(v)",
          (f"{TRAINER}::test_a_run_trained_on_another_backend_loads_exports_and_compares_under_tensorflow",),
          "lookahead's slow weights start as the very arrays of the fast ones (JAX refuses to donate them twice)"),
    Break("lookahead_reads_variables_raw", "cifar_edge/train/optim.py",
          "new_slow = ops.where(sync, slow + (1 - decay) * (fast - slow), slow)",
          "new_slow = ops.where(sync, slow_variable + (1 - decay) * (variable - slow_variable), slow_variable)",
          (f"{TRAINER}::test_a_run_trained_on_another_backend_loads_exports_and_compares_under_tensorflow",),
          "lookahead hands Keras variables to `where` (JAX 0.10 refuses them)"),
    Break("nchw_bias_over_width", "cifar_edge/train/model.py",
          "ops.reshape(self.bias, (-1, 1, 1))", "ops.reshape(self.bias, (1, 1, -1))",
          (f"{RECIPE}::test_the_nchw_twin_computes_what_the_nhwc_network_does_with_its_weights",),
          "the NCHW twin adds its BatchNorm shifts along the width instead of the channels"),
    Break("nchw_twin_skips_the_transpose", "cifar_edge/train/model.py",
          'x = layers.Permute((3, 1, 2), name="to_nchw")(x)', 'x = layers.Permute((1, 2, 3), name="to_nchw")(x)',
          (f"{RECIPE}::test_the_nchw_twin_computes_what_the_nhwc_network_does_with_its_weights",),
          "the NCHW twin reads NHWC pixels as NCHW"),
    Break("resume_ignores_the_backend", "cifar_edge/train/trainer.py",
          "        if backend != keras.backend.backend():", "        if False:",
          (f"{TRAINER}::test_resume_on_another_keras_backend_is_refused",),
          "a torch checkpoint (NCHW) resumed under TensorFlow, which cannot run it on a CPU"),
    Break("epoch_arrays_keep_the_partial_batch", "cifar_edge/train/augment.py",
          "whole = len(split) // batch_size * batch_size", "whole = len(split)",
          (f"{RECIPE}::test_an_epoch_is_cut_to_whole_batches_the_schedule_counts",),
          "each epoch's last, partial batch is trained on (the schedule counts whole batches)"),
    Break("schedule_off_by_one_step", "cifar_edge/train/optim.py",
          'frac = ops.cast(step, "float32") / self.total_steps',
          'frac = ops.cast(step, "float32") / (self.total_steps - 1)',
          (f"{RECIPE}::test_triangular_schedule_warms_up_then_decays",),
          "the schedule's progress divides by total_steps - 1"),
    Break("lookahead_last_step_not_synced", "cifar_edge/train/optim.py",
          "sync = ops.logical_or(ops.equal(ops.mod(step, self.sync_every), 0), step >= self.total_steps)",
          "sync = ops.equal(ops.mod(step, self.sync_every), 0)",
          (f"{RECIPE}::test_lookahead_follows_the_schedule_and_ends_on_the_averaged_weights",),
          "lookahead does not sync at the last step (the model is not the averaged one)"),
    Break("decay_on_the_gradient", "cifar_edge/train/optim.py",
          "gradient = gradient + self.coupled_decay * variable",
          "gradient = gradient + self.coupled_decay * gradient",
          (f"{RECIPE}::test_coupled_decay_shrinks_weights_without_gradient",),
          "weight decay multiplies the gradient instead of the weights"),
    Break("scaled_bias_divides", "cifar_edge/train/model.py",
          "return x + self.scale * bias", "return x + bias / self.scale",
          (f"{RECIPE}::test_scaled_bias_learns_scale_squared_faster",),
          "ScaledBias divides by its scale (bias learns 64x slower, not faster)"),
    Break("translation_misses_an_offset", "cifar_edge/train/augment.py",
          "for oy in range(2 * pad + 1):", "for oy in range(2 * pad):",
          (f"{RECIPE}::test_translation_shifts_content_by_at_most_pad",),
          "the largest vertical shift is never copied (those images are left uninitialised)"),
    Break("flip_not_alternating", "cifar_edge/train/augment.py",
          " ^ bool(view % 2)", "",
          (f"{RECIPE}::test_alternating_flip_and_determinism",),
          "every epoch flips the same images"),
    Break("cutout_one_row_too_tall", "cifar_edge/train/augment.py",
          "(rows < y[:, None] + size)", "(rows <= y[:, None] + size)",
          (f"{RECIPE}::test_cutout_paints_one_square_of_mean_colour",),
          "cutout paints size + 1 rows"),
    Break("model_input_float32", "cifar_edge/train/model.py",
          'dtype="uint8", name="image"', 'dtype="float32", name="image"',
          (f"{RECIPE}::test_model_takes_uint8_rgb_and_returns_ten_logits",),
          "the network takes float32, not the contract's uint8"),
    Break("standard_widths_wrong", "cifar_edge/train/recipe.py",
          'knob((64, 256, 256), "Channels', 'knob((64, 192, 256), "Channels',
          (f"{RECIPE}::test_standard_network_has_airbench94_size",),
          "the standard network's widths mistyped"),
    Break("whitening_weakest_first", "cifar_edge/train/model.py",
          "(eigenvectors / np.sqrt(eigenvalues + eps)).T[::-1]", "(eigenvectors / np.sqrt(eigenvalues + eps)).T",
          (f"{RECIPE}::test_whitening_kernel_decorrelates_patches",),
          "whitening filters in eigh's ascending order (weakest direction first)"),
    Break("recalibration_momentum_inverted", "cifar_edge/train/model.py",
          "layer.momentum = k / (k + 1)", "layer.momentum = 1 / (k + 1)",
          (f"{RECIPE}::test_batchnorm_recalibration_averages_the_batch_statistics",),
          "BatchNorm recalibration uses torch's momentum convention in Keras"),
    Break("empty_quote_swallows_the_page", "docs/quote_results.py",
          r"(?:.*?\n)??```", r"(?:.*?\n)?```",
          (f"{README}::test_an_empty_quote_block_is_filled_and_the_text_after_it_kept",),
          "an empty quote block runs on to the next fence on the page, deleting the text between"),
    Break("residual_left_out", "cifar_edge/train/model.py",
          'x = layers.Add(name=f"{name}_residual")([x, shortcut])', 'x = layers.Add(name=f"{name}_residual")([x, 0 * shortcut])',
          (f"{RECIPE}::test_a_third_convolution_per_group_is_bypassed_by_a_residual",),
          "airbench96's group built without its residual (the shortcut multiplied away)"),
    Break("residual_from_the_wrong_layer", "cifar_edge/train/model.py",
          "    shortcut = x\n    x = gelu(f\"{name}_act2\")(norm(conv(filters, f\"{name}_conv2\", channels_first)(x), \"2\"))\n",
          "    x = gelu(f\"{name}_act2\")(norm(conv(filters, f\"{name}_conv2\", channels_first)(x), \"2\"))\n    shortcut = x\n",
          (f"{RECIPE}::test_a_third_convolution_per_group_is_bypassed_by_a_residual",),
          "the residual carries the second conv's activation rather than the pooled one"),
    Break("fused_batchnorm_momentum_inverted", "cifar_edge/train/model.py",
          "self.moving_mean * self.momentum + mean * (1 - self.momentum)",
          "self.moving_mean * (1 - self.momentum) + mean * self.momentum",
          (f"{RECIPE}::test_the_training_twin_normalises_and_updates_its_statistics_as_keras_batchnorm_does",),
          "the trainer's fused BatchNorm moves its mean with torch's momentum convention"),
    Break("fused_batchnorm_unbiased_variance", "cifar_edge/train/model.py",
          "        variance = variance * (count - 1) / count\n", "",
          (f"{RECIPE}::test_the_training_twin_normalises_and_updates_its_statistics_as_keras_batchnorm_does",),
          "the trainer's fused BatchNorm averages the unbiased variance, Keras' the biased one"),
    Break("calibration_images_clean", "cifar_edge/train/trainer.py",
          "images, _ = augmented_epoch(train_split, config.seed, config.epochs, config.translate, config.cutout,\n"
          "                                camera=camera_augment(config))",
          "images = train_split.images.copy()",
          (f"{RECIPE}::test_batchnorm_statistics_are_estimated_on_the_images_training_saw",),
          "the 'augmented' BatchNorm statistics are estimated on the clean images"),
    Break("calibration_without_camera_augmentations", "cifar_edge/train/trainer.py",
          "config.cutout,\n                                camera=camera_augment(config))",
          "config.cutout)",
          (f"{RECIPE}::test_batchnorm_statistics_are_estimated_on_the_images_training_saw",),
          "the augmented calibration epoch leaves out the noise the training images had"),
    Break("calibration_keeps_the_worse_statistics", "cifar_edge/train/trainer.py",
          "chosen = max(scored, key=lambda name: scored[name][0] or 0)",
          "chosen = min(scored, key=lambda name: scored[name][0] or 0)",
          (f"{RECIPE}::test_the_trainer_keeps_the_batchnorm_statistics_validation_prefers",),
          "the trainer keeps the BatchNorm statistics validation liked less"),
    Break("calibration_keeps_the_last_statistics", "cifar_edge/train/trainer.py",
          "    for layer, weights in zip(norms, statistics):\n        layer.set_weights(weights)\n", "",
          (f"{RECIPE}::test_the_trainer_keeps_the_batchnorm_statistics_validation_prefers",),
          "the chosen statistics are recorded but the model keeps the last ones estimated"),

    # ------------------------------------------------------------------ trainer and its CLI
    Break("checkpoint_files_left_behind", "cifar_edge/train/trainer.py",
          'for leftover in [run_dir / CHECKPOINT_STATE, *run_dir.glob("checkpoint-epoch*.keras"),',
          "for leftover in [run_dir / CHECKPOINT_STATE,",
          (f"{TRAINER}::test_smoke_training_writes_every_artifact",),
          "a finished run leaves its last checkpoint .keras behind"),
    Break("tta_reported_as_plain", "cifar_edge/train/trainer.py",
          '"test_accuracy": evaluation.accuracy(test_logits, test_split.labels),',
          '"test_accuracy": evaluation.accuracy(test_tta_logits, test_split.labels),',
          (f"{TRAINER}::test_saved_model_is_float32_and_reproduces_the_reported_accuracy",),
          "the flip-TTA accuracy reported as the plain one"),
    Break("finished_run_check_dropped", "cifar_edge/train/trainer.py",
          "    elif (run_dir / FINISHED_MARKER).exists():\n"
          "        raise CifarEdgeError(f\"{run_dir} holds a finished run; pass --force to overwrite it \"\n"
          "                             \"or --name to train another\")\n", "",
          (f"{TRAINER}::test_finished_run_is_not_overwritten_without_force",),
          "a finished run is trained over without --force"),
    Break("resumed_history_dropped", "cifar_edge/train/trainer.py",
          'history = list(state["history"]) if state else []', "history = []",
          (f"{TRAINER}::test_killed_run_resumes_from_its_last_epoch_with_the_same_schedule",),
          "a resumed run forgets the history of the epochs before the kill"),
    Break("resume_compares_network_knobs_only", "cifar_edge/train/recipe.py",
          "return [f.name for f in knobs() if", "return [f.name for f in knobs()[:6] if",
          (f"{TRAINER}::test_resume_with_other_options_is_refused",),
          "resuming with other epochs (or any non-network option) is not refused"),
    Break("force_keeps_finished_runs", "cifar_edge/train/trainer.py",
          "if force and run_dir.exists():", "if force and state_path.exists():",
          (f"{TRAINER}::test_cli_options_override_the_preset_are_recorded_and_force_starts_over",),
          "--force clears only unfinished runs"),
    Break("errors_printed_to_stdout", "cifar_edge/cli.py",
          'typer.echo(f"error: {exc}", err=True)\n        sys.exit(',
          'typer.echo(f"error: {exc}")\n        sys.exit(',
          (f"{TRAINER}::test_cli_errors_are_one_line_without_traceback",
           f"{TRAINER}::test_the_real_command_reports_an_error_in_one_line"),
          "the CLI prints its error line on stdout"),
    Break("data_info_per_class_copy_paste", "cifar_edge/cli.py",
          '"per_class": split.class_counts()}', '"per_class": dataset.train.class_counts()}',
          (f"{TRAINER}::test_cli_data_info_reports_counts_and_sha",),
          "`data info` gives the train split's class counts for both splits"),
    Break("resume_option_renamed", "cifar_edge/cli.py",
          "resume: bool = typer.Option(False, help=", 'resume: bool = typer.Option(False, "--continue", help=',
          (f"{TRAINER}::test_help_explains_the_commands",),
          "--resume renamed --continue"),
    Break("mirrored_on_physical_devices", "cifar_edge/train/trainer.py",
          'devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")',
          'devices = tf.config.list_physical_devices("GPU") or tf.config.list_physical_devices("CPU")',
          (f"{TRAINER}::test_mirrored_strategy_trains_across_two_logical_cpus",),
          "MirroredStrategy given the physical devices (one CPU, named /physical_device:CPU:0)"),
    Break("training_ignores_the_strategy", "cifar_edge/train/trainer.py",
          "with strategy.scope() if strategy else contextlib.nullcontext():",
          "with contextlib.nullcontext():",
          (f"{TRAINER}::test_mirrored_strategy_trains_across_two_logical_cpus",),
          "train() never enters the strategy's scope: --distribute mirrored trains on one device"),
    Break("onnx_gelu_left_unfused", "cifar_edge/export/to_onnx.py",
          "return fuse_gelu(keras_to_onnx_unfused(model))",
          "return keras_to_onnx_unfused(model).SerializeToString()",
          (f"{EXPORT}::test_onnx_files_hold_one_gelu_node_per_activation",),
          "the GELU fusion dropped: the int8 ONNX file is wrapped in quantize/dequantize pairs again"),
    Break("agreement_against_itself", "cifar_edge/edge_runtime/device_check.py",
          '"top1_agreement": float(np.mean(mine_pred == their_pred)),',
          '"top1_agreement": float(np.mean(mine_pred == mine_pred)),',
          (f"{DEVICE}::test_agreement_counts_classes_and_int8_steps",),
          "eval --against compares a machine's classes with its own"),
    Break("predictions_of_other_data_accepted", "cifar_edge/edge_runtime/device_check.py",
          '(("model_sha256", "model file"), ("data_sha256", "test data"), ("images", "number of images"))',
          '(("model_sha256", "model file"), ("images", "number of images"))',
          (f"{DEVICE}::test_a_file_of_another_model_or_data_is_refused",),
          "eval --against accepts a predictions file made on other data"),
    Break("arm64_check_of_other_files_recorded", "cifar_edge/export/release.py",
          'if entry["model_sha256"] != card["files"][fmt]["sha256"]:',
          "if False:",
          (f"{RELEASE}::test_the_arm64_check_goes_into_both_cards_for_the_released_files_only",),
          "the model card takes an arm64 check of files other than the released ones"),
    Break("window_never_drawn", "cifar_edge/camera_demo/app.py",
          "    show = problem is None\n", "    show = False\n",
          (f"{WINDOW}::test_window_shows_the_frames_and_closes_cleanly",),
          "the window opens but no frame is ever shown in it"),
    Break("corruption_seed_ignored", "cifar_edge/robustness/corruptions.py",
          "np.random.default_rng([seed,", "np.random.default_rng([0,",
          (f"{CORRUPT}::test_a_different_seed_changes_exactly_the_random_corruptions",),
          "every seed gives the same corrupted set"),
    Break("mca_averages_the_camera_conditions_too", "cifar_edge/robustness/score.py",
          "standard = [name for name in names if name in CIFAR10_C]", "standard = list(names)",
          (f"{ROBUST}::test_the_summary_is_the_means_the_protocol_defines",
           f"{ROBUST}::test_smoke_run_on_a_small_slice_writes_every_output"),
          "the mean corruption accuracy averages in low light, framing and colour cast"),
    Break("stale_cached_set_of_another_size_reused", "cifar_edge/robustness/sets.py",
          "lambda saved: saved.shape == images.shape and saved.dtype == np.uint8",
          "lambda saved: True",
          (f"{ROBUST}::test_sets_are_cached_reused_and_remade_when_damaged_or_of_another_size",),
          "a cached set of other images is read back without a look at its shape"),
    Break("float_reference_not_added", "cifar_edge/robustness/score.py",
          "    if reference and reference not in wanted:\n        wanted.insert(0, reference)\n", "",
          (f"{ROBUST}::test_files_and_corruptions_are_chosen_and_unknown_ones_refused",),
          "--formats tflite-int8 scores no float model, so there is no int8-float gap"),
    Break("robustness_traceback_on_a_failing_corruption", "cifar_edge/robustness/sets.py",
          "    except Exception as error:", "    except ZeroDivisionError as error:",
          (f"{ROBUST}::test_a_failing_corruption_is_one_clear_error_not_a_traceback",),
          "a corruption that raises on odd input ends in a traceback"),
    # The corruption table and generator, the CLI's quiet Keras start-up, the release card and the caches.
    Break("cifar10_c_counts_low_light_as_its_sixteenth", "cifar_edge/robustness/corruptions.py",
          "CIFAR10_C = tuple(CORRUPTIONS)[:15]", "CIFAR10_C = tuple(CORRUPTIONS)[:16]",
          (f"{CORRUPT}::test_the_table_lists_cifar10_c_in_order_then_the_camera_conditions",),
          "an off-by-one slice puts the first camera condition among the fifteen CIFAR-10-C corruptions"),
    Break("pixelate_never_scaled_back_up", "cifar_edge/robustness/corruptions.py",
          "    return np.stack([cv2.resize(cv2.resize(image, (small, small), interpolation=cv2.INTER_AREA),\n"
          "                                (size, size), interpolation=cv2.INTER_AREA) for image in x])",
          "    return np.stack([cv2.resize(image, (small, small), interpolation=cv2.INTER_AREA) for image in x])",
          (f"{CORRUPT}::test_every_corruption_gives_a_uint8_batch_of_the_same_shape",),
          "pixelate returns the area-averaged images at their small size, not back at 32x32"),
    Break("corrupted_pixels_cast_to_signed_int8", "cifar_edge/robustness/corruptions.py",
          "np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)", "np.clip(np.rint(x * 255), 0, 255).astype(np.int8)",
          (f"{CORRUPT}::test_clipping_keeps_extremes_at_the_ends_of_the_range",
           f"{CORRUPT}::test_every_corruption_gives_a_uint8_batch_of_the_same_shape"),
          "int8 typed for uint8: every value above 127, white included, wraps round to a negative one"),
    Break("frost_sheet_drawn_unseeded", "cifar_edge/robustness/corruptions.py",
          "    sheet = frost_sheet(rng)\n", "    sheet = frost_sheet(np.random.default_rng())\n",
          (f"{CORRUPT}::test_the_same_seed_gives_the_same_output",),
          "frost's crystal sheet comes from a fresh unseeded generator: each run gives other frost"),
    Break("corruption_seeded_by_salted_hash", "cifar_edge/robustness/corruptions.py",
          "zlib.crc32(name.encode())", "hash(name) & 0xFFFFFFFF",
          (f"{CORRUPT}::test_each_set_has_its_own_numbers_and_keeps_them_across_processes",),
          "the generator is seeded from Python's hash() of the name, salted per process"),
    Break("shot_noise_photons_listed_mildest_last", "cifar_edge/robustness/corruptions.py",
          "(500, 250, 100, 75, 50)", "(50, 75, 100, 250, 500)",
          (f"{CORRUPT}::test_severity_one_changes_images_less_than_severity_five",),
          "shot noise's photon counts listed in increasing order: severity 5 is the mildest"),
    Break("empty_batch_not_special_cased", "cifar_edge/robustness/corruptions.py",
          "    if len(images) == 0:\n        return images.copy()\n", "",
          (f"{CORRUPT}::test_an_empty_batch_and_a_single_image_work",),
          "the early return for no images dropped: snow's np.stack of nothing raises"),
    Break("true_accepted_as_severity_one", "cifar_edge/robustness/corruptions.py",
          "if isinstance(severity, bool) or not", "if not",
          (f"{CORRUPT}::test_bad_input_is_a_one_line_error",),
          "the bool check dropped: severity=True passes as 1"),
    Break("robustness_prints_tensorflow_start_up_lines", "cifar_edge/cli.py",
          'KERAS_COMMANDS = {"train", "export", "compare", "release", "robustness"}',
          'KERAS_COMMANDS = {"train", "export", "compare", "release"}',
          (f"{ROBUST}::test_scoring_the_keras_model_keeps_tensorflow_start_up_lines_off_the_screen",),
          "the robustness command was added without adding it to the commands that import Keras quietly"),
    Break("quick_look_recorded_in_the_release_card", "cifar_edge/robustness/score.py",
          "    if limit:  # a quick look on part of the test set: no model card quotes it\n        return result\n",
          "",
          (f"{ROBUST}::test_a_release_folder_is_scored_against_its_float_onnx_and_its_card_takes_the_summary",),
          "the --limit early return dropped: a 20-image quick look replaces the release card's robustness section"),
    Break("saved_predictions_checked_against_the_image_shape", "cifar_edge/robustness/score.py",
          "lambda saved: saved.shape == (len(images),)", "lambda saved: saved.shape == images.shape",
          (f"{ROBUST}::test_a_second_run_reads_the_predictions_the_first_saved",),
          "the sets' shape check copied for predictions: a saved file never fits, every file is scored again"),
    Break("release_card_takes_a_report_of_any_files", "cifar_edge/export/release.py",
          'if not scored or any(entry["sha256"] != card["files"][fmt]["sha256"] for fmt, entry in scored.items()):',
          "if not scored:",
          (f"{ROBUST}::test_a_release_card_refuses_a_report_of_other_files",),
          "the release card takes a robustness report by format name, without comparing the files' hashes"),
    Break("cache_folder_ignores_the_split", "cifar_edge/robustness/sets.py",
          'f"{data_sha256[:16]}-{split}-{count}img', 'f"{data_sha256[:16]}-test-{count}img',
          (f"{ROBUST}::test_the_cache_folder_names_what_decides_the_pixels",),
          "the split parameter added but the folder name still says test: validation sets overwrite test sets"),
    Break("camera_augment_shares_the_epoch_stream", "cifar_edge/train/augment.py",
          "camera_augment(images, np.random.default_rng([seed, epoch, 1]), camera)",
          "camera_augment(images, rng, camera)",
          (f"{RECIPE}::test_camera_augment_noises_and_blurs_its_shares_and_leaves_the_rest_as_before",),
          "the noise draws from the epoch's stream, so turning it on reorders the epoch"),
    Break("noise_on_every_image", "cifar_edge/train/augment.py",
          "noisy = np.flatnonzero(draw < augment.noise_fraction)", "noisy = np.arange(len(images))",
          (f"{RECIPE}::test_camera_augment_noises_and_blurs_its_shares_and_leaves_the_rest_as_before",),
          "--noise-fraction is ignored: every image gets noise"),
    Break("validation_sets_share_the_test_seed", "cifar_edge/robustness/validation.py",
          "VAL_SEED = 1", "VAL_SEED = 0",
          (f"{BENCH}::test_robust_training_scores_each_candidate_on_corrupted_validation_images",
           f"{RELEASE}::test_a_validation_mca_floor_scores_each_run_once_and_refuses_a_fragile_model"),
          "the candidates are chosen on corruptions drawn like the test sets'"),
    Break("release_ignores_the_mca_floor", "cifar_edge/export/release.py",
          ' and row.get("robust", True)]', ']',
          (f"{RELEASE}::test_a_validation_mca_floor_scores_each_run_once_and_refuses_a_fragile_model",),
          "--min-val-mca is scored and printed but a fragile model is released anyway"),
    Break("validation_robustness_rescored_every_time", "cifar_edge/robustness/validation.py",
          'if saved.get("model_sha256") == model_sha256', 'if False',
          (f"{RELEASE}::test_a_validation_mca_floor_scores_each_run_once_and_refuses_a_fragile_model",),
          "each release scores every candidate's 90 validation sets again (minutes a run)"),
    Break("distill_weight_ignored", "cifar_edge/train/distill.py",
          "return (1 - self.weight) * hard + self.weight", "return hard + self.weight",
          (f"{DISTILL}::test_the_soft_term_is_t_squared_times_the_kl_divergence_and_zero_at_the_teachers_own_answer",),
          "the label loss keeps its full weight beside the distillation term"),
    Break("temperature_not_squared", "cifar_edge/train/distill.py",
          "self.weight * self.temperature ** 2 * soft", "self.weight * soft",
          (f"{DISTILL}::test_the_soft_term_is_t_squared_times_the_kl_divergence_and_zero_at_the_teachers_own_answer",),
          "the soft term's gradients shrink with the temperature (no T squared)"),
    Break("teacher_of_other_data_accepted", "cifar_edge/train/distill.py",
          "        if sha != data_sha256:\n", "        if False:\n",
          (f"{DISTILL}::test_a_teacher_of_other_data_or_classes_or_unfinished_is_refused",),
          "a teacher trained on another archive is used"),
    Break("teacher_sees_unaugmented_images", "cifar_edge/train/trainer.py",
          "else targets(uncorrupted[0], onehot_labels))",
          "else targets(train_split.images[:len(images)], onehot_labels))",
          (f"{DISTILL}::test_a_distilled_smoke_run_records_its_teacher_and_resumes_after_a_stop",),
          "the teacher answers on the clean, unshuffled images, not the batch the student sees"),
    Break("distillation_drops_the_label_smoothing", "cifar_edge/train/distill.py",
          "label_smoothing=self.label_smoothing)", ")",
          (f"{DISTILL}::test_with_weight_zero_the_loss_is_the_plain_recipes",),
          "the distillation loss's label term forgets the recipe's label smoothing"),
    Break("teachers_summed_not_averaged", "cifar_edge/train/distill.py",
          "(total / len(teachers))", "total",
          (f"{DISTILL}::test_teachers_average_their_probabilities",),
          "an ensemble's probabilities are added up, not averaged, so two teachers' targets sum to 2"),
    Break("augmix_leaves_pythons_random_seeded", "cifar_edge/train/augment.py",
          "        random.setstate(state)\n", "        pass\n",
          (f"{RECIPE}::test_augmix_changes_its_share_alike_for_a_seed_and_leaves_pythons_random_stream_alone",),
          "AugMix seeds Python's `random` for Keras and leaves it seeded: the caller's stream repeats"),
    Break("onednn_rewrite_never_switched_off", "cifar_edge/train/trainer.py",
          '{"auto_mixed_precision_onednn_bfloat16": onednn})',
          '{"auto_mixed_precision_onednn_bfloat16": True} if onednn else {})',
          (f"{RECIPE}::test_onednn_bfloat16_keeps_a_float32_model_and_float32_turns_the_rewrite_off",),
          "the oneDNN bfloat16 rewrite is switched on for onednn_bfloat16 and never off again"),
    Break("teachers_not_recorded", "cifar_edge/train/trainer.py",
          "teachers=[teacher.record() for teacher in teachers])", "teachers=[])",
          (f"{DISTILL}::test_a_distilled_smoke_run_records_its_teacher_and_resumes_after_a_stop",),
          "metrics.json does not say which teacher taught the run"),
    Break("teacher_views_asked_every_epoch", "cifar_edge/train/distill.py",
          "if key not in self.answers or self.answers[key].shape != (len(images), len(CLASSES)):", "if True:",
          (f"{DISTILL}::test_with_teacher_views_the_teacher_answers_each_view_once_even_across_a_resume",),
          "--teacher-views keeps the answers but asks the teachers again anyway"),
    Break("teacher_view_geometry_from_the_epoch", "cifar_edge/train/augment.py",
          "rng = np.random.default_rng([seed, view])", "rng = np.random.default_rng([seed, epoch])",
          (f"{DISTILL}::test_a_teacher_view_replays_its_epochs_shifts_flips_cutout_and_order_under_fresh_noise",),
          "a replayed view draws new shifts, so the kept answers are about other images"),
    Break("teacher_view_noise_from_the_view", "cifar_edge/train/augment.py",
          "camera_augment(images, np.random.default_rng([seed, epoch, 1]), camera)",
          "camera_augment(images, np.random.default_rng([seed, view, 1]), camera)",
          (f"{DISTILL}::test_a_teacher_view_replays_its_epochs_shifts_flips_cutout_and_order_under_fresh_noise",),
          "a replayed view replays its noise too: the camera augmentations repeat every K epochs"),
    Break("teacher_views_without_a_teacher_accepted", "cifar_edge/train/recipe.py",
          "if config.teacher_views < 0 or (config.teacher_views and not config.teacher):",
          "if config.teacher_views < 0:",
          (f"{DISTILL}::test_teacher_views_need_a_teacher_and_a_count",),
          "--teacher-views without --teacher is silently ignored"),
    Break("teacher_views_file_left_behind", "cifar_edge/train/trainer.py",
          "                     *run_dir.glob(TeacherViews.FILE)]:", "                     ]:",
          (f"{DISTILL}::test_with_teacher_views_the_teacher_answers_each_view_once_even_across_a_resume",),
          "a finished run leaves its kept teacher answers behind"),
    Break("teacher_views_of_another_start_kept", "cifar_edge/train/trainer.py",
          "    (run_dir / TeacherViews.FILE).unlink(missing_ok=True)\n", "",
          (f"{DISTILL}::test_with_teacher_views_the_teacher_answers_each_view_once_even_across_a_resume",),
          "a fresh run trusts answers an earlier, killed start left in the folder"),
    Break("teachers_answer_in_float32", "cifar_edge/train/trainer.py",
          "load_teachers(config.teacher, dataset.sha256, keras.mixed_precision.global_policy().name)",
          "load_teachers(config.teacher, dataset.sha256)",
          (f"{DISTILL}::test_a_distilled_smoke_run_records_its_teacher_and_resumes_after_a_stop",),
          "the teachers answer in float32 while the student trains in bfloat16 (caught where the CPU or GPU "
          "computes in bfloat16, where auto picks it)"),
    Break("teacher_rebuilt_without_its_weights", "cifar_edge/train/distill.py",
          "    rebuilt.set_weights(model.get_weights())\n", "",
          (f"{DISTILL}::test_a_teacher_answers_in_the_students_precision_with_its_own_weights",),
          "a teacher rebuilt for bfloat16 answers with freshly initialised weights"),
    Break("logits_of_drops_the_last_partial_batch", "cifar_edge/train/model.py",
          "for start in range(0, len(images), batch_size)])",
          "for start in range(0, len(images) - batch_size + 1, batch_size)])",
          (f"{RECIPE}::test_logits_of_gives_predicts_outputs_batch_by_batch_and_none_for_no_images",),
          "the last, partial batch of a scoring is never scored: 10,000 test images in batches of 1000 pass, 50 in 16s not"),
    Break("teacher_answers_compares_float32_with_itself", "benchmarks/teacher_answers.py",
          "replace(teacher, model=computing_in(teacher.model, precision))",
          "replace(teacher, model=teacher.model)",
          (f"{BENCH}::test_teacher_answers_times_both_precisions_and_measures_what_bfloat16_changes",),
          "the benchmark's bfloat16 row times the float32 teacher again"),
    # Which machine a run trained on, and where its latencies were timed.
    Break("trainer_records_no_accelerator", "cifar_edge/train/trainer.py",
          '"machine": {**provenance.machine_info(), "accelerator": training_accelerator()},',
          '"machine": provenance.machine_info(),',
          (f"{TRAINER}::test_smoke_training_writes_every_artifact",),
          "metrics.json does not say which GPU trained the run"),
    Break("gpu_run_described_by_its_host", "cifar_edge/provenance.py",
          'return f"{gpu} (host: {host})" if gpu else host',
          "return host",
          ("tests/test_provenance.py::test_a_run_trained_on_a_gpu_names_the_gpu_before_its_host_cpu",),
          "a run trained on an H200 is described as trained on its host's Xeon"),
    Break("results_table_hides_the_gpu", "benchmarks/accuracy_vs_compute.py",
          'return f"{gpu}, host {host}" if gpu else host',
          "return host",
          (f"{BENCH}::test_results_table_names_the_gpu_a_run_trained_on_before_its_host",),
          "the results table's last column names the GPU machine's CPU for a run trained on its GPU"),
    Break("release_scores_over_budget_candidates", "cifar_edge/export/release.py",
          'for row in (row for row in rows if row["fits"] and not row.get("released")):',
          'for row in (row for row in rows if not row.get("released")):',
          (f"{RELEASE}::test_the_mca_floor_scores_only_candidates_within_the_size_budget",),
          "the release spends minutes scoring candidates too big to win"),
    Break("card_latency_on_the_training_machine", "cifar_edge/export/release.py",
          'latency_line(card["compare"]),',
          '"Latency: batch 1, one thread, median and p90 after warm-up, on the training machine\'s CPU.",',
          (f"{RELEASE}::test_release_copies_the_files_and_writes_both_cards",),
          "the model card says latencies were timed on the training machine, a GPU machine's host"),
    # Tests no break failed before: eval's predictions files, benchmark timing, the benchmark scripts, provenance.
    Break("eval_out_writes_the_summary_without_scores", "cifar_edge/cli.py",
          '    if out:\n'
          '        write_json(out, record)\n'
          '    result = {key: value for key, value in record.items() if key not in ("predictions", "scores")}\n',
          '    result = {key: value for key, value in record.items() if key not in ("predictions", "scores")}\n'
          '    if out:\n'
          '        write_json(out, result)\n',
          (f"{DEVICE}::test_eval_writes_predictions_and_checks_them_against_itself",),
          "eval --out writes the summary it prints, without every image's classes and scores"),
    Break("truncated_predictions_file_is_a_traceback", "cifar_edge/edge_runtime/device_check.py",
          "    except (UnicodeDecodeError, json.JSONDecodeError):\n",
          "    except UnicodeDecodeError:\n",
          (f"{DEVICE}::test_eval_refuses_what_it_cannot_compare_before_scoring",),
          "a truncated --against file ends eval with a JSONDecodeError traceback, not the clear error"),
    Break("joined_accuracy_averages_the_slices", "cifar_edge/edge_runtime/device_check.py",
          '"accuracy": correct / images,',
          '"accuracy": sum(part["accuracy"] for part in parts) / len(parts),',
          (f"{DEVICE}::test_records_of_consecutive_slices_join_into_the_whole_one",),
          "the joined accuracy is the mean of the slices' accuracies, the short last slice weighing as much"),
    Break("eval_probes_the_gpu_with_the_trainer", "cifar_edge/edge_runtime/device_check.py",
          "    predictions = scores.argmax(axis=1)\n"
          "    return {**identity(model, data_sha256, len(labels)),\n",
          "    predictions = scores.argmax(axis=1)\n"
          "    from cifar_edge.train.trainer import training_accelerator  # eval on a GPU machine names its GPU\n"
          '    return {**identity(model, data_sha256, len(labels)), "accelerator": training_accelerator(),\n',
          (f"{NO_TF}::test_eval_runs_without_tensorflow",
           f"{LAYOUT}::test_device_side_imports_neither_training_nor_export_nor_tensorflow"),
          "eval records the accelerator with the trainer's probe, which imports Keras on the Pi"),
    Break("benchmark_ignores_warmup", "cifar_edge/cli.py",
          "**measure_latency(m, threads=threads, warmup=warmup, runs=runs)}",
          "**measure_latency(m, threads=threads, runs=runs)}",
          (f"{EXPORT}::test_benchmark_times_as_many_calls_as_asked_after_the_warm_up_asked",),
          "benchmark --warmup is not passed on: always the default 20 warm-up calls"),
    Break("benchmark_script_docstring_cut_to_a_title", "benchmarks/headless_chromium.py",
          '"""Debian\'s Chromium, headless, driven by Selenium through Debian\'s chromedriver: the browser the camera\n'
          "page's test and screenshot use.  `make test` installs both packages where it can (see the Makefile);\n"
          'Selenium is told where they are, so it never tries to download a browser or a driver."""\n',
          '"""Headless Chromium for the tests."""\n',
          (f"{BENCH}::test_every_benchmark_script_explains_itself",),
          "a benchmark script's docstring trimmed to a title that says neither what nor how"),
    Break("distillation_reuses_runs_by_preset_name", "benchmarks/distillation.py",
          'same_recipe = [m for m in finished if not changed_knobs(TrainConfig.from_dict(m["config"]), config)]',
          'same_recipe = [m for m in finished if m["config"]["preset"] == config.preset]',
          (f"{BENCH}::test_distillation_prints_the_student_without_and_with_its_teacher",),
          "--reuse takes any run of the same preset name, whatever its epochs or teachers"),
    Break("distillation_ignores_no_live", "benchmarks/distillation.py",
          'students = [("plain", plain), *([("distilled", taught)] if args.live else []),',
          'students = [("plain", plain), ("distilled", taught),',
          (f"{BENCH}::test_distillation_prints_the_student_without_and_with_its_teacher",),
          "--no-live still trains (and compares against) the student whose teachers answer every epoch"),
    Break("arm64_slices_one_image_short", "benchmarks/pi_arm64_score.py",
          "images = test.take(slice(start, start + args.slice))",
          "images = test.take(slice(start, start + args.slice - 1))",
          (f"{BENCH}::test_the_arm64_scorer_keeps_slices_and_joins_them_into_eval_s_predictions_file",),
          "each slice stops one image short (an inclusive end): the joined file misses the last image of each"),
    Break("stolen_share_of_the_time_since_boot", "cifar_edge/provenance.py",
          "(after[0] - before[0]) / (after[1] - before[1])",
          "(after[0] - before[0]) / after[1]",
          (f"{PROVENANCE}::test_stolen_share_is_the_hypervisors_part_of_the_cpu_time_between_two_readings",),
          "the stolen ticks between two readings divided by all the ticks since boot"),
    Break("csv_header_from_the_first_row", "cifar_edge/files.py",
          "columns = list(dict.fromkeys(key for row in rows for key in row))",
          "columns = list(rows[0])",
          (f"{PROVENANCE}::test_a_history_whose_later_rows_gained_a_column_keeps_every_column",),
          "the CSV header taken from the first row: a resumed run's newer column cannot be written"),
    # The harness's own rule (tests/conftest.py), the one place a test file is broken: CI must not pass
    # with the data tests skipped.
    Break("ci_skips_the_data_tests_too", "tests/conftest.py",
          'if os.environ.get("CI"):',
          "if False:",
          (f"{README}::test_a_missing_archive_fails_in_ci_and_skips_elsewhere",),
          "the harness skips the data tests when the archive is missing, in CI too"),
    Break("card_json_written_before_the_markdown_renders", "cifar_edge/export/release.py",
          "    markdown = card_markdown(card)\n"
          "    write_json(out / CARD, card)\n"
          "    write_atomically(out / CARD_MD, lambda tmp: Path(tmp).write_text(markdown))\n",
          "    write_json(out / CARD, card)\n"
          "    write_atomically(out / CARD_MD, lambda tmp: Path(tmp).write_text(card_markdown(card)))\n",
          (f"{ROBUST}::test_a_summary_the_card_cannot_show_leaves_both_cards_as_they_were",),
          "the JSON card is written before the Markdown one is rendered, so a failure leaves them disagreeing"),
    Break("keras_imported_with_stderr_open", "cifar_edge/quiet.py",
          "            os.dup2(devnull.fileno(), 2)\n", "",
          (f"{BENCH}::test_benchmarks_that_load_keras_keep_tensorflow_start_up_lines_off_the_screen",
           f"{ROBUST}::test_scoring_the_keras_model_keeps_tensorflow_start_up_lines_off_the_screen"),
          "Keras imported with stderr open, trusting TF_CPP_MIN_LOG_LEVEL to hide TensorFlow's start-up lines"),
    Break("keras_predict_times_one_pass_whatever_repeats", "benchmarks/keras_predict.py",
          "    for _ in range(args.repeats):\n", "    for _ in range(1):\n",
          (f"{BENCH}::test_keras_predict_times_both_ways_pass_by_pass_and_finds_the_same_outputs",),
          "the predict benchmark times one pass per contender whatever --repeats asks"),
    Break("eval_compares_after_scoring", "cifar_edge/cli.py",
          '    if theirs is not None:  # before the scoring: a mismatch is known without it\n'
          '        device_check.check_comparable(device_check.identity(model, dataset.sha256, len(test)), theirs, str(against))\n'
          '    with tqdm(total=len(test), desc=model.name, unit="img", disable=not progress, leave=False) as bar:\n'
          '        record = device_check.score_test_set(model, test.images, test.labels, dataset.sha256, threads, bar.update)\n',
          '    with tqdm(total=len(test), desc=model.name, unit="img", disable=not progress, leave=False) as bar:\n'
          '        record = device_check.score_test_set(model, test.images, test.labels, dataset.sha256, threads, bar.update)\n'
          '    if theirs is not None:\n'
          '        device_check.check_comparable(device_check.identity(model, dataset.sha256, len(test)), theirs, str(against))\n',
          (f"{DEVICE}::test_eval_refuses_what_it_cannot_compare_before_scoring",),
          "eval scores the whole test set before finding that the predictions file is of another model"),
    # This table's own upkeep (tests/test_deliberate_breaks.py): code or tests that move on without it.
    Break("break_table_accepts_repeated_text", "tests/deliberate_breaks.py",
          "    if count != 1:\n",
          "    if count == 0:\n",
          (f"{BREAKS_TABLE}::test_apply_refuses_text_that_does_not_occur_exactly_once",),
          "a break whose text occurs twice is applied at its first occurrence, perhaps the wrong one"),
    Break("code_moves_on_without_its_break", "cifar_edge/export/compare.py",
          "    model = load_keras_model(export_dir / REFERENCE)\n"
          "    return logits_of(model, images, batch_size=500)\n",
          "    return logits_of(load_keras_model(export_dir / REFERENCE), images, batch_size=500)\n",
          (f"{BREAKS_TABLE}::test_every_break_still_applies_to_the_code",),
          "a refactor folds two lines that a planted bug's snippet quotes, and the table is not updated"),
    Break("test_renamed_without_its_break", "tests/test_layout.py",
          "def test_no_import_circle():",
          "def test_there_is_no_import_circle():",
          (f"{BREAKS_TABLE}::test_every_break_targets_tests_that_exist",),
          "a test is renamed, and the planted bugs meant for it now target nothing"),
]

# Tests that no edit of the project can fail, and why.  Listed in the report instead of hidden.
UNBREAKABLE: dict[str, str] = {}


# --------------------------------------------------------------------------- running

@dataclass
class Outcome:
    brk: Break
    status: str = ""                 # caught / partly / MISSED / weak / not weak / STALE / ERROR
    failed: set[str] = field(default_factory=set)   # targeted functions that failed
    ran: set[str] = field(default_factory=set)      # targeted functions that ran (not skipped)
    targets: list[str] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""


def function_id(node_id: str) -> str:
    """tests/x.py::test_f[param] -> tests/x.py::test_f"""
    return re.sub(r"\[.*\]$", "", node_id)


def copy_tree(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest, ignore=IGNORE, symlinks=True)
    gui_opencv = source / "build" / "gui-opencv"  # the window test's OpenCV (make gui-opencv): linked, not copied
    if gui_opencv.is_dir():
        (dest / "build").mkdir()
        (dest / "build" / "gui-opencv").symlink_to(gui_opencv)
    return dest


def test_env(copy: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(copy), CIFAR_EDGE_DATA=str(ARCHIVE), PYTHONDONTWRITEBYTECODE="1")
    return env


def collect(copy: Path) -> list[str]:
    """Every test function of the suite, in collection order, parameters stripped."""
    run = subprocess.run([str(PYTHON), "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                         cwd=copy, env=test_env(copy), capture_output=True, text=True, check=False)
    ids = [line.strip() for line in run.stdout.splitlines() if "::" in line]
    if run.returncode != 0 or not ids:
        sys.exit(f"collecting the unbroken suite failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return list(dict.fromkeys(function_id(i) for i in ids))


def check_shadowing(copy: Path) -> str:
    """The copy's cifar_edge must be the one imported, not the editable install of the checkout."""
    run = subprocess.run([str(PYTHON), "-c", "import cifar_edge; print(cifar_edge.__file__)"],
                         cwd=copy, env=test_env(copy), capture_output=True, text=True, check=False)
    where = run.stdout.strip()
    if not where.startswith(str(copy)):
        sys.exit(f"the copy does not shadow the installed package: cifar_edge is {where or run.stderr}")
    return where


def run_pytest(copy: Path, node_ids: list[str], junit: Path, log: Path) -> int:
    command = [str(PYTHON), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors",
               f"--junitxml={junit}", *node_ids]
    with open(log, "w") as out:
        try:
            return subprocess.run(command, cwd=copy, env=test_env(copy), stdout=out, stderr=subprocess.STDOUT,
                                  timeout=PYTEST_TIMEOUT_S, check=False).returncode
        except subprocess.TimeoutExpired:
            return -1


def read_junit(junit: Path) -> tuple[set[str], set[str], set[str]]:
    """(functions that failed or errored, functions that ran, files that failed to collect)."""
    failed, ran, uncollected = set(), set(), set()
    for case in ET.parse(junit).getroot().iter("testcase"):
        classname, name = case.get("classname", ""), case.get("name", "")
        bad = case.find("failure") is not None or case.find("error") is not None
        if not classname:  # a collection error: name is the module, e.g. tests.test_data
            if bad:
                uncollected.add(name.replace(".", "/") + ".py")
            continue
        function = function_id(f"{classname.replace('.', '/')}.py::{name}")
        if case.find("skipped") is None:
            ran.add(function)
        if bad:
            failed.add(function)
    return failed, ran, uncollected


def expand(targets, functions: list[str]) -> list[str]:
    out = []
    for target in targets:
        matches = [f for f in functions if f == target or f.startswith(target + "::")]
        if not matches:
            raise ValueError(f"target {target} matches no collected test")
        out += [m for m in matches if m not in out]
    return out


def apply(brk: Break, root: Path) -> str | None:
    """Makes the break's edit under `root`; returns why it cannot, or None."""
    path = root / brk.file
    if not path.is_file():
        return f"{brk.file} does not exist"
    text = path.read_text()
    count = text.count(brk.old)
    if count != 1:
        return f"old text occurs {count} times in {brk.file}"
    path.write_text(text.replace(brk.old, brk.new))
    if path.suffix == ".py":
        try:
            compile(path.read_text(), str(path), "exec")
        except SyntaxError as exc:
            return f"the edit does not compile: {exc}"
    return None


def run_break(brk: Break, snapshot: Path, work: Path, functions: list[str]) -> Outcome:
    outcome = Outcome(brk)
    started = time.perf_counter()
    try:
        outcome.targets = expand(brk.targets, functions)
    except ValueError as exc:
        outcome.status, outcome.note = "ERROR", str(exc)
        return outcome
    folder = work / brk.name
    copy = copy_tree(snapshot, folder / "repo")
    problem = apply(brk, copy)
    if problem:
        outcome.status, outcome.note = "STALE", problem
        return outcome
    junit, log = folder / "junit.xml", folder / "pytest.log"
    code = run_pytest(copy, list(brk.targets), junit, log)
    outcome.seconds = time.perf_counter() - started
    if code == -1 or not junit.exists():
        outcome.status = "ERROR"
        outcome.note = f"pytest {'timed out' if code == -1 else f'exit {code}, no JUnit XML'}; see {log}"
        return outcome
    failed, ran, uncollected = read_junit(junit)
    for function in outcome.targets:  # a file that failed to collect fails every test in it
        if function.split("::")[0] in uncollected:
            failed.add(function)
            ran.add(function)
            outcome.note = "collection error"
    outcome.failed = failed & set(outcome.targets)
    outcome.ran = ran & set(outcome.targets)
    hit, total = len(outcome.failed), len(outcome.targets)
    if brk.weakness:
        outcome.status = "weak" if hit == 0 and outcome.ran else "not weak"
    else:
        outcome.status = "caught" if hit == total else "partly" if hit else "MISSED"
    shutil.rmtree(copy, ignore_errors=True)  # keep the log and XML, drop the tree
    return outcome


def baseline(snapshot: Path, work: Path) -> tuple[set[str], float]:
    """The whole suite on the unbroken copy: every test must pass before breaks mean anything."""
    started = time.perf_counter()
    copy = copy_tree(snapshot, work / "baseline" / "repo")
    junit, log = work / "baseline" / "junit.xml", work / "baseline" / "pytest.log"
    code = run_pytest(copy, [], junit, log)
    if not junit.exists():
        sys.exit(f"the unbroken suite did not run (exit {code}); see {log}")
    failed, _, uncollected = read_junit(junit)
    return failed | {f"{path} (collection)" for path in uncollected}, time.perf_counter() - started


# --------------------------------------------------------------------------- reporting

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def report(outcomes: list[Outcome], functions: list[str], baseline_failed: set[str] | None,
           wall: float, shadowed: str) -> str:
    width = max(len(o.brk.name) for o in outcomes)
    fwidth = max(len(o.brk.file) for o in outcomes)
    lines = [f"Deliberate breaks: {len(outcomes)} planted bugs, one at a time, each in a fresh copy of the tree",
             (f"run {datetime.now():%Y-%m-%d %H:%M}, wall time {wall / 60:.1f} min, CPU {cpu_model()} "
              f"({os.cpu_count()} cores); made by tests/deliberate_breaks.py"),
             f"the copies import cifar_edge from the copy (checked: {shadowed})", ""]
    if baseline_failed is None:
        lines.append("unbroken suite: not run (--no-baseline)")
    else:
        lines.append("unbroken suite: every test passes" if not baseline_failed else
                     "unbroken suite FAILS: " + ", ".join(sorted(baseline_failed)))
    lines += ["", f"{'break':<{width}}  {'file':<{fwidth}}  failed/targeted  status    seconds",
              f"{'-' * width}  {'-' * fwidth}  ---------------  --------  -------"]
    for o in outcomes:
        counts = f"{len(o.failed)}/{len(o.targets)}" + (f" (ran {len(o.ran)})" if len(o.ran) != len(o.targets) else "")
        lines.append(f"{o.brk.name:<{width}}  {o.brk.file:<{fwidth}}  {counts:<15}  {o.status:<8}  "
                     f"{o.seconds:7.0f}" + (f"  {o.note}" if o.note else ""))
    failed_by = {f: [o.brk.name for o in outcomes if f in o.failed] for f in functions}
    lines += ["", f"Every test function of the suite ({len(functions)}) and the breaks that failed it:", ""]
    fw = max(len(f) for f in functions)
    for function in functions:
        lines.append(f"{function:<{fw}}  {', '.join(failed_by[function]) or '-'}")
    never = [f for f in functions if not failed_by[f]]
    lines += ["", "Never failed by any break:" + ("" if never else " (none)")]
    for function in never:
        reason = UNBREAKABLE.get(function)
        lines.append(f"  {function}" + (f"\n      cannot fail through the project: {reason}" if reason else
                                        "\n      no break failed it: the test may assert nothing"))
    bad = [o for o in outcomes if o.status in ("partly", "MISSED", "STALE", "ERROR", "not weak")]
    if bad:
        lines += ["", "Breaks that did not do what they claim:"]
        for o in bad:
            missed = [t for t in o.targets if t not in o.failed]
            if o.status == "not weak":
                detail = "failed after all: " + ", ".join(sorted(o.failed))
            else:
                detail = o.note or "passed: " + ", ".join(missed)
            lines.append(f"  {o.brk.name} ({o.status}): {detail}")
    weak = [o for o in outcomes if o.brk.weakness]
    if weak:
        lines += ["", ("Weak spots: bugs that pass the tests meant to catch them (expected to pass; "
                       "'weak' = they did):")]
        for o in weak:
            lines.append(f"  {o.brk.name} [{o.status}] in {o.brk.file}: {o.brk.bug}")
            lines.append(f"      passes {', '.join(t.split('::')[-1] for t in o.targets)}")
            lines.append(f"      because {o.brk.weakness}")
    return "\n".join(lines) + "\n"


def why_stale(brk: Break) -> str | None:
    """Why `brk` no longer applies to the working tree (its edit tried on a copy of its one file), or None."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / brk.file
        target.parent.mkdir(parents=True, exist_ok=True)  # a file at the root: tmp itself
        if (REPO / brk.file).is_file():
            shutil.copyfile(REPO / brk.file, target)
        return apply(brk, Path(tmp))


def list_breaks(functions: list[str] | None) -> None:
    for brk in BREAKS:
        problem = why_stale(brk)
        kind = "weakness" if brk.weakness else "break"
        print(f"{brk.name}  [{kind}] {brk.file}: {brk.bug}" + (f"\n    STALE: {problem}" if problem else ""))
        for t in brk.targets:
            print(f"    -> {t}")
        if functions is not None:
            try:
                expand(brk.targets, functions)
            except ValueError as exc:
                print(f"    ERROR: {exc}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print the breaks and whether each applies")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this break (repeatable)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unbroken run of the whole suite")
    parser.add_argument("--jobs", type=int, default=1, help="breaks run at once (default 1: timing tests "
                        "and training share the CPU badly)")
    parser.add_argument("--output", type=Path, help=f"report file (default {REPORT.relative_to(REPO)} for a "
                        "full run, none with --only)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, JUnit XML)")
    args = parser.parse_args()

    names = [b.name for b in BREAKS]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        sys.exit(f"duplicate break names: {', '.join(sorted(duplicates))}")
    if args.list:
        return list_breaks(None)
    chosen = BREAKS
    if args.only:
        unknown = set(args.only) - set(names)
        if unknown:
            sys.exit(f"unknown break(s) {', '.join(sorted(unknown))}; --list shows them")
        chosen = [b for b in BREAKS if b.name in args.only]
    if not ARCHIVE.exists():
        sys.exit(f"the CIFAR-10 archive is not at {ARCHIVE}: set CIFAR_EDGE_DATA")

    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="deliberate-breaks-"))
    try:
        # One snapshot of the working tree, so every break starts from the same code even while
        # someone edits the checkout.
        snapshot = copy_tree(REPO, work / "snapshot")
        functions = collect(snapshot)
        shadowed = check_shadowing(snapshot)
        print(f"{len(functions)} test functions; {len(chosen)} breaks; work folder {work}", flush=True)
        baseline_failed = None
        if not args.no_baseline and not args.only:
            baseline_failed, seconds = baseline(snapshot, work)
            print(f"unbroken suite: {len(baseline_failed)} failing ({seconds:.0f} s)", flush=True)

        def one(brk: Break) -> Outcome:
            outcome = run_break(brk, snapshot, work, functions)
            print(f"{brk.name:<44} {len(outcome.failed)}/{len(outcome.targets)} {outcome.status:<8} "
                  f"{outcome.seconds:5.0f} s {outcome.note}", flush=True)
            return outcome

        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            outcomes = list(pool.map(one, chosen))
        if args.only:  # the per-test list covers only what these breaks target
            functions = [f for f in functions if any(f in o.targets for o in outcomes)]
        text = report(outcomes, functions, baseline_failed, time.perf_counter() - started, shadowed)
        print("\n" + text)
        output = args.output or (None if args.only else REPORT)
        if output:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text)
            print(f"written: {output}")
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
