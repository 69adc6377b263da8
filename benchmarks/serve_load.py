"""`camera --serve` under load and faults: does the web page ever slow the model down, and does it hold up?

    python benchmarks/serve_load.py --data ../shared/data/cifar-10-python.tar.gz \
        [--model models/cifar_edge_int8.tflite] [--seconds 20] [--soak-minutes 10] [--out results/serve_load]

Every figure comes from `cifar-edge camera` run as a user runs it, in a process of its own, on a video of
test images replayed with --loop as fast as it decodes (the worst case for the page: a camera would pace
the model at 30 frames/s).  Viewers run in another process and do what the page does: read
/stream.mjpg and /events.

1. Classification frames/s with no server, then with the server and 0, 1 and 4 viewers, interleaved over
   `--rounds` rounds; each as a ratio to no server (goal: at least 0.8 with 4).
2. 20 viewers at once: how many are served (200) and refused (503), and whether a traceback appeared.
3. A viewer that stops reading for 30 s beside one that reads: the reader's frames/s and the model's
   frames/s before and during the stall, and when the server drops the stalled one.
4. `--soak-minutes` with 2 viewers: the demo's resident memory, sampled every 30 s.
5. Malformed requests against a demo bound to 0.0.0.0 (so with a token): each one's status code, and
   whether the demo was still classifying afterwards.

Writes OUT.txt (the table, with the machine and this command) and OUT.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from cifar_edge import provenance
from cifar_edge.contract import RELEASED_MODEL
from cifar_edge.data import load_cifar10
from cifar_edge.provenance import machine_info
from served_demo import ServedDemo
from synthetic_video import write_test_video

REPO = Path(__file__).resolve().parents[1]
BOUNDARY = b"--cifar-edge-frame"


# --- viewers (in a process of their own, so that their work is not the demo's) ----------------------

def read_stream(host, port, path, seconds, marker, stall=None, rcvbuf=None):
    """Reads `path` for `seconds`; returns (status line, arrival times of each `marker`).
    `stall` = (after_s, for_s): stop reading for a while, as a frozen browser tab does."""
    arrivals, status = [], ""
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(5)
    started = time.monotonic()
    try:
        sock.connect((host, port))
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        buffer = b""
        while time.monotonic() - started < seconds:
            if stall and stall[0] <= time.monotonic() - started < stall[0] + stall[1]:
                time.sleep(0.1)
                continue
            chunk = sock.recv(65536)
            if not chunk:
                break
            if not status:
                status = chunk.split(b"\r\n", 1)[0].decode(errors="replace")
            buffer = buffer[-len(marker):] + chunk
            now = time.monotonic()
            arrivals += [now] * buffer.count(marker)
    except OSError as exc:
        status = status or f"error: {exc}"
    finally:
        sock.close()
    return status, arrivals


def viewers(host, port, query, seconds, count, stall=None, events=True):
    """`count` page viewers (stream + events each) for `seconds`, the first one stalled if `stall`."""
    results = [None] * (count * 2)
    threads = []
    for i in range(count):
        kwargs = {"stall": stall, "rcvbuf": 4096} if (stall and i == 0) else {}
        threads.append(threading.Thread(target=lambda i=i, kw=kwargs: results.__setitem__(
            2 * i, read_stream(host, port, f"/stream.mjpg{query}", seconds, BOUNDARY, **kw))))
        if events:
            threads.append(threading.Thread(target=lambda i=i: results.__setitem__(
                2 * i + 1, read_stream(host, port, f"/events{query}", seconds, b"data: "))))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def run_viewers(demo: ServedDemo, seconds: float, count: int, **kwargs):
    """Starts the viewers in another process; returns a handle whose .get() gives their results."""
    pool = multiprocessing.get_context("spawn").Pool(1)
    query = f"?{demo.query}" if demo.query else ""
    handle = pool.apply_async(viewers, (demo.host, demo.port, query, seconds, count), kwargs)
    pool.close()
    return handle


# --- the demo, measured ---------------------------------------------------------------------------

def frames_per_second(log: Path, start: float, end: float) -> float:
    """Classification frames/s between two wall-clock times, from the demo's own JSON lines."""
    times = [json.loads(line)["time"] for line in log.read_text().splitlines() if line.strip()]
    return sum(start <= t < end for t in times) / (end - start)


def measure_throughput(model, clip, tmp: Path, viewers_count: int | None, seconds: float) -> float:
    """Frames/s over `seconds` after a 3 s settle: no server when viewers_count is None."""
    log = tmp / f"throughput_{viewers_count}_{time.monotonic_ns()}.jsonl"
    args = ["--model", model, "--source", clip, "--loop", "--headless", "--output", log]
    if viewers_count is None:
        process = subprocess.Popen([sys.executable, "-m", "cifar_edge", "camera", *map(str, args)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_lines(log, 50)
            start = time.time() + 3
            time.sleep(3 + seconds)
            return frames_per_second(log, start, start + seconds)
        finally:
            process.terminate()
            process.wait()
    demo = ServedDemo([*args, "--serve", "127.0.0.1:0"])
    try:
        demo.wait_for_frames(50)
        handle = run_viewers(demo, seconds + 5, viewers_count) if viewers_count else None
        start = time.time() + 3
        time.sleep(3 + seconds)
        fps = frames_per_second(log, start, start + seconds)
        if handle:
            handle.get(timeout=60)
        return fps
    finally:
        demo.stop()


def wait_for_lines(log: Path, count: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not (log.exists() and log.read_text().count("\n") >= count):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{log} did not reach {count} lines")
        time.sleep(0.1)


def rate(arrivals, start, end) -> float:
    return sum(start <= t < end for t in arrivals) / (end - start)


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def raw_status(demo: ServedDemo, data: bytes) -> str:
    with socket.create_connection((demo.host, demo.port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status = answer.split(b"\r\n", 1)[0].decode(errors="replace")
    return status.split(" (")[0] or "(closed, no answer)"  # the standard library quotes the bad bytes after " ("


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=REPO / "models" / RELEASED_MODEL)
    parser.add_argument("--data", default=None, help="CIFAR-10 path (default: $CIFAR_EDGE_DATA)")
    parser.add_argument("--seconds", type=float, default=20, help="measuring window of each throughput run")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds of the throughput runs")
    parser.add_argument("--stall-seconds", type=float, default=30)
    parser.add_argument("--soak-minutes", type=float, default=10)
    parser.add_argument("--out", type=Path, default=REPO / "results" / "serve_load")
    args = parser.parse_args()
    command = "python " + shlex.join([os.path.relpath(__file__, REPO), *sys.argv[1:]])

    test = load_cifar10(args.data, splits=("test",)).test
    report: dict = {"command": command, "machine": machine_info(), "model": os.path.relpath(args.model, REPO),
                    "load_average_at_start": os.getloadavg()}
    lines = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        clip = write_test_video(tmp / "clip.avi", test.images[:300])  # 300 different test images, 320x256

        # 1. throughput
        configs = [None, 0, 1, 4]
        runs = {str(c): [] for c in configs}
        for round_ in range(args.rounds):
            for config in configs:
                fps = measure_throughput(args.model, clip, tmp, config, args.seconds)
                runs[str(config)].append(fps)
                print(f"round {round_ + 1}: viewers={config}: {fps:.1f} frames/s", file=sys.stderr, flush=True)
        baseline = statistics.mean(runs["None"])
        report["throughput"] = {key: {"frames_per_s": [round(v, 1) for v in values],
                                      "mean": round(statistics.mean(values), 1),
                                      "ratio_to_no_server": round(statistics.mean(values) / baseline, 3)}
                                for key, values in runs.items()}
        lines += ["classification frames/s, video replayed as fast as it decodes "
                  f"(mean of {args.rounds} interleaved runs of {args.seconds:.0f} s)",
                  f"  {'configuration':<34}{'frames/s':>10}{'ratio':>8}   runs"]
        names = {"None": "no server", "0": "--serve, no viewer", "1": "--serve, 1 viewer (stream + events)",
                 "4": "--serve, 4 viewers (stream + events)"}
        for key, row in report["throughput"].items():
            lines.append(f"  {names[key]:<34}{row['mean']:>10.1f}{row['ratio_to_no_server']:>8.3f}   "
                         + ", ".join(f"{v:.1f}" for v in row["frames_per_s"]))

        log = tmp / "load.jsonl"
        common = ["--model", args.model, "--source", clip, "--loop", "--output", log]

        # 2. twenty viewers at once; 3. a stalled viewer; 5. malformed requests come later
        demo = ServedDemo([*common, "--serve", "127.0.0.1:0"])
        try:
            demo.wait_for_frames(50)
            crowd = viewers(demo.host, demo.port, "", 4, 20, events=False)
            statuses = [r[0] for r in crowd[::2]]
            served = sum(s.endswith("200 OK") for s in statuses)
            refused = sum(" 503 " in s for s in statuses)
            report["twenty_viewers"] = {"served": served, "refused_503": refused, "other": 20 - served - refused}
            time.sleep(1)
            stall_start, stall = 10, args.stall_seconds
            total = stall_start + stall + 5
            handle = run_viewers(demo, total, 2, stall=(stall_start, stall), events=False)
            began = time.monotonic()
            viewer_counts = []
            while time.monotonic() - began < total:
                viewer_counts.append((time.monotonic() - began, demo.get("/healthz")["viewers"]))
                time.sleep(1)
            results = handle.get(timeout=120)
            reader_arrivals = results[2][1]
            t0 = reader_arrivals[0] if reader_arrivals else 0
            before = (t0 + 2, t0 + stall_start)
            during = (t0 + stall_start + 1, t0 + stall_start + stall)
            now_wall, now_mono = time.time(), time.monotonic()
            to_wall = lambda t: now_wall - (now_mono - t)  # noqa: E731 - monotonic -> the log's clock
            dropped = next((round(t - stall_start, 1) for t, n in viewer_counts if t > stall_start and n < 2), None)
            report["stalled_viewer"] = {
                "stall_s": stall,
                "reader_frames_per_s_before": round(rate(reader_arrivals, *before), 1),
                "reader_frames_per_s_during": round(rate(reader_arrivals, *during), 1),
                "classification_fps_before": round(frames_per_second(log, *map(to_wall, before)), 1),
                "classification_fps_during": round(frames_per_second(log, *map(to_wall, during)), 1),
                "stalled_viewer_dropped_after_s": dropped}
        finally:
            demo.stop()
        report["twenty_viewers"]["traceback"] = "Traceback" in demo.stderr
        report["twenty_viewers"]["exit_code"] = demo.returncode

        # 4. memory over a long run with 2 viewers
        demo = ServedDemo([*common, "--serve", "127.0.0.1:0"])
        try:
            demo.wait_for_frames(50)
            seconds = args.soak_minutes * 60
            handle = run_viewers(demo, seconds + 40, 2)
            time.sleep(30)  # settle: interpreter arenas, first JPEG buffers
            samples, began = [], time.monotonic()
            while True:
                samples.append((round(time.monotonic() - began), round(resident_mb(demo.process.pid), 1)))
                if time.monotonic() - began >= seconds:
                    break
                time.sleep(min(30, seconds - (time.monotonic() - began)))
            frames = demo.get("/healthz")["frames"]
            viewer_results = handle.get(timeout=120)
        finally:
            demo.stop()
        report["soak"] = {"minutes": args.soak_minutes, "viewers": 2, "rss_mb": samples,
                          "growth_mb": round(samples[-1][1] - samples[0][1], 1),
                          "max_minus_first_mb": round(max(s[1] for s in samples) - samples[0][1], 1),
                          "frames_classified": frames,
                          "jpegs_per_viewer": [len(r[1]) for r in viewer_results[::2]],
                          "traceback": "Traceback" in demo.stderr, "exit_code": demo.returncode}

        # 5. malformed requests, with a token (bound to every interface)
        demo = ServedDemo([*common, "--serve", "0.0.0.0:0"])
        demo.host = "127.0.0.1"
        token = demo.query.split("=", 1)[1]
        faults = {"request line of 70,000 bytes": b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
                  "garbage bytes (a TLS hello)": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64),
                  "/../../etc/passwd": f"GET /../../etc/passwd?token={token} HTTP/1.1\r\n\r\n".encode(),
                  "200 headers": b"GET /?token=" + token.encode() + b" HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n",
                  "no token": b"GET /healthz HTTP/1.1\r\n\r\n",
                  "wrong token": b"GET /healthz?token=guess HTTP/1.1\r\n\r\n",
                  "right token": f"GET /healthz?token={token} HTTP/1.1\r\n\r\n".encode()}
        try:
            demo.wait_for_frames(50)
            report["malformed"] = {}
            for name, data in faults.items():
                before = demo.get("/healthz")["frames"]
                status = raw_status(demo, data)
                time.sleep(0.5)
                after = demo.get("/healthz")["frames"]
                report["malformed"][name] = {"status": status, "still_classifying": after > before}
        finally:
            demo.stop()
        report["malformed_traceback"] = "Traceback" in demo.stderr
        report["malformed_exit_code"] = demo.returncode

    t, s, m = report["twenty_viewers"], report["stalled_viewer"], report["soak"]
    lines += ["", f"20 viewers at once (--max-clients 4): {t['served']} served, {t['refused_503']} refused with 503, "
              f"{t['other']} other; traceback: {'yes' if t['traceback'] else 'none'}; exit code {t['exit_code']}",
              "", f"a viewer that stops reading for {s['stall_s']:.0f} s, beside one that reads:",
              f"  {'':<28}{'before':>10}{'during':>10}",
              f"  {'reader, JPEGs/s':<28}{s['reader_frames_per_s_before']:>10.1f}{s['reader_frames_per_s_during']:>10.1f}",
              f"  {'classification, frames/s':<28}{s['classification_fps_before']:>10.1f}"
              f"{s['classification_fps_during']:>10.1f}",
              "  the server dropped the stalled viewer " + (f"{s['stalled_viewer_dropped_after_s']} s into the stall"
                                                            if s["stalled_viewer_dropped_after_s"] is not None
                                                            else "only after the stall (its buffers had room)"),
              "", f"{m['minutes']:g} minutes with 2 viewers: resident memory {m['rss_mb'][0][1]:.1f} MB after 30 s, "
              f"{m['rss_mb'][-1][1]:.1f} MB at the end: grew {m['growth_mb']:+.1f} MB "
              f"(highest {m['max_minus_first_mb']:+.1f} MB above the first sample); {m['frames_classified']} frames; "
              f"JPEGs per viewer {m['jpegs_per_viewer']}; traceback: {'yes' if m['traceback'] else 'none'}",
              "  samples (s, MB): " + ", ".join(f"{t_}:{mb}" for t_, mb in m["rss_mb"]),
              "", "malformed requests (demo bound to 0.0.0.0, so with a token):"]
    for name, row in report["malformed"].items():
        lines.append(f"  {name:<30}{row['status']:<40}still classifying: {'yes' if row['still_classifying'] else 'NO'}")
    lines.append(f"  traceback: {'yes' if report['malformed_traceback'] else 'none'}; exit code after SIGTERM "
                 f"{report['malformed_exit_code']}")
    header = [f"command: {command}", f"model: {report['model']}",
              f"machine: {provenance.describe_machine(report['machine'])}; load average at start "
              + ", ".join(f"{v:.2f}" for v in report["load_average_at_start"]), ""]
    text = "\n".join(header + lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{args.out}.txt").write_text(text)
    Path(f"{args.out}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(text)


if __name__ == "__main__":
    main()
