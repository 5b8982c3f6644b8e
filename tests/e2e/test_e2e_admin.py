"""/reindex only for admins (Manage Server or an ADMIN_ROLE_IDS role), one at a time; /kb."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from e2e_support import Desk

from bot.discord_app.cogs.admin import REINDEX_RUNNING
from bot.discord_app.errors import NOT_ADMIN

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def _command(desk: Desk, name: str) -> dict[str, Any]:
    synced = desk.fake.commands[str(desk.fake.guild_id)]
    return next(c for c in synced if c["name"] == name)


async def test_members_without_manage_server_are_refused_and_cannot_see_it(desk: Desk) -> None:
    assert str(_command(desk, "reindex")["default_member_permissions"]) == "32"  # Manage Server
    inter = await desk.run("reindex", user="alice")
    reply = inter.callbacks[0]
    assert reply["type"] == 4 and reply["data"]["flags"] & 64
    assert reply["data"]["content"] == NOT_ADMIN
    assert inter.original is not None and "Reindex" not in inter.original["content"]


async def test_an_admin_reindexes_and_a_second_reindex_is_refused(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = desk.services.index
    real = index.reindex
    started, release = threading.Event(), threading.Event()

    def slow_reindex(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(index, "reindex", slow_reindex)
    first = await desk.fake.slash("reindex", user="bob")  # Manage Server through a role
    await desk.fake.wait_until(lambda: first.callbacks, timeout=10)
    assert first.callbacks[0]["type"] == 5
    assert started.wait(10)

    second = await desk.run("reindex", user="carol")  # admin through ADMIN_ROLE_IDS
    assert second.callbacks[0]["data"]["content"] == REINDEX_RUNNING
    assert second.callbacks[0]["data"]["flags"] & 64

    release.set()
    await desk.fake.wait_until(
        lambda: first.original and first.original["content"].startswith("Reindex done"),
        timeout=60,
    )
    text = first.original["content"]
    assert "unchanged" in text and "0 removed" in text, text

    third = await desk.fake.slash("reindex", user="carol")
    await desk.fake.wait_until(
        lambda: third.original and third.original["content"].startswith("Reindex done"),
        timeout=60,
    )


async def test_kb_shows_what_the_desk_holds_and_runs_on(desk: Desk) -> None:
    stats = desk.services.index.stats()
    inter = await desk.fake.slash("kb status", user="alice")
    await desk.fake.wait_until(
        lambda: inter.original and "Knowledge base" in inter.original["content"], timeout=30
    )
    assert inter.callbacks[0]["type"] == 5 and inter.callbacks[0]["data"]["flags"] & 64
    text = inter.original["content"]
    assert f"Documents: {stats['documents']}" in text and f"chunks: {stats['chunks']}" in text
    assert "SmolLM2" in text and "Vector store: embedded" in text


async def test_modeldesk_sync_publishes_the_commands_globally(desk: Desk) -> None:
    from bot.discord_app import sync_commands

    count = await asyncio.to_thread(sync_commands, desk.settings)
    published = {c["name"]: c for c in desk.fake.commands["global"]}
    assert count == len(published) == 9
    assert set(published) == {"ask", "cost", "fit", "kb", "reindex", "channel", "myhardware",
                              "Ask ModelDesk", "Estimate this model"}
    assert str(published["reindex"]["default_member_permissions"]) == "32"
    assert str(published["channel"]["default_member_permissions"]) == "32"
    # Where each command runs (0 = guild, 1 = the bot's DMs; installed to guilds only).
    for name in ("ask", "cost", "fit", "myhardware", "Ask ModelDesk", "Estimate this model"):
        assert sorted(published[name]["contexts"]) == [0, 1], name
    for name in ("reindex", "kb", "channel"):
        assert published[name]["contexts"] == [0], name
    assert all(c["integration_types"] == [0] for c in published.values())
    # Brazilian Portuguese and Spanish names, for the slash commands and the menus alike.
    assert published["ask"]["name_localizations"] == {"pt-BR": "perguntar", "es-ES": "preguntar"}
    assert published["Estimate this model"]["name_localizations"]["es-ES"] == "Estimar este modelo"
    assert [c["type"] for c in published.values()].count(3) == 2  # message context menus
