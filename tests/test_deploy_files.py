"""The container files say what the tested setup does (they cannot be built here: no images)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def _makefile_setup_commands() -> list[str]:
    text = (ROOT / "Makefile").read_text()
    recipe = text.split("$(STAMP): pyproject.toml", 1)[1].split("\n\n", 1)[0]
    commands = []
    for line in recipe.splitlines()[1:]:
        line = line.strip()
        if "$(PIP)" in line or "venv" in line and "python3 -m venv" in line:
            line = line.split("||", 1)[-1].strip()  # `test -x $(PY) || python3 -m venv ...`
            commands.append(line.replace("$(PIP)", ".venv/bin/pip").replace("$(VENV)", ".venv"))
    return commands


def _dockerfile_runs() -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [" ".join(line[4:].split()) for line in text.splitlines() if line.startswith("RUN ")]


def test_the_dockerfile_installs_exactly_as_the_makefile_does() -> None:
    make = _makefile_setup_commands()
    assert len(make) == 4, make  # venv, pip upgrade, torch, the project
    runs = _dockerfile_runs()
    positions = [runs.index(cmd) for cmd in make]  # each one is there, verbatim...
    assert positions == sorted(positions)  # ...and in the same order
    pip_runs = [r for r in runs if "pip install" in r]
    assert pip_runs == [c for c in make if "pip install" in c]  # and nothing else installed


def test_the_image_runs_as_an_ordinary_user() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert any(line.startswith("HEALTHCHECK") for line in lines)


def _env_example_keys() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return {line.split("=", 1)[0] for line in text.splitlines()
            if "=" in line and not line.startswith("#")}


def test_every_setting_compose_passes_is_documented() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    passed = set(compose["services"]["bot"]["environment"])
    assert {"REDIS_URL", "CHROMA_HOST", "LLM_BASE_URL", "HTTP_PORT"} <= passed
    assert passed <= _env_example_keys(), passed - _env_example_keys()
    assert passed <= {name.upper() for name in Settings.model_fields}


def test_compose_has_every_service_with_a_health_check() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    assert set(services) == {"bot", "chroma", "llm", "redis", "postgres", "prometheus"}
    for name, service in services.items():
        assert "healthcheck" in service, name
    for dep, cond in services["bot"]["depends_on"].items():
        assert cond == {"condition": "service_healthy"}, dep


def test_alert_rules_name_only_metrics_the_bot_exports() -> None:
    from bot.discord_app.metrics import BotMetrics

    exported = BotMetrics(lambda: 0, lambda: 0.05).exposition().decode()
    families = set(re.findall(r"^# TYPE (modeldesk_\w+) ", exported, re.MULTILINE))
    rules = yaml.safe_load((ROOT / "deploy" / "alerts.yml").read_text())
    used = {name for group in rules["groups"] for rule in group["rules"]
            for name in re.findall(r"modeldesk_\w+", rule["expr"])}
    assert used, "no alert uses a ModelDesk metric"
    for name in used:
        family = re.sub(r"_(total|bucket|count|sum)$", "", name)
        assert family in families or name in families, name
