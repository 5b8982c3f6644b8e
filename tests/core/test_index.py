from __future__ import annotations

import pytest
from kb_support import expected_chunks

from bot.core.errors import Busy, IndexNotReady


def _count_embedded(embedder, monkeypatch) -> list[int]:
    calls: list[int] = []
    original = embedder.embed

    def counting(texts):
        calls.append(len(texts))
        return original(texts)

    monkeypatch.setattr(embedder, "embed", counting)
    return calls


def test_incremental_reindex_embeds_only_what_changed(services, kb_dir, embedder,
                                                      monkeypatch) -> None:
    first = services.index.reindex()
    assert first.full and len(first.added) == 3 and first.total_chunks == expected_chunks()
    calls = _count_embedded(embedder, monkeypatch)

    noop = services.index.reindex()
    assert calls == [] and noop.chunks_embedded == 0 and len(noop.unchanged) == 3

    vram = kb_dir / "costs" / "vram.md"
    vram.write_text(vram.read_text() + "\n## Overhead\n\nThe runtime needs a compute buffer.\n")
    (kb_dir / "models" / "llama-family.md").unlink()
    changed = services.index.reindex()
    assert changed.changed == ["costs/vram.md"]
    assert changed.removed == ["models/llama-family.md"]
    assert sum(calls) == changed.chunks_embedded == 3  # only the changed file's 3 chunks
    assert changed.total_chunks == 5
    files = {c.file for c in services.retriever.search("Llama license 700 million", k=5)}
    assert "models/llama-family.md" not in files
    top = services.retriever.search("compute buffer overhead", k=1)[0]
    assert top.heading == "Overhead"


def test_full_rebuild_failing_half_way_leaves_the_old_index_serving(services, kb_dir, embedder,
                                                                    monkeypatch) -> None:
    services.index.reindex()
    before = services.retriever.search("can a .pt checkpoint run code", k=3)
    stats_before = services.index.stats()
    (kb_dir / "security" / "extra.md").write_text(
        "---\ntitle: Extra\narea: security\nreviewed: 2026-11-24\nsources: [x]\n---\n"
        + "\n".join(f"## Section {i}\n\nText {i} about scanners.\n" for i in range(80))
    )
    original = embedder.embed
    seen = {"n": 0}

    def failing(texts):
        seen["n"] += 1
        if seen["n"] == 2:
            raise RuntimeError("disk full")
        return original(texts)

    monkeypatch.setattr(embedder, "embed", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        services.index.reindex(full=True)
    monkeypatch.setattr(embedder, "embed", original)
    after = services.retriever.search("can a .pt checkpoint run code", k=3)
    assert [(c.id, c.score) for c in after] == [(c.id, c.score) for c in before]
    assert services.index.stats()["collection"] == stats_before["collection"]
    names = [c.name for c in services.index.client.list_collections()]
    assert sum(n.startswith("modeldesk-2") for n in names) == 1  # the half-built one is gone


def test_full_rebuild_swaps_collections(services) -> None:
    services.index.reindex()
    old = services.index.stats()["collection"]
    report = services.index.reindex(full=True)
    assert report.full and report.unchanged and report.total_chunks == expected_chunks()
    new = services.index.stats()["collection"]
    assert new != old
    assert services.retriever.search("weights_only", k=1)[0].file == "security/pickle.md"


def test_index_built_with_another_embedding_model_is_refused(services) -> None:
    services.index.reindex()
    manifest = services.index.read_manifest()
    manifest["embedding_model"] = "some-other-model"
    services.index._write_manifest(manifest)
    with pytest.raises(IndexNotReady, match="reindex --full"):
        services.retriever.search("pickle", k=1)
    with pytest.raises(IndexNotReady, match="reindex --full"):
        services.index.reindex()
    services.index.reindex(full=True)
    assert services.retriever.search("pickle", k=1)


def test_empty_index_says_what_to_run(services) -> None:
    with pytest.raises(IndexNotReady, match="modeldesk reindex"):
        services.retriever.search("anything", k=1)


def test_second_reindex_while_one_runs_is_refused(services) -> None:
    assert services.index._lock.acquire()
    try:
        with pytest.raises(Busy):
            services.index.reindex()
    finally:
        services.index._lock.release()


def test_progress_callback_reports_every_chunk(services) -> None:
    seen: list[tuple[int, int]] = []
    services.index.reindex(progress=lambda done, total, msg: seen.append((done, total)))
    assert seen[-1] == (6, 6)


def test_noop_reindex_with_a_skipped_file_leaves_the_manifest_alone(services, kb_dir) -> None:
    # The review's defect: the stored skipped list (dicts) was compared with the report's
    # (tuples), so once a file was skipped every no-op reindex rewrote the manifest.
    (kb_dir / "security" / "broken.md").write_text("no front matter here\n")
    first = services.index.reindex()
    assert [f for f, _ in first.skipped] == ["security/broken.md"]
    stamp = services.index.read_manifest()["updated_at"]
    mtime = services.settings.manifest_path.stat().st_mtime_ns
    import time

    time.sleep(1.1)  # updated_at has one-second resolution
    again = services.index.reindex()
    assert again.chunks_embedded == 0 and again.skipped == first.skipped
    assert services.index.read_manifest()["updated_at"] == stamp
    assert services.settings.manifest_path.stat().st_mtime_ns == mtime
