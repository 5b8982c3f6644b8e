"""The Chroma index of the knowledge base.

- Embedded `PersistentClient` under DATA_DIR by default, `HttpClient` when CHROMA_HOST is set.
- `reindex()` is incremental by content hash: unchanged files are not embedded again, a changed
  file's chunks are replaced, a deleted file's chunks are removed.
- `reindex(full=True)` builds a new collection and then swaps the manifest to point at it; an
  error half-way leaves the previous collection serving.
- The manifest (which collection is live, which files with which hashes, which embedding model)
  lives in Chroma itself, so several processes sharing a Chroma server agree on it; a copy is
  written to DATA_DIR/manifest.json for people and for `make run`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings
from bot.core.chunking import DocChunk, chunk_document
from bot.core.documents import Document, load_documents
from bot.core.embeddings import Embedder
from bot.core.errors import BackendUnavailable, Busy, IndexNotReady, StoreUnavailable

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
MANIFEST_ID = "manifest"
BATCH = 64


@dataclass
class ReindexReport:
    """What a reindex did, file by file."""

    full: bool
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks_embedded: int = 0
    total_chunks: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        kind = "Full rebuild" if self.full else "Reindex"
        text = (
            f"{kind}: {len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.removed)} removed, {len(self.unchanged)} unchanged, "
            f"{len(self.skipped)} skipped; {self.chunks_embedded} chunks embedded, "
            f"{self.total_chunks} in the index ({self.seconds:.1f} s)."
        )
        for path, reason in self.skipped:
            text += f"\n  skipped {path}: {reason}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "full": self.full,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": [{"file": f, "reason": r} for f, r in self.skipped],
            "chunks_embedded": self.chunks_embedded,
            "total_chunks": self.total_chunks,
            "seconds": round(self.seconds, 3),
        }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def make_client(settings: Settings) -> Any:
    """A Chroma client for the settings: HTTP when CHROMA_HOST is set, embedded otherwise."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    except Exception as exc:  # chromadb raises plain exceptions for a server that is down
        log.warning("cannot open the Chroma store: %s", exc)
        raise StoreUnavailable(
            "The knowledge store is unavailable right now; try again shortly."
        ) from exc


class KnowledgeIndex:
    """The knowledge base in Chroma: build, update, describe and read."""

    def __init__(self, settings: Settings, embedder: Embedder, client: Any | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self._client = client
        self._lock = threading.Lock()  # one reindex at a time in this process
        self._collection_cache: tuple[str, Any] | None = None

    # -- store plumbing -----------------------------------------------------------------
    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_client(self.settings)
        return self._client

    @property
    def store(self) -> str:
        s = self.settings
        return f"http://{s.chroma_host}:{s.chroma_port}" if s.chroma_host else "embedded"

    def _manifest_collection(self) -> Any:
        return self.client.get_or_create_collection(
            f"{self.settings.collection}-manifest", embedding_function=None
        )

    def read_manifest(self) -> dict[str, Any] | None:
        """The live manifest, or None when nothing was indexed yet."""
        try:
            got = self._manifest_collection().get(ids=[MANIFEST_ID], include=["documents"])
        except BackendUnavailable:
            raise
        except Exception as exc:
            raise StoreUnavailable(
                "The knowledge store is unavailable right now; try again shortly."
            ) from exc
        docs = got.get("documents") or []
        return json.loads(docs[0]) if docs and docs[0] else None

    def _write_manifest(self, manifest: dict[str, Any]) -> None:
        self._manifest_collection().upsert(
            ids=[MANIFEST_ID], documents=[json.dumps(manifest)], embeddings=[[0.0]]
        )
        self._collection_cache = None
        try:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.settings.manifest_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(manifest, indent=2))
            tmp.replace(self.settings.manifest_path)
        except OSError as exc:  # the copy is for people; the store holds the truth
            log.warning("could not write %s: %s", self.settings.manifest_path, exc)

    def _new_collection(self) -> Any:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
        name = f"{self.settings.collection}-{stamp}-{uuid.uuid4().hex[:6]}"
        return self.client.create_collection(
            name, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )

    def collection(self) -> Any:
        """The live collection; IndexNotReady when there is none or it was built differently."""
        manifest = self.read_manifest()
        if not manifest:
            raise IndexNotReady("The knowledge index is empty; run `modeldesk reindex` first.")
        self.check_compatible(manifest)
        name = manifest["collection"]
        if self._collection_cache and self._collection_cache[0] == name:
            return self._collection_cache[1]
        try:
            coll = self.client.get_collection(name, embedding_function=None)
        except Exception as exc:
            raise IndexNotReady(
                "The knowledge index is missing its collection; run `modeldesk reindex --full`."
            ) from exc
        self._collection_cache = (name, coll)
        return coll

    def forget_collection(self) -> None:
        """Drop the cached handle (another process may have swapped the collection)."""
        self._collection_cache = None

    def check_compatible(self, manifest: dict[str, Any]) -> None:
        if manifest.get("embedding_model") != self.embedder.name or manifest.get(
            "dimension"
        ) != self.embedder.dimension:
            raise IndexNotReady(
                f"The index was built with the embedding model {manifest.get('embedding_model')!r}"
                f" but {self.embedder.name!r} is configured; run `modeldesk reindex --full`."
            )

    # -- building -----------------------------------------------------------------------
    def _chunks(self, doc: Document) -> list[DocChunk]:
        return chunk_document(
            doc, chunk_size=self.settings.chunk_size, overlap=self.settings.chunk_overlap
        )

    def _add(self, coll: Any, chunks: list[DocChunk], progress: Progress | None, done: int,
             total: int) -> int:
        for start in range(0, len(chunks), BATCH):
            batch = chunks[start : start + BATCH]
            vectors = self.embedder.embed([c.text for c in batch])
            coll.add(
                ids=[c.id for c in batch],
                documents=[c.text for c in batch],
                metadatas=[dict(c.metadata) for c in batch],
                embeddings=vectors,
            )
            done += len(batch)
            if progress:
                progress(done, total, f"embedded {done}/{total} chunks")
        return done

    def reindex(self, full: bool = False, progress: Progress | None = None) -> ReindexReport:
        """Bring the index in line with the knowledge folder.

        Args:
            full: build a new collection from scratch and swap it in.
            progress: called as progress(done, total, message) while chunks are embedded.

        Raises:
            Busy: another reindex is running in this process.
            IndexNotReady: an incremental reindex over an index built with another model.
        """
        if not self._lock.acquire(blocking=False):
            raise Busy("A reindex is already running; wait for it to finish.")
        try:
            return self._reindex(full, progress)
        finally:
            self._lock.release()

    def _reindex(self, full: bool, progress: Progress | None) -> ReindexReport:
        started = time.perf_counter()
        report = ReindexReport(full=full)
        loaded = load_documents(self.settings.knowledge_dir)
        report.skipped = [(s.path, s.reason) for s in loaded.skipped]
        docs = {d.path: d for d in loaded.documents}
        old = None if full else self.read_manifest()
        if old is not None:
            self.check_compatible(old)  # another embedding model: refuse, say to run --full
            if old.get("chunk_size") != self.settings.chunk_size:
                old = None  # chunking changed: everything must be rebuilt
        if old is None:
            report.full = True
            self._full_build(docs, report, progress)
        else:
            self._incremental(old, docs, report, progress)
        report.seconds = time.perf_counter() - started
        log.info("%s", report.summary())
        return report

    def _manifest_for(self, coll_name: str, files: dict[str, Any], report: ReindexReport,
                      built_at: str) -> dict[str, Any]:
        return {
            "collection": coll_name,
            "embedding_model": self.embedder.name,
            "dimension": self.embedder.dimension,
            "chunk_size": self.settings.chunk_size,
            "built_at": built_at,
            "updated_at": _now(),
            "files": files,
            "skipped": [{"file": f, "reason": r} for f, r in report.skipped],
            "chunks": sum(int(f["chunks"]) for f in files.values()),
        }

    def _full_build(self, docs: dict[str, Document], report: ReindexReport,
                    progress: Progress | None) -> None:
        previous = self.read_manifest()
        planned = {path: self._chunks(doc) for path, doc in docs.items()}
        total = sum(len(c) for c in planned.values())
        coll = self._new_collection()
        try:
            all_chunks = [c for chunks in planned.values() for c in chunks]
            self._add(coll, all_chunks, progress, 0, total)
        except BaseException:
            # The old collection keeps serving; the half-built one goes.
            try:
                self.client.delete_collection(coll.name)
            except Exception:  # noqa: BLE001 - best effort cleanup
                log.warning("could not delete the half-built collection %s", coll.name)
            raise
        files = {
            path: {"sha256": doc.sha256, "chunks": len(planned[path]), "title": doc.title}
            for path, doc in docs.items()
        }
        old_files = (previous or {}).get("files", {})
        report.added = sorted(p for p in docs if p not in old_files)
        report.changed = sorted(
            p for p in docs if p in old_files and old_files[p]["sha256"] != docs[p].sha256
        )
        report.unchanged = sorted(
            p for p in docs if p in old_files and old_files[p]["sha256"] == docs[p].sha256
        )
        report.removed = sorted(p for p in old_files if p not in docs)
        report.chunks_embedded = total
        report.total_chunks = total
        self._write_manifest(self._manifest_for(coll.name, files, report, _now()))
        if previous and previous.get("collection") != coll.name:
            try:
                self.client.delete_collection(previous["collection"])
            except Exception:  # noqa: BLE001 - an old collection left behind is harmless
                log.info("old collection %s was already gone", previous.get("collection"))

    def _incremental(self, old: dict[str, Any], docs: dict[str, Document],
                     report: ReindexReport, progress: Progress | None) -> None:
        coll = self.collection()
        old_files: dict[str, Any] = dict(old.get("files", {}))
        files = dict(old_files)
        todo: dict[str, list[DocChunk]] = {}
        for path, doc in docs.items():
            if path not in old_files:
                report.added.append(path)
            elif old_files[path]["sha256"] != doc.sha256:
                report.changed.append(path)
            else:
                report.unchanged.append(path)
                continue
            todo[path] = self._chunks(doc)
        report.removed = sorted(p for p in old_files if p not in docs)
        for path in report.changed + report.removed:
            coll.delete(where={"file": path})
            files.pop(path, None)
        total = sum(len(c) for c in todo.values())
        done = 0
        for path, chunks in todo.items():
            done = self._add(coll, chunks, progress, done, total)
            files[path] = {"sha256": docs[path].sha256, "chunks": len(chunks),
                           "title": docs[path].title}
        report.chunks_embedded = total
        report.total_chunks = sum(int(f["chunks"]) for f in files.values())
        if todo or report.removed or old.get("skipped") != report.to_dict()["skipped"]:
            self._write_manifest(self._manifest_for(old["collection"], files, report,
                                                    old.get("built_at", _now())))
        elif not self.settings.manifest_path.exists():
            self._write_manifest(old)

    # -- describing ---------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Documents, chunks, last indexed, model and store, for `/kb` and `modeldesk`."""
        manifest = self.read_manifest() or {}
        files = manifest.get("files", {})
        return {
            "documents": len(files),
            "chunks": manifest.get("chunks", 0),
            "last_indexed": manifest.get("updated_at"),
            "built_at": manifest.get("built_at"),
            "embedding_model": manifest.get("embedding_model", self.embedder.name),
            "store": self.store,
            "collection": manifest.get("collection"),
            "skipped": manifest.get("skipped", []),
        }

    def all_chunks(self) -> list[tuple[str, str, dict[str, Any], Any]]:
        """Every (id, text, metadata, embedding) in the live collection, for lexical ranking."""
        got = self.collection().get(include=["documents", "metadatas", "embeddings"])
        return list(zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"],
                        strict=True))

