"""Everything a front end needs, built once per process from the settings, each part on first use.

The calculator needs only the catalogs, so `modeldesk cost` never loads the embedding model;
questions load the embedder, the index and the retriever; answers load the language model.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from bot.config import Settings

if TYPE_CHECKING:
    from bot.core.answer import AnswerPipeline
    from bot.core.catalog import Catalog
    from bot.core.embeddings import Embedder
    from bot.core.evidence import EvidenceRanker
    from bot.core.index import KnowledgeIndex
    from bot.core.llm import LLMBackend
    from bot.core.retrieval import Retriever

log = logging.getLogger(__name__)


class Services:
    """Embedder, index, retriever, LLM pipeline and catalog, each built once when first used."""

    def __init__(self, settings: Settings, *, embedder: Embedder | None = None,
                 chroma_client: Any | None = None, llm: LLMBackend | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._chroma_client = chroma_client
        self._llm = llm
        # Re-entrant: building the retriever builds the index, which needs the embedder.
        self._lock = threading.RLock()
        self._index: KnowledgeIndex | None = None
        self._retriever: Retriever | None = None
        self._pipeline: AnswerPipeline | None = None
        self._catalog: Catalog | None = None
        self._ranker: EvidenceRanker | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    from bot.core.embeddings import get_embedder

                    self._embedder = get_embedder(self.settings.embedding_model)
        return self._embedder

    @property
    def index(self) -> KnowledgeIndex:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    from bot.core.index import KnowledgeIndex

                    self._index = KnowledgeIndex(self.settings, self.embedder,
                                                 self._chroma_client)
        return self._index

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            with self._lock:
                if self._retriever is None:
                    from bot.core.retrieval import Retriever

                    self._retriever = Retriever(self.index, self.embedder,
                                                entities=self._entities)
        return self._retriever

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
                                                    self.settings, self.ranker)
        return self._pipeline

    @property
    def ranker(self) -> EvidenceRanker:
        """Evidence ranking without a language model (shared with the pipeline)."""
        if self._ranker is None:
            with self._lock:
                if self._ranker is None:
                    from bot.core.evidence import EvidenceRanker

                    self._ranker = EvidenceRanker(self.embedder)
        return self._ranker

    @property
    def pipeline_loaded(self) -> bool:
        """Whether the language model has been loaded (status must not load it)."""
        return self._pipeline is not None

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            with self._lock:
                if self._catalog is None:
                    from bot.core.catalog import Catalog

                    self._catalog = Catalog.load(self.settings.knowledge_dir / "data")
        return self._catalog

    def _entities(self, question: str) -> list[list[str]]:
        """The names (squashed) of each catalog model and machine a question names, for
        entity-aware retrieval; none when there is no catalog."""
        from bot.core.errors import ModelDeskError
        from bot.core.retrieval import squash
        from bot.core.understand import understand

        try:
            catalog = self.catalog
        except ModelDeskError:
            return []
        u = understand(question, catalog)
        out: list[list[str]] = []
        for model in u.models[:2]:
            short = model.name.split(" (")[0]
            out.append([squash(n) for n in dict.fromkeys((short, model.id, *model.aliases))
                        if "/" not in n])
        machine = u.cloud or u.hardware
        if machine is not None:
            out.append([squash(n) for n in dict.fromkeys((machine.id, *machine.aliases))])
        return out

    def close(self) -> None:
        if self._pipeline is not None:
            self._pipeline.close()


def build_services(settings: Settings, **kwargs: Any) -> Services:
    """Build the services for a process (models load once and are shared)."""
    return Services(settings, **kwargs)
