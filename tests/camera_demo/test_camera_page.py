"""The camera page in a real browser (headless Chromium): it shows the stream, and the label it shows is
the one /events carried for the same frame.  Skipped on a developer's machine without Chromium; in CI
(where `make test` installs it) a missing browser fails the test instead."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import numpy as np
import pytest

from conftest import missing
from headless_chromium import ChromiumMissing, headless_chromium
from served_demo import served_demo
from synthetic_video import write_test_video

SHOWN = """return {frame: document.getElementById('frame').textContent,
                   label: document.getElementById('label').textContent,
                   latency: document.getElementById('latency').textContent,
                   top: [...document.querySelectorAll('#top li')].map(li => li.firstChild.textContent),
                   streamWidth: document.getElementById('stream').naturalWidth,
                   model: document.getElementById('model').textContent,
                   format: document.getElementById('format').textContent,
                   size: document.getElementById('size').textContent};"""


@pytest.fixture
def browser():
    try:
        with headless_chromium() as session:
            yield session
    except ChromiumMissing as absent:
        missing(str(absent))


def collect_events(url: str, records: dict, stop: threading.Event) -> None:
    with urllib.request.urlopen(url, timeout=10) as events:
        for line in events:
            if line.startswith(b"data: "):
                record = json.loads(line[6:])
                records[record["frame"]] = record
            if stop.is_set():
                return


def test_page_shows_the_label_events_sent_for_the_same_frame(browser, real_test_split, tmp_path):
    # Test images held for 10 frames each and read at 30 frames/s, as a camera would deliver a scene.
    clip = write_test_video(tmp_path / "scene.avi", np.repeat(real_test_split.images[:20], 10, axis=0))
    with served_demo("--source", clip, "--loop", "--source-fps", 30, "--serve", "127.0.0.1:0") as demo:
        records, stop = {}, threading.Event()
        listener = threading.Thread(target=collect_events, args=(demo.address("/events"), records, stop),
                                    daemon=True)
        listener.start()
        browser.get(demo.url)
        checked = []
        deadline = time.monotonic() + 30
        while len(checked) < 5:
            assert time.monotonic() < deadline, f"the page showed {browser.execute_script(SHOWN)}"
            shown = browser.execute_script(SHOWN)
            if shown["frame"].isdigit() and int(shown["frame"]) in records:
                sent = records[int(shown["frame"])]
                # A held scene gives neighbouring frames the same label: the latency pins the very frame.
                assert shown["label"] == sent["label"]
                assert abs(float(shown["latency"].split()[0]) - sent["latency_ms"]) <= 0.005 + 1e-9
                assert shown["top"] == [t["label"] for t in sent["top3"]]
                checked.append(int(shown["frame"]))
            time.sleep(0.2)
        assert len(set(checked)) > 1  # the page kept updating by itself
        health = demo.get("/healthz")
        assert shown["streamWidth"] > 0  # the MJPEG stream is on screen
        assert shown["model"] == health["model"]["file"] == "cifar_edge_int8.tflite"
        assert shown["format"] == "tflite-int8" and shown["size"] == f"{health['model']['bytes'] / 1e6:.2f} MB"
        stop.set()
    assert demo.returncode == 0 and "Traceback" not in demo.stderr
