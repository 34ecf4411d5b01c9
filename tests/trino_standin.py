"""A stand-in Trino coordinator: HTTPS with a given PEM (key, certificate, chain), `POST /v1/statement`
answered like Trino for `SELECT 1`, and every basic-auth login recorded."""

from __future__ import annotations

import base64
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class StandIn:
    def __init__(self, keystore: Path):
        self.logins: list[tuple[str, str]] = []
        seen = self.logins

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                authorization = self.headers.get("Authorization", "")
                if not authorization.startswith("Basic "):
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="Trino"')
                    self.end_headers()
                    return
                seen.append(tuple(base64.b64decode(authorization[6:]).decode().split(":", 1)))
                body = json.dumps({
                    "id": "q1", "infoUri": "https://127.0.0.1/ui/query.html?q1", "stats": {"state": "FINISHED"},
                    "columns": [{"name": "_col0", "type": "integer",
                                 "typeSignature": {"rawType": "integer", "arguments": []}}],
                    "data": [[1]]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(keystore))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
