"""A loopback webhook receiver for the tests: records every POST, answers from a script of statuses."""

from __future__ import annotations

import http.server
import ssl
import threading
import time
from typing import Any


class Receiver:
    """A loopback HTTP server recording every POST; answers from a script of statuses (then 200)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        self.received: list[dict[str, Any]] = []
        self.server_names: list[str | None] = []  # TLS SNI of each handshake
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

        self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        self.port = self.server.server_address[1]
        if tls:
            tls.sni_callback = lambda _socket, name, _context: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ids(self) -> list[str]:
        return [r["headers"]["webhook-id"] for r in self.received if r["status"] < 300]

    def close(self) -> None:
        self.server.shutdown()
