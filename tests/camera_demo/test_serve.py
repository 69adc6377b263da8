"""`camera --serve`: the server on a feed of generated frames (routes, token, bounds, bad requests, the
viewer cap, slow viewers), then the real command in a process of its own, stopped by SIGTERM."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest

from cifar_edge.camera_demo.live_feed import LiveFeed
from cifar_edge.camera_demo.server import BOUNDARY, MAX_REQUEST_LINE, CameraServer, is_loopback, parse_address
from cifar_edge.errors import CifarEdgeError
from served_demo import served_demo
from synthetic_video import write_test_video

MODEL = {"file": "model.tflite", "format": "tflite-int8", "bytes": 123}


def record(frame: int) -> dict:
    return {"frame": frame, "time": 0.0, "label": "cat", "index": 3, "confidence": 0.5, "latency_ms": 1.0,
            "fps": 30.0, "top3": [{"label": "cat", "confidence": 0.5}]}


class Camera:
    """A thread publishing numbered frames (each frame's grey level, or with `noisy` the grey level of its
    bottom-left corner, is its number mod 256) as fast as the camera loop would, until stopped.  Noisy
    frames are 640x480 of random pixels, a few hundred KB as JPEG, so a viewer's socket fills quickly."""

    def __init__(self, feed: LiveFeed, noisy: bool = False):
        self.feed, self.published, self.running = feed, 0, True
        self.noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), np.uint8) if noisy else None
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def frame(self) -> np.ndarray:
        if self.noise is None:
            return np.full((120, 160, 3), self.published % 256, np.uint8)
        frame = self.noise.copy()
        frame[-32:, :32] = self.published % 256
        return frame

    def run(self):
        while self.running:
            frame = self.frame()
            rec = record(self.published)
            self.feed.publish(frame, rec, json.dumps(rec))
            self.published += 1
            time.sleep(0.002)

    def stop(self):
        self.running = False
        self.thread.join(timeout=10)
        # A publish that never returns means the feed's lock is held for good: fail, do not hang.
        assert not self.thread.is_alive(), "the camera loop is stuck in LiveFeed.publish"


@pytest.fixture
def serve(request):
    """serve(token=None, max_clients=4) -> (server, camera), both stopped after the test."""
    started = []

    def start(token=None, max_clients=4, fps=30, noisy=False):
        feed = LiveFeed(serve_fps=fps, max_clients=max_clients)
        server = CameraServer(("127.0.0.1", 0), feed, MODEL, token).start()
        camera = Camera(feed, noisy)
        started.append((server, camera))
        return server, camera

    yield start
    for server, camera in started:
        camera.stop()
        server.stop()


def get(server, path, timeout=5):
    """(status, content type, body) of GET path; the body of a stream is its first 4 KiB."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=timeout) as response:
            stream = response.headers["Content-Type"].startswith(("multipart", "text/event-stream"))
            return response.status, response.headers["Content-Type"], response.read(4096 if stream else -1)
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def read_jpegs(response, count: int) -> list[np.ndarray]:
    """The next `count` pictures of an MJPEG response, decoded (BGR)."""
    images = []
    while len(images) < count:
        assert response.readline().strip() == f"--{BOUNDARY}".encode()
        headers = {}
        while line := response.readline().strip():
            name, _, value = line.decode().partition(": ")
            headers[name] = value
        assert headers["Content-Type"] == "image/jpeg"
        jpeg = response.read(int(headers["Content-Length"]))
        assert response.readline() == b"\r\n"
        images.append(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR))
    return images


def raw_request(server, data: bytes) -> bytes:
    """Sends bytes as they are (no client library tidies them up) and returns the whole answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)  # all sent: the server sees the end of the request
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_serve_address_defaults_to_this_machine_only():
    assert parse_address("8000") == ("127.0.0.1", 8000)
    assert parse_address("0.0.0.0:8080") == ("0.0.0.0", 8080)
    assert parse_address("[::1]:9000") == ("::1", 9000)
    for bad in ("", "host:", "http", "127.0.0.1:99999"):
        with pytest.raises(CifarEdgeError, match=r"\[HOST:\]PORT"):
            parse_address(bad)
    assert is_loopback("127.0.0.1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.20")


def test_page_health_stream_and_events(serve):
    server, camera = serve()
    status, kind, page = get(server, "/")
    assert status == 200 and kind.startswith("text/html")
    for needed in (b'src = "/stream.mjpg"', b'EventSource("/events"', b'fetch("/healthz"', b'name="viewport"'):
        assert needed in page

    status, kind, body = get(server, "/healthz")
    health = json.loads(body)
    assert status == 200 and kind == "application/json"
    assert health["status"] == "ok" and health["model"] == MODEL and health["frames"] > 0
    assert health["latest"]["frame"] >= 0 and health["max_clients"] == 4

    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/stream.mjpg", timeout=5) as response:
        assert response.headers["Content-Type"] == f"multipart/x-mixed-replace; boundary={BOUNDARY}"
        first, second = read_jpegs(response, 2)
    assert first.shape == (120, 160, 3)  # the frame itself, with the overlay's dark band on top
    assert first[:30].mean() < first[60:].mean() or first[60:].mean() < 10
    assert not np.array_equal(first, second)  # each part is a newer frame

    status, kind, body = get(server, "/events")
    assert status == 200 and kind == "text/event-stream"
    records = [json.loads(line[6:]) for line in body.decode(errors="replace").split("\n\n")[1:-1]
               if line.startswith("data: ")]
    frames = [r["frame"] for r in records]
    assert records and set(records[0]) == set(record(0)) and frames == list(range(frames[0], frames[0] + len(frames)))


def test_no_path_reaches_the_file_system(serve):
    server, _ = serve()
    for path in ("/../../etc/passwd", "/page.html", "/camera_demo/page.html", "/%2e%2e/%2e%2e/etc/passwd",
                 "/stream.mjpg/../../server.py", "//etc/passwd", "/index.html"):
        answer = raw_request(server, f"GET {path} HTTP/1.0\r\n\r\n".encode())
        assert status_of(answer) == 404, path
        assert b"root:" not in answer and b"import" not in answer


def test_bad_requests_get_their_status_and_the_demo_goes_on(serve):
    server, camera = serve()
    assert status_of(raw_request(server, b"GET /" + b"a" * MAX_REQUEST_LINE + b" HTTP/1.0\r\n\r\n")) == 414
    assert status_of(raw_request(server, b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03garbage\r\n\r\n")) == 400
    assert status_of(raw_request(server, b"GET / HTTP/1.0\r\n" + b"X: y\r\n" * 101 + b"\r\n")) == 431
    assert status_of(raw_request(server, b"POST /healthz HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc")) == 501
    assert raw_request(server, b"") == b""  # a connection that closes at once: no answer, no harm
    before = camera.published
    status, _, body = get(server, "/healthz")
    assert status == 200 and json.loads(body)["frames"] >= before  # still serving, still classifying


def test_off_loopback_every_path_needs_the_token(serve):
    server, _ = serve(token="s3cret-token")
    for path in ("/", "/healthz", "/stream.mjpg", "/events", "/nothing", "/?token=wrong", "/?token="):
        status, _, body = get(server, path)
        assert status == 403 and b"token" in body and body.count(b"\n") == 1, path
    assert get(server, "/healthz?token=s3cret-token")[0] == 200
    assert get(server, "/stream.mjpg?token=s3cret-token")[0] == 200
    assert get(server, "/nothing?token=s3cret-token")[0] == 404


def test_urls_name_the_token_and_this_machine():
    feed = LiveFeed()
    server = CameraServer(("0.0.0.0", 0), feed, MODEL, "tok")
    try:
        urls = server.urls()
        assert urls[0] == f"http://{socket.gethostname()}:{server.port}/?token=tok"
        assert all(url.endswith(f":{server.port}/?token=tok") for url in urls)
    finally:
        server.server_close()
        feed.close()


def test_viewers_beyond_max_clients_get_503_with_one_line(serve):
    server, _ = serve(max_clients=2)
    streams = [urllib.request.urlopen(f"http://127.0.0.1:{server.port}/stream.mjpg", timeout=5) for _ in range(2)]
    try:
        status, kind, body = get(server, "/stream.mjpg")
        assert status == 503 and kind.startswith("text/plain") and body.count(b"\n") == 1 and b"max-clients" in body
        streams.pop().close()
        deadline = time.monotonic() + 5
        while get(server, "/healthz")[2] and json.loads(get(server, "/healthz")[2])["viewers"] != 1:
            assert time.monotonic() < deadline, "a closed viewer kept its place"
            time.sleep(0.05)
        assert get(server, "/stream.mjpg")[0] == 200  # the place is free again
    finally:
        for stream in streams:
            stream.close()


def test_a_viewer_that_stops_reading_holds_up_nobody(serve):
    """One viewer stops reading; the camera keeps publishing and another viewer keeps getting new
    frames (each frame's corner shows its number, so a new frame looks new)."""
    server, camera = serve(fps=50, noisy=True)
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(("127.0.0.1", server.port))
    stalled.sendall(b"GET /stream.mjpg HTTP/1.0\r\n\r\n")
    try:
        time.sleep(1)  # noisy JPEGs of a few hundred KB: both sides' socket buffers are full by now
        published = camera.published
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/stream.mjpg", timeout=5) as viewer:
            corners = {int(image[-16:, :16].mean()) // 8 for image in read_jpegs(viewer, 10)}
        assert len(corners) >= 5  # ten frames, most of them different
        assert camera.published > published + 20
    finally:
        stalled.close()


def test_stream_is_encoded_at_most_serve_fps(serve):
    """The camera publishes about 400 frames a second; the stream carries at most --serve-fps of them."""
    server, camera = serve(fps=5)
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/stream.mjpg", timeout=5) as viewer:
        read_jpegs(viewer, 1)
        started = time.monotonic()
        read_jpegs(viewer, 5)
        elapsed = time.monotonic() - started
    assert elapsed >= 5 / 5 * 0.9  # five JPEGs at 5 a second: about a second, never much less


def read_to_end(response, within_s: float) -> bool:
    """Whether the response ends (the server closed it) within `within_s` seconds."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if not response.read1(65536):
                return True
        except (TimeoutError, ConnectionError):
            return False
    return False


def test_closing_the_server_ends_every_stream(serve):
    server, _ = serve()
    stream = urllib.request.urlopen(f"http://127.0.0.1:{server.port}/stream.mjpg", timeout=5)
    events = urllib.request.urlopen(f"http://127.0.0.1:{server.port}/events", timeout=5)
    stream.read(100), events.read(10)
    server.stop()  # the camera goes on publishing: only the server's stop can end the streams
    assert read_to_end(stream, within_s=5) and read_to_end(events, within_s=5)


@pytest.fixture(scope="module")
def clip(real_test_split, tmp_path_factory):
    return write_test_video(tmp_path_factory.mktemp("media") / "clip.avi", real_test_split.images[:60])


def test_served_camera_keeps_its_json_lines_and_stops_on_sigterm(clip, tmp_path):
    """The command as a user runs it on a Pi: the page, /events carrying exactly the records --output
    gets, then SIGTERM (systemd's stop) closes camera, server and clients and exits 0."""
    log = tmp_path / "frames.jsonl"
    with served_demo("--source", clip, "--loop", "--serve", "127.0.0.1:0", "--output", log) as demo:
        assert demo.url.startswith("http://127.0.0.1:") and "token" not in demo.url
        demo.wait_for_frames(100)
        with urllib.request.urlopen(demo.address("/events"), timeout=5) as events:
            body = events.read(20000).decode(errors="replace")
        stream = urllib.request.urlopen(demo.address("/stream.mjpg"), timeout=5)
        stream.read(1000)
    assert demo.returncode == 0, demo.stderr
    assert "Traceback" not in demo.stderr and "ended: terminated (SIGTERM)" in demo.stderr
    assert stream.read() is not None  # the open stream was closed by the server, not left hanging
    written = {r["frame"]: r for r in map(json.loads, log.read_text().splitlines())}
    sent = [json.loads(chunk[6:]) for chunk in body.split("\n\n")[1:-1] if chunk.startswith("data: ")]
    assert len(sent) > 10 and all(written[r["frame"]] == r for r in sent)
    assert demo.stdout == ""  # with --serve the lines go to --output only


def test_serve_off_loopback_prints_a_token_url(clip):
    with served_demo("--source", clip, "--loop", "--serve", "0.0.0.0:0") as demo:
        assert "?token=" in demo.url
        token = demo.query.split("=", 1)[1]
        assert len(token) >= 32
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{demo.port}/healthz", timeout=5)
        assert refused.value.code == 403
        assert demo.get("/healthz")["status"] == "ok"
    assert demo.returncode == 0


def test_a_port_in_use_is_a_clear_error(clip):
    from conftest import cli

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        run = cli("camera", "--source", clip, "--serve", f"127.0.0.1:{taken.getsockname()[1]}")
    assert run.returncode == 1 and run.stderr.startswith("error: cannot serve on 127.0.0.1:")
    assert "Traceback" not in run.stderr
