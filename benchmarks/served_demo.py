"""`cifar-edge camera --serve` in a process of its own, as a user starts it, for the tests, the page's
screenshot script and `serve_load.py`:

    with served_demo("--source", clip, "--loop", "--serve", "127.0.0.1:0") as demo:
        demo.url            # what it printed: http://127.0.0.1:PORT/ (with ?token=... off loopback)
        demo.get("/healthz")
    demo.returncode, demo.stderr   # after SIGTERM, as systemd or `kill` would stop it
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from urllib.parse import urlsplit

URL_LINE = re.compile(r"camera page: (\S+)")


def collect(stream, lines: list[str]) -> None:
    for line in stream:  # as they come: the URL line must be seen while the demo runs
        lines.append(line)


class ServedDemo:
    def __init__(self, args, start_timeout_s: float = 60):
        self.process = subprocess.Popen([sys.executable, "-m", "cifar_edge", "camera", *map(str, args)],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stderr_lines: list[str] = []
        self.stdout_lines: list[str] = []
        self._readers = [threading.Thread(target=collect, args=(stream, lines), daemon=True)
                         for stream, lines in ((self.process.stderr, self.stderr_lines),
                                               (self.process.stdout, self.stdout_lines))]
        for reader in self._readers:
            reader.start()
        deadline = time.monotonic() + start_timeout_s
        self.url = None
        while self.url is None:
            found = [m.group(1) for m in map(URL_LINE.search, list(self.stderr_lines)) if m]
            if found:
                self.url = found[0]
            elif self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the demo did not start serving:\n{self.stderr}")
            else:
                time.sleep(0.05)
        parts = urlsplit(self.url)
        self.host, self.port, self.query = parts.hostname, parts.port, parts.query

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    @property
    def stdout(self) -> str:
        return "".join(self.stdout_lines)

    @property
    def returncode(self):
        return self.process.returncode

    def address(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}" + (f"?{self.query}" if self.query else "")

    def get(self, path: str, timeout: float = 10) -> dict:
        with urllib.request.urlopen(self.address(path), timeout=timeout) as response:
            return json.loads(response.read())

    def wait_for_frames(self, count: int, timeout_s: float = 60) -> dict:
        deadline = time.monotonic() + timeout_s
        while (health := self.get("/healthz"))["frames"] < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {health['frames']} frames after {timeout_s} s")
            time.sleep(0.1)
        return health

    def stop(self, timeout_s: float = 30) -> int:
        """SIGTERM, then the exit code (the demo must end by itself: it is killed only after `timeout_s`)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for reader in self._readers:
            reader.join(timeout=5)
        return self.process.returncode


@contextmanager
def served_demo(*args, start_timeout_s: float = 60):
    demo = ServedDemo(args, start_timeout_s)
    try:
        yield demo
    finally:
        demo.stop()
