"""A department's interface on 127.0.0.1 for tests: records what it is sent, fails on demand."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """A department's interface on 127.0.0.1: records every JSON body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.requests = 0  # every request, health probes included
        self.probes = 0  # requests without a body: connection tests and scheduled probes
        self.pushes = 0  # requests carrying records
        self.fail_from: int | None = None  # answer 500 from this push number (1-based) on
        self.hold_from: int | None = None  # from this push on, wait for ``release`` first
        self.release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else {}  # a health probe posts nothing
                with receiver._lock:
                    receiver.requests += 1
                    if "records" not in body:
                        receiver.probes += 1
                        number = 0  # probes are never failed or held
                    else:
                        receiver.pushes += 1
                        number = receiver.pushes
                if number and receiver.hold_from is not None and number >= receiver.hold_from:
                    receiver.release.wait(10)
                failing = bool(number) and (
                    receiver.fail_from is not None and number >= receiver.fail_from
                )
                if not failing:
                    with receiver._lock:
                        receiver.bodies.append(body)
                self.send_response(500 if failing else 200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                self.wfile.write("服务暂不可用".encode() if failing else b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/share"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def keys(self) -> list[str]:
        """Record keys in the order they arrived (accepted requests only)."""
        return [r["key"] for body in self.bodies for r in body.get("records", [])]

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
