"""A small local server speaking the OpenAI chat-completions format, for backend tests.

It streams a fixed list of pieces as server-sent events (chunked HTTP/1.1, `data: {...}` lines,
then `data: [DONE]`), and can misbehave on demand: `mode` = "ok", "error500" (HTTP 500),
"cut" (the connection drops mid-stream, inside a chunk), "no_done" (the body ends cleanly but
without a finish reason or `[DONE]`) or "slow" (waits `delay_s` before the first piece).
Every request is recorded with its headers and JSON body.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_PIECES = ("Pick", " a", " 7B", " model", " in", " Q4_K_M", ".")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up on a slow or cut stream is expected here, not an error.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def do_GET(self) -> None:
        fake = self.server.fake
        if self.path.rstrip("/") == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": fake.model, "object": "model"}]})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        if fake.mode == "error500":
            self._json(500, {"error": {"message": "internal error", "type": "server_error"}})
            return
        if not body.get("stream"):
            text = "".join(fake.pieces)
            message = {"role": "assistant", "content": text}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            self._json(200, {"object": "chat.completion", "choices": [choice]})
            return
        self._stream(fake)

    def _stream(self, fake: FakeOpenAIServer) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if fake.mode == "slow":
            time.sleep(fake.delay_s)
        pieces = list(fake.pieces)
        if fake.mode == "cut":
            pieces = pieces[: max(1, len(pieces) // 2)]
        self._chunk(_event({"role": "assistant"}, None))
        for piece in pieces:
            self._chunk(_event({"content": piece}, None))
        if fake.mode == "cut":
            # Announce a chunk longer than what follows, then drop the connection.
            self.wfile.write(b'400\r\ndata: {"choi')
            self.wfile.flush()
            self.close_connection = True
            return
        if fake.mode != "no_done":
            self._chunk(_event({}, "stop"))
            self._chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def _event(delta: dict[str, str], finish_reason: str | None) -> bytes:
    payload = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    return f"data: {json.dumps(payload)}\n\n".encode()


class FakeOpenAIServer:
    """An OpenAI-compatible server on 127.0.0.1 and a free port, in a background thread.

    Use as a context manager; `url` is the base address without `/v1`.
    """

    def __init__(self, pieces: tuple[str, ...] = DEFAULT_PIECES, model: str = "fake-model") -> None:
        self.pieces = pieces
        self.model = model
        self.mode = "ok"
        self.delay_s = 1.0
        self.requests: list[dict[str, Any]] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
