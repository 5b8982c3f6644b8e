"""Every command speaks Portuguese (Brazil) and Spanish (Spain), within Discord's rules."""

from __future__ import annotations

import re
from typing import Any

import discord
import pytest

from bot.config import load_settings
from bot.core.costs import KV_TYPES
from bot.core.desk import Desk
from bot.discord_app import create_bot
from bot.discord_app.client import EXTENSIONS
from bot.discord_app.translations import LOCALES, CommandTranslator, command_strings, translate

# Discord's rule for slash command and option names (lowercase, no spaces, up to 32).
NAME = re.compile(r"^[-_\w]{1,32}$")


@pytest.fixture
async def tree(tmp_path) -> Any:  # noqa: ANN001
    settings = load_settings(None, data_dir=tmp_path)
    bot = create_bot(settings, Desk.build(settings))
    for extension in EXTENSIONS:
        await bot.load_extension(extension)
    yield bot.tree
    await bot.close()


async def test_every_command_string_has_both_translations(tree: Any) -> None:
    strings = list(command_strings(tree))
    kinds = {kind for kind, _ in strings}
    assert {"context menu", "name", "description", "option", "option description",
            "choice"} <= kinds
    missing = [(kind, text, locale.value) for kind, text in strings for locale in LOCALES
               if not (kind == "choice" and text in KV_TYPES) and translate(text, locale) is None]
    assert missing == []


async def test_translations_follow_discords_limits(tree: Any) -> None:
    for kind, text in command_strings(tree):
        for locale in LOCALES:
            out = translate(text, locale)
            if out is None:
                continue
            if kind in ("name", "option"):
                assert NAME.match(out) and out == out.lower(), (text, out)
            elif kind == "context menu":
                assert 1 <= len(out) <= 32, out
            else:
                assert 1 <= len(out) <= 100, out


async def test_the_synced_payload_carries_the_localizations(tree: Any) -> None:
    translator = CommandTranslator()
    payloads = {}
    for command in tree.get_commands():
        payloads[command.name] = await command.get_translated_payload(tree, translator)
    ask = payloads["ask"]
    assert ask["name_localizations"] == {"pt-BR": "perguntar", "es-ES": "preguntar"}
    assert ask["options"][0]["description_localizations"]["es-ES"].startswith("Tu pregunta")
    menu = payloads["Ask ModelDesk"]
    assert menu["name_localizations"]["pt-BR"] == "Perguntar ao ModelDesk"
    assert translate("ask", discord.Locale.french) is None  # other locales keep the English


def test_names_within_one_command_stay_distinct_in_each_language() -> None:
    from bot.discord_app.translations import TEXTS

    for index in range(len(LOCALES)):
        names = ["question", "model", "quant", "context", "hardware", "kv_type", "gpus",
                 "parallel", "usd_per_hour", "usd_per_kwh", "api_usd_per_mtok"]
        translated = [TEXTS[n][index] for n in names]
        assert len(set(translated)) == len(translated)
