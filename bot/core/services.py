"""Everything a front end needs, built once per process from the settings."""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.core.embeddings import Embedder, get_embedder
from bot.core.index import KnowledgeIndex
from bot.core.retrieval import Retriever

if TYPE_CHECKING:
    from bot.core.answer import AnswerPipeline
    from bot.core.catalog import Catalog

log = logging.getLogger(__name__)


class Services:
    """Embedder, index and retriever at once; the LLM pipeline and the catalog when first used."""

    def __init__(self, settings: Settings, *, embedder: Embedder | None = None,
                 chroma_client: Any | None = None, llm: Any | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or get_embedder(settings.embedding_model)
        self.index = KnowledgeIndex(settings, self.embedder, chroma_client)
        self.retriever = Retriever(self.index, self.embedder)
        self._llm = llm
        self._lock = threading.Lock()
        self._pipeline: AnswerPipeline | None = None

    @property
    def pipeline(self) -> AnswerPipeline:
        """The answer pipeline; the model loads once, even when worker threads ask at once."""
        if self._pipeline is None:
            with self._lock:
                if self._pipeline is None:
                    from bot.core.answer import AnswerPipeline
                    from bot.core.llm import build_backend

                    llm = self._llm or build_backend(self.settings)
                    self._pipeline = AnswerPipeline(self.retriever, llm, self.embedder,
                                                    self.settings)
        return self._pipeline

    @cached_property
    def catalog(self) -> Catalog:
        from bot.core.catalog import Catalog

        return Catalog.load(self.settings.knowledge_dir / "data")

    def close(self) -> None:
        if self._pipeline is not None:
            self._pipeline.close()


def build_services(settings: Settings, **kwargs: Any) -> Services:
    """Build the services for a process (models load once and are shared)."""
    return Services(settings, **kwargs)
