"""An OpenAI-compatible chat server as the language model: llama.cpp server, vLLM, Ollama, ...

Every transport failure becomes `ModelUnavailable`, whose message says what to do next.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import httpx

from bot.core.errors import ModelUnavailable
from bot.core.llm import UNAVAILABLE, PromptStats, _CompletesFromStream

log = logging.getLogger(__name__)


class OpenAICompatibleBackend(_CompletesFromStream):
    """A model behind an OpenAI-compatible chat API: llama.cpp server, vLLM, Ollama, ..."""

    def __init__(self, base_url: str, *, model: str, api_key: str | None, timeout_s: float) -> None:
        """Prepare the HTTP client; nothing is sent until the first request.

        Args:
            base_url: the server address, with or without the trailing `/v1`.
            model: the model name the server expects.
            api_key: sent as a bearer token when set.
            timeout_s: the longest wait to connect or for the next piece of the reply.
        """
        url = base_url.rstrip("/")
        if not url.endswith("/v1"):
            url += "/v1"
        self.base_url = url
        self.name = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s))

    def stream_chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        top_p: float = 0.9,
        stop: list[str] | None = None,
        stats: PromptStats | None = None,
    ) -> Iterator[str]:
        """Yield the reply piece by piece from the server's event stream.

        Args:
            messages: chat messages (`role`, `content`).
            max_tokens: the most tokens the reply may have.
            temperature: sampling temperature; 0 is greedy.
            top_p: nucleus sampling threshold.
            stop: strings that end the reply.
            stats: left empty: a server does not say how much of the prompt it had cached.

        Raises:
            BackendUnavailable: the server cannot be reached, times out, answers with an
                error or stops sending before the reply is complete.
        """
        body: dict[str, Any] = {
            "model": self.name,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "top_p": top_p,
            "stream": True,
        }
        if stop:
            body["stop"] = stop
        url = f"{self.base_url}/chat/completions"
        try:
            with self._client.stream("POST", url, json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    log.error(
                        "%s answered HTTP %d: %s", url, response.status_code, response.text[:300]
                    )
                    raise ModelUnavailable(UNAVAILABLE)
                finished = False
                for line in response.iter_lines():
                    data = _sse_data(line)
                    if data is None:
                        continue
                    if data == "[DONE]":
                        finished = True
                        break
                    piece, done = _parse_event(data, url)
                    finished = finished or done
                    if piece:
                        yield piece
                if not finished:
                    log.error("%s ended the stream before the reply was complete", url)
                    raise ModelUnavailable(UNAVAILABLE)
        except httpx.HTTPError as exc:
            log.error("Request to %s failed: %s: %s", url, type(exc).__name__, exc)
            raise ModelUnavailable(UNAVAILABLE) from exc

    @property
    def queue_depth(self) -> int:
        """The server queues requests itself; nothing waits in this process."""
        return 0

    def exclusive(self) -> AbstractContextManager[Any | None]:
        """No in-process model to hold: yields None."""
        return nullcontext(None)

    def ping(self) -> bool:
        """Whether the server answers `GET /v1/models`; the reason is logged when it does not."""
        url = f"{self.base_url}/models"
        try:
            response = self._client.get(url)
        except httpx.HTTPError as exc:
            log.warning("Health check of %s failed: %s: %s", url, type(exc).__name__, exc)
            return False
        if response.status_code != 200:
            log.warning("Health check of %s answered HTTP %d", url, response.status_code)
            return False
        return True

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def _sse_data(line: str) -> str | None:
    """The payload of an SSE `data:` line; None for comments, blank lines and other fields."""
    if not line.startswith("data:"):
        return None
    return line[5:].strip()


def _parse_event(data: str, url: str) -> tuple[str, bool]:
    """Read one streamed chat-completion chunk: (text piece, whether the reply finished)."""
    try:
        event = json.loads(data)
    except json.JSONDecodeError as exc:
        log.error("%s sent an unreadable event: %.200s", url, data)
        raise ModelUnavailable(UNAVAILABLE) from exc
    if "error" in event:
        log.error("%s reported an error mid-stream: %.300s", url, data)
        raise ModelUnavailable(UNAVAILABLE)
    choices = event.get("choices") or []
    if not choices:
        return "", False
    choice = choices[0]
    piece = (choice.get("delta") or {}).get("content") or ""
    return piece, bool(choice.get("finish_reason"))
