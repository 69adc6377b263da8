"""`cifar-edge camera --serve`: the camera demo as a web page, for a Pi with no screen.

    /             the page (page.html): live stream, label, top-3, model, frames/s; updates by itself
    /stream.mjpg  multipart/x-mixed-replace MJPEG of the annotated frames, at most --serve-fps
    /events       Server-Sent Events, the JSON record of every frame (what --headless prints)
    /healthz      JSON for scripts: frames so far, clients, the model, the newest record

Built on the standard library's ThreadingHTTPServer (one thread per connection) and OpenCV's JPEG
encoder, as picamera2's mjpeg_server example is: nothing more to install on the device.  Safe by
default: it binds 127.0.0.1; bound anywhere else it asks every request for a random token (as Jupyter
does); request paths are matched against the four names above and never reach the file system; request
lines, headers, connections and a connection's idle time are bounded; a bad request gets its status code
and the demo goes on.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import socket
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cifar_edge.camera_demo.live_feed import Full, LiveFeed
from cifar_edge.errors import CifarEdgeError

DEFAULT_PORT = 8000
#: Longer request lines get 414.  Headers keep the standard library's bounds (100 lines of 64 KiB: 431).
MAX_REQUEST_LINE = 2048
#: Open connections beyond this are closed at once, before a thread is started for them.
MAX_CONNECTIONS = 64
#: A connection that sends nothing, or reads nothing of a stream, for this long is dropped.
IDLE_TIMEOUT_S = 10.0
#: A stream's socket send buffer: a few frames.  Beyond it a viewer that stopped reading blocks only its own
#: thread, and after IDLE_TIMEOUT_S more it is dropped (the kernel's default grows to megabytes first).
STREAM_SEND_BUFFER = 256 * 1024
BOUNDARY = "cifar-edge-frame"


def parse_address(spec: str) -> tuple[str, int]:
    """'[HOST:]PORT' -> (host, port); the host defaults to 127.0.0.1 (this machine only)."""
    host, _, port = spec.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or int(port) > 65535:
        raise CifarEdgeError(f"--serve takes [HOST:]PORT such as 8000, 127.0.0.1:8000 or 0.0.0.0:8000; "
                             f"got {spec!r}")
    return host, int(port)


def is_loopback(host: str) -> bool:
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback
                   for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP))
    except (OSError, ValueError):
        return False


def page_html() -> bytes:
    return resources.files("cifar_edge.camera_demo").joinpath("page.html").read_bytes()


class Handler(BaseHTTPRequestHandler):
    server: "CameraServer"
    server_version = "cifar-edge"
    timeout = IDLE_TIMEOUT_S
    # Every answer has a status line, even to bytes that are not HTTP (the standard library would answer
    # those in HTTP/0.9, which has none), and errors are one line of text, not an HTML page.
    default_request_version = "HTTP/1.0"
    error_content_type = "text/plain; charset=utf-8"
    error_message_format = "%(code)d %(message)s\n"

    def parse_request(self) -> bool:
        if len(self.raw_requestline) > MAX_REQUEST_LINE:
            self.requestline, self.request_version, self.command = "", "", ""
            self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG, f"request lines are limited to {MAX_REQUEST_LINE} bytes")
            return False
        return super().parse_request()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        token = self.server.token
        if token and not hmac.compare_digest(parse_qs(url.query).get("token", [""])[0].encode(), token.encode()):
            return self.reply_text(HTTPStatus.FORBIDDEN, "a token is required: open the URL that cifar-edge "
                                   "camera printed (it ends in ?token=...)")
        route = {"/": self.send_page, "/stream.mjpg": self.send_stream, "/events": self.send_events,
                 "/healthz": self.send_health}.get(url.path)
        if route is None:
            return self.reply_text(HTTPStatus.NOT_FOUND, "not found: the camera page is /")
        route()

    def reply(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def reply_text(self, status: HTTPStatus, message: str) -> None:
        self.reply(status, "text/plain; charset=utf-8", f"{message}\n".encode())

    def send_page(self) -> None:
        self.reply(HTTPStatus.OK, "text/html; charset=utf-8", page_html())

    def send_health(self) -> None:
        body = {"status": "ok", **self.server.feed.status(), "model": self.server.model_info}
        self.reply(HTTPStatus.OK, "application/json", json.dumps(body).encode())

    def start_stream(self, content_type: str) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, STREAM_SEND_BUFFER)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-store")
        self.end_headers()

    def send_stream(self) -> None:
        try:
            with self.server.feed.watch() as jpegs:
                self.start_stream(f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                for jpeg in jpegs:
                    self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                                     f"Content-Length: {len(jpeg)}\r\n\r\n".encode() + jpeg + b"\r\n")
        except Full as full:
            self.reply_text(HTTPStatus.SERVICE_UNAVAILABLE, str(full))

    def send_events(self) -> None:
        try:
            with self.server.feed.listen() as batches:
                self.start_stream("text/event-stream")
                self.wfile.write(b"retry: 1000\n\n")
                for batch in batches:
                    self.wfile.write("".join(f"data: {line}\n\n" for line in batch).encode() if batch
                                     else b": still here\n\n")
        except Full as full:
            self.reply_text(HTTPStatus.SERVICE_UNAVAILABLE, str(full))

    def log_message(self, format, *args) -> None:
        pass  # one line per request (30 a second per viewer of a page) is noise in the demo's terminal


class CameraServer(ThreadingHTTPServer):
    """The HTTP side of `camera --serve`, serving `feed` from a thread of its own."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], feed: LiveFeed, model_info: dict, token: str | None):
        host, _ = address
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.feed, self.model_info, self.token = feed, model_info, token
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        try:
            super().__init__(address, Handler)
        except OSError as exc:
            raise CifarEdgeError(f"cannot serve on {host}:{address[1]}: {exc.strerror or exc}") from None
        self._thread = threading.Thread(target=self.serve_forever, name="cifar-edge-http", daemon=True)

    @classmethod
    def open(cls, spec: str, feed: LiveFeed, model_path: Path, model_info: dict) -> "CameraServer":
        host, port = parse_address(spec)
        token = None if is_loopback(host) else secrets.token_urlsafe(24)
        info = {"file": model_path.name, "format": model_info.get("format", model_path.suffix.lstrip(".")),
                "bytes": model_path.stat().st_size}
        return cls((host, port), feed, info, token)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def urls(self) -> list[str]:
        """Where a browser finds the page: this machine's name and address when bound to all of them."""
        host = self.server_address[0]
        query = f"?token={self.token}" if self.token else ""
        hosts = [host]
        if ipaddress.ip_address(host).is_unspecified:
            hosts = [socket.gethostname(), *local_addresses()]
        return [f"http://{f'[{h}]' if ':' in h else h}:{self.port}/{query}" for h in dict.fromkeys(hosts)]

    def start(self) -> "CameraServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Closes the feed, stops accepting, and cuts every open connection (a stalled client too)."""
        self.feed.close()
        self.shutdown()
        with self._connections_lock:
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.server_close()

    # --- bounded connections, no tracebacks -------------------------------------------------------

    def process_request(self, request, client_address) -> None:
        with self._connections_lock:
            if len(self._connections) >= MAX_CONNECTIONS:
                self.shutdown_request(request)
                return
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        kind, error, _ = sys.exc_info()
        if kind in (BrokenPipeError, ConnectionResetError, TimeoutError, ConnectionAbortedError):
            return  # a viewer closed the tab, or stopped reading for IDLE_TIMEOUT_S
        print(f"warning: a request from {client_address[0]} failed: {kind.__name__}: {error}",
              file=sys.stderr, flush=True)


def local_addresses() -> list[str]:
    """This machine's address on the network a laptop would use (the route to a public address; no
    packet is sent), or nothing when offline."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 80))  # TEST-NET-1: never routed, only used to pick an interface
            return [probe.getsockname()[0]]
        except OSError:
            return []
