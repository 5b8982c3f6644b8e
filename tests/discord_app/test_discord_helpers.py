"""Small pieces of the cogs: who counts as an admin, reports, quantization choices."""

from __future__ import annotations

from dataclasses import dataclass, field
from unittest.mock import MagicMock

import discord

from bot.core.catalog import Quant
from bot.core.errors import MODEL_DOWN as BACKEND_DOWN
from bot.discord_app.cogs.admin import format_report, format_stats, is_admin
from bot.discord_app.cogs.ask import thread_name
from bot.discord_app.cogs.estimates import quant_choices, with_assumptions
from bot.discord_app.errors import APOLOGY, user_message


def _interaction(perms: int, role_ids: list[int]) -> MagicMock:
    """An interaction stand-in specced from discord.py's own classes: a misspelled attribute
    fails instead of passing silently."""
    roles = []
    for r in role_ids:
        role = MagicMock(spec_set=discord.Role)
        role.id = r
        roles.append(role)
    member = MagicMock(spec_set=discord.Member)
    member.roles = roles
    interaction = MagicMock(spec_set=discord.Interaction)
    interaction.permissions = discord.Permissions(perms)
    interaction.user = member
    return interaction


def test_admins_have_manage_server_or_a_listed_role() -> None:
    manage = discord.Permissions(manage_guild=True).value
    assert is_admin(_interaction(manage, []), [])  # type: ignore[arg-type]
    assert is_admin(_interaction(0, [7]), [7])  # type: ignore[arg-type]
    assert not is_admin(_interaction(0, [8]), [7])  # type: ignore[arg-type]


@dataclass
class _Report:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.added)} added"


def test_reindex_report_names_files_and_skip_reasons() -> None:
    report = _Report(added=[f"models/m{i}.md" for i in range(14)],
                     skipped=[("security/bad.md", "front matter: missing title")])
    text = format_report(report)
    assert text.startswith("Reindex done: 14 added")
    assert "Added (14): `models/m0.md`" in text and "and 4 more" in text
    assert "- `security/bad.md`: front matter: missing title" in text
    assert len(format_report(_Report(skipped=[("f.md", "x" * 300)] * 10))) <= 2000


def test_kb_stats_text() -> None:
    text = format_stats({"documents": 53, "chunks": 395, "last_indexed": None,
                         "embedding_model": "all-MiniLM-L6-v2", "store": "embedded"},
                        "SmolLM2", "LlamaCppBackend")
    assert "Documents: 53 · chunks: 395" in text and "Last indexed: never" in text
    assert "Language model: SmolLM2 (LlamaCppBackend)" in text


def test_quant_choices_fit_discords_limit_dropping_rare_i_quants_first() -> None:
    bits = {"IQ1_S": 1.56, "IQ1_M": 1.75, "IQ2_XXS": 2.06, "Q2_K": 2.6, "Q4_K_M": 4.89}
    quants = [Quant(id=k, bits_per_weight=v) for k, v in bits.items()]
    quants += [Quant(id=f"Q{i}_X", bits_per_weight=5.0) for i in range(22)]
    ids = quant_choices(quants)
    assert len(ids) == 25
    assert "IQ1_S" not in ids and "IQ1_M" not in ids and "Q4_K_M" in ids and "Q2_K" in ids


def test_cost_text_keeps_assumptions_within_the_limit() -> None:
    text = with_assumptions("Weights 4.6 GiB. Assumptions: a. Full list with `--json`.",
                            ["a", "b is assumed", "c" * 3000])
    assert "--json" not in text and "-# b is assumed" in text and len(text) <= 2000


def test_thread_names_are_short_and_harmless() -> None:
    assert thread_name("@everyone " + "why " * 60).startswith("@\u200beveryone")
    assert len(thread_name("x" * 500)) <= 100
    assert thread_name("   ") == "ModelDesk answer"


def test_user_messages_for_errors() -> None:
    from bot.core.errors import (
        STORE_DOWN,
        BackendUnavailable,
        InvalidInput,
        ModelUnavailable,
        StoreUnavailable,
    )

    assert user_message(ModelUnavailable()) == BACKEND_DOWN
    assert user_message(StoreUnavailable()) == STORE_DOWN
    # The message of a store outage names the store, never the model (the review's defect).
    assert "knowledge store" in user_message(StoreUnavailable(STORE_DOWN))
    assert user_message(BackendUnavailable("socket closed")) == "socket closed"
    assert user_message(InvalidInput("Pick a model.")) == "Pick a model."
    assert user_message(RuntimeError("boom")) == APOLOGY
