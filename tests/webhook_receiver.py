"""A loopback webhook receiver for the tests: records every POST, answers from a script of statuses."""

from __future__ import annotations

import http.server
import threading
import time
from typing import Any


class Receiver:
    """A loopback HTTP server recording every POST; answers from a script of statuses (then 200)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.script: list[tuple[int, dict[str, str]]] = []
        self.delay = 0.0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                time.sleep(receiver.delay)
                status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                receiver.received.append({"headers": dict(self.headers), "body": body, "status": status})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(b"not json at all" if status >= 300 else b"ok")

            def log_message(self, *_: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ids(self) -> list[str]:
        return [r["headers"]["webhook-id"] for r in self.received if r["status"] < 300]

    def close(self) -> None:
        self.server.shutdown()
