"""Question -> ranked chunks with scores and source metadata.

Ranking is hybrid: cosine similarity from the embedding model, plus a BM25 score over the same
chunks so that exact terms people type ("Q4_K_M", "CVE-2024-34359", "3060") count. `Chunk.score`
stays the cosine similarity, which is what the "not covered" threshold is calibrated on.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bot.core.embeddings import Embedder
from bot.core.errors import IndexNotReady, InvalidInput, StoreUnavailable
from bot.core.index import KnowledgeIndex
from bot.core.types import Chunk

log = logging.getLogger(__name__)


def _store_errors() -> tuple[type[BaseException], ...]:
    """What a store outage or a concurrent collection swap raises; a bug raises anything else."""
    errors: list[type[BaseException]] = [IndexNotReady, StoreUnavailable, OSError]
    try:
        import httpx

        errors.append(httpx.HTTPError)
    except ImportError:  # pragma: no cover - httpx is a dependency
        pass
    try:
        from chromadb.errors import ChromaError

        errors.append(ChromaError)
    except ImportError:  # pragma: no cover - chromadb is a dependency
        pass
    return tuple(errors)


_STORE_ERRORS = _store_errors()

MAX_QUESTION_CHARS = 2000
_TOKEN = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
_STOP = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from",
     "how", "i", "if", "in", "is", "it", "its", "me", "my", "of", "on", "or", "so", "that",
     "the", "this", "to", "was", "what", "when", "where", "which", "who", "why", "will", "with",
     "you", "your", "vs"]
)
# Follow-ups like "and at 8-bit?" need the thread's previous question to mean anything; a new
# question in the same thread ("a recipe for banana bread?") must not borrow its subject.
_FOLLOW_UP_WORDS = 12
_ATTEMPTS = 4
_FOLLOW_UP_START = re.compile(
    r"^(and|or|but|also|so|then|what about|how about|same|ok(ay)?|at|with|in|on|for|vs|"
    r"versus|compared|instead)\b", re.IGNORECASE)
_FOLLOW_UP_REF = re.compile(r"\b(it|its|that|this|these|those|they|them|one|ones)\b",
                            re.IGNORECASE)


# Entity-aware ranking: a question naming a model, a machine or a runtime setting ranks the
# passages about that entity first. Each chunk gains ENTITY_WEIGHT x the share of the question's
# entities it names (a model or machine counts fully in the title or heading, half in the body;
# a setting such as OLLAMA_KEEP_ALIVE or --ctx-size counts anywhere). Chosen on both eval sets
# (see the issue note for the hit@1 / MRR table).
ENTITY_WEIGHT = 0.0
ENTITY_CANDIDATES = 10  # chunks naming an entity in their heading join the candidates
MIN_ENTITY_CHARS = 4
# Setting names people paste: --flags, ENV_VARS, snake_case knobs (keep_alive, num_ctx).
_SETTING = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]{2,}|[A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+|"
                      r"[a-z]+(?:_[a-z0-9]+)+)(?![\w-])")
EntityFinder = Callable[[str], Sequence[Sequence[str]]]


def squash(text: str) -> str:
    """Lowercase letters and digits only: "Llama 3.1 8B" and "llama-3.1-8b" both "llama318b"."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def setting_names(text: str) -> list[str]:
    """The runtime settings a question names, squashed ("keep_alive" -> "keepalive")."""
    out = []
    for m in _SETTING.finditer(text):
        name = squash(m.group(1))
        if len(name) >= MIN_ENTITY_CHARS and name not in out:
            out.append(name)
    return out


def looks_like_follow_up(question: str) -> bool:
    """Short, and either starts like a continuation or points back at something."""
    words = question.split()
    if len(words) >= _FOLLOW_UP_WORDS:
        return False
    return (len(words) <= 3 or bool(_FOLLOW_UP_START.match(question))
            or bool(_FOLLOW_UP_REF.search(question)))


def tokenize(text: str) -> list[str]:
    """Lowercase terms; compound terms (q4_k_m, llama-3.1) also yield their parts."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower()):
        if tok in _STOP:
            continue
        out.append(tok)
        if any(c in tok for c in "._-"):
            out.extend(p for p in re.split(r"[._-]", tok) if p and p not in _STOP)
    return out


class _BM25:
    def __init__(self, docs: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.tfs = [Counter(tokenize(d)) for d in docs]
        self.lens = [sum(tf.values()) for tf in self.tfs]
        self.avg = (sum(self.lens) / len(self.lens)) if self.lens else 1.0
        df: Counter[str] = Counter()
        for tf in self.tfs:
            df.update(tf.keys())
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def scores(self, query: str) -> list[float]:
        terms = [t for t in set(tokenize(query)) if t in self.idf]
        out = []
        for tf, length in zip(self.tfs, self.lens, strict=True):
            s = 0.0
            norm = self.k1 * (1 - self.b + self.b * length / self.avg)
            for t in terms:
                f = tf.get(t)
                if f:
                    s += self.idf[t] * f * (self.k1 + 1) / (f + norm)
            out.append(s)
        return out


def _to_chunk(cid: str, text: str, meta: dict[str, Any], score: float) -> Chunk:
    sources = tuple(s for s in str(meta.get("sources", "")).split("\n") if s)
    tags = tuple(t.strip() for t in str(meta.get("tags", "")).split(",") if t.strip())
    return Chunk(
        id=cid,
        text=text,
        score=round(float(score), 4),
        title=str(meta.get("title", "")),
        heading=str(meta.get("heading", "")),
        file=str(meta.get("file", "")),
        area=str(meta.get("area", "")),
        sources=sources,
        tags=tags,
    )


class Retriever:
    """Hybrid retrieval over the live collection."""

    def __init__(self, index: KnowledgeIndex, embedder: Embedder, *, lexical_weight: float = 0.35,
                 candidates: int = 30, manifest_ttl_s: float = 2.0,
                 entities: EntityFinder | None = None,
                 entity_weight: float | None = None) -> None:
        """`entities` returns, for a question, the names of each model or machine it names
        (squashed, see `squash`); settings are found here."""
        self.entities = entities
        self.entity_weight = ENTITY_WEIGHT if entity_weight is None else entity_weight
        self.index = index
        self.embedder = embedder
        self.lexical_weight = lexical_weight
        self.candidates = candidates
        self.manifest_ttl_s = manifest_ttl_s
        self._lock = threading.Lock()
        self._stamp: str | None = None
        self._checked_at = 0.0
        self._ids: list[str] = []
        self._texts: list[str] = []
        self._metas: list[dict[str, Any]] = []
        self._pos: dict[str, int] = {}
        self._heads: list[str] = []  # squashed title and heading, for entity matching
        self._bodies: list[str] = []  # squashed text
        self._bm25: _BM25 | None = None
        self._vecs = np.zeros((0, 1), dtype=np.float32)
        self._coll: Any = None

    def _refresh(self) -> None:
        """Reload the lexical side when the manifest changed (checked at most every TTL)."""
        now = time.monotonic()
        if self._bm25 is not None and now - self._checked_at < self.manifest_ttl_s:
            return
        with self._lock:
            manifest = self.index.read_manifest()
            if not manifest:
                raise IndexNotReady("The knowledge index is empty; run `modeldesk reindex` first.")
            stamp = f"{manifest['collection']}|{manifest.get('updated_at')}"
            if stamp != self._stamp:
                self.index.forget_collection()
                self._coll = self.index.collection()
                rows = self.index.all_chunks()
                self._ids = [r[0] for r in rows]
                self._texts = [r[1] for r in rows]
                self._metas = [r[2] for r in rows]
                self._vecs = np.asarray([r[3] for r in rows], dtype=np.float32)
                self._pos = {cid: i for i, cid in enumerate(self._ids)}
                self._heads, self._bodies = [], []  # squashed on first use (entity weight)
                self._bm25 = _BM25(self._texts)
                self._stamp = stamp
            self._checked_at = now

    def search(self, question: str, k: int = 5,
               history: Sequence[tuple[str, str]] | None = None) -> list[Chunk]:
        """The k best chunks for a question, best first.

        Args:
            question: what the person asked.
            k: how many chunks to return.
            history: earlier (role, text) turns of the conversation, oldest first; a short
                follow-up is searched together with the previous question.

        Raises:
            InvalidInput: an empty question.
            IndexNotReady: nothing indexed yet.
        """
        question = " ".join(question.split())
        if not question:
            raise InvalidInput("Ask a question: the text was empty.")
        if k < 1 or k > 50:
            raise InvalidInput(f"k must be between 1 and 50, not {k}.")
        query = question[:MAX_QUESTION_CHARS]
        if history and looks_like_follow_up(query):
            previous = [text for role, text in history if role == "user"]
            if previous:
                query = f"{previous[-1][:500]} {query}"
        vector = self.embedder.embed_one(query)
        for attempt in range(_ATTEMPTS):
            try:
                self._refresh()
                return self._rank(query, vector, k)
            except _STORE_ERRORS as exc:
                # Another process may have swapped (and dropped) the collection, perhaps more
                # than once in a row: re-read the manifest and try again before giving up.
                if attempt == _ATTEMPTS - 1:
                    if isinstance(exc, IndexNotReady):
                        raise
                    raise StoreUnavailable(
                        "The knowledge store is unavailable right now; try again shortly."
                    ) from exc
                log.debug("retrying the query after %s", exc)
                self._stamp = None
                self._checked_at = 0.0
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def _named(self, query: str) -> list[tuple[list[str], bool]]:
        """The question's entities: (squashed names, is a setting), models and machines first."""
        if self.entity_weight <= 0:
            return []
        if len(self._heads) != len(self._ids):
            self._heads = [squash(f"{m.get('title', '')} {m.get('heading', '')}")
                           for m in self._metas]
            self._bodies = [squash(t) for t in self._texts]
        out: list[tuple[list[str], bool]] = []
        if self.entities is not None:
            for names in self.entities(query):
                kept = [n for n in names if len(n) >= MIN_ENTITY_CHARS]
                if kept:
                    out.append((kept, False))
        out.extend(([name], True) for name in setting_names(query))
        return out

    def _entity_share(self, named: list[tuple[list[str], bool]], i: int | None) -> float:
        """How much of what the question names this chunk is about (0..1)."""
        if not named or i is None:
            return 0.0
        got = 0.0
        for names, setting in named:
            if setting:
                got += any(n in self._bodies[i] for n in names)
            elif any(n in self._heads[i] for n in names):
                got += 1.0
            elif any(n in self._bodies[i] for n in names):
                got += 0.5
        return got / len(named)

    def passages(self) -> list[Chunk]:
        """Every passage of the live collection (score 0), to prepare evidence ahead of time.

        Raises:
            IndexNotReady: nothing indexed yet.
        """
        self._refresh()
        return [_to_chunk(cid, text, meta, 0.0)
                for cid, text, meta in zip(self._ids, self._texts, self._metas, strict=True)]

    def _rank(self, query: str, vector: list[float], k: int) -> list[Chunk]:
        # The live collection was resolved by _refresh (at most every TTL): no manifest read here.
        n = min(self.candidates, max(1, len(self._ids)))
        # Texts and metadata are already in memory; ask Chroma for ids and distances only.
        res = self._coll.query(query_embeddings=[vector], n_results=n, include=["distances"])
        cos: dict[str, float] = {
            cid: 1.0 - float(d) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)
        }
        bm25 = self._bm25.scores(query) if self._bm25 else []
        top_lex = max(bm25) if bm25 else 0.0
        candidates = {cid for cid in cos if cid in self._pos}
        if top_lex > 0:
            best_lex = sorted(range(len(bm25)), key=bm25.__getitem__, reverse=True)[:10]
            candidates.update(self._ids[i] for i in best_lex if bm25[i] > 0)
        named = self._named(query)
        if named:
            about = [i for i in range(len(self._ids))
                     if any(any(n in self._heads[i] for n in names) for names, _ in named)]
            about.sort(key=lambda i: float(self._vecs[i] @ np.asarray(vector, dtype=np.float32)),
                       reverse=True)
            candidates.update(self._ids[i] for i in about[:ENTITY_CANDIDATES])
        missing = [cid for cid in candidates if cid not in cos and cid in self._pos]
        if missing:
            # Lexical-only candidates: their vectors are already in memory.
            q = np.asarray(vector, dtype=np.float32)
            for cid in missing:
                cos[cid] = float(self._vecs[self._pos[cid]] @ q)

        def fused(cid: str) -> float:
            lex = bm25[self._pos[cid]] / top_lex if top_lex > 0 and cid in self._pos else 0.0
            return (cos.get(cid, 0.0) + self.lexical_weight * lex
                    + self.entity_weight * self._entity_share(named, self._pos.get(cid)))

        ranked = sorted(candidates, key=fused, reverse=True)[:k]
        out = []
        for cid in ranked:
            i = self._pos.get(cid)
            if i is None:
                continue
            out.append(_to_chunk(cid, self._texts[i], self._metas[i], cos.get(cid, 0.0)))
        return out
