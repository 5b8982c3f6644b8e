"""A member's saved machine ("2x rtx 3090, 64 GB RAM"): read it once when saved, and lend it to
fit, speed and "biggest model" questions that name no machine. Pure text and catalog lookups.
"""

from __future__ import annotations

import dataclasses

from bot.core.catalog import Catalog
from bot.core.computed import Machine, machine_for
from bot.core.errors import InvalidInput
from bot.core.text import clean_text
from bot.core.understand import Understanding, understand

MAX_HARDWARE_CHARS = 200
EXAMPLE = '"rtx 4090", "2x rtx 3090, 64 GB RAM", "M2 Max 64GB" or "CPU only, 64 GB RAM"'
# Questions whose answer depends on the asker's machine. Memory ("how much VRAM does X need"),
# money and cloud questions have an answer without one, so a saved machine is not forced on them.
MACHINE_INTENTS = ("fit", "speed", "biggest")
# The parts of an Understanding that describe the machine.
_MACHINE_FIELDS = ("hardware", "gpus", "cloud", "vram_gb", "ram_gb", "cpu_only")


@dataclasses.dataclass(frozen=True)
class SavedMachine:
    """A saved machine as the calculator reads it."""

    text: str
    machine: Machine
    ram_gb: float | None  # system RAM beside the GPUs (for offloading), when stated

    @property
    def label(self) -> str:
        return self.machine.label


def clean_hardware_text(text: object) -> str:
    """The text to store, or InvalidInput saying why not."""
    cleaned = clean_text(text)
    if not cleaned:
        raise InvalidInput(f"Describe your machine, for example {EXAMPLE}.")
    if len(cleaned) > MAX_HARDWARE_CHARS:
        raise InvalidInput(f"Keep the machine under {MAX_HARDWARE_CHARS} characters, for "
                           f"example {EXAMPLE}.")
    return cleaned


def read_machine(text: str, catalog: Catalog) -> SavedMachine:
    """The machine in a member's own words, or InvalidInput with an example that works."""
    cleaned = clean_hardware_text(text)
    u = understand(cleaned, catalog)
    if u.problems:
        raise InvalidInput(u.problems[0])
    machine = machine_for(u, catalog) if u.names_machine else None
    if machine is None:
        raise InvalidInput(f"ModelDesk could not find a GPU, Mac or RAM size in "
                           f"\"{cleaned[:80]}\"; try {EXAMPLE}.")
    ram = u.ram_gb if machine.hardware.kind != "cpu" else None
    return SavedMachine(cleaned, machine, ram)


def wants_machine(u: Understanding) -> bool:
    """A question about running something that names no machine of its own."""
    return not u.names_machine and u.intent in MACHINE_INTENTS


def lend_machine(u: Understanding, saved: str,
                 catalog: Catalog) -> tuple[Understanding, SavedMachine] | None:
    """The question's understanding with the saved machine filled in (and that machine), or
    None when the question names its own machine, does not depend on one, or the saved text
    no longer reads."""
    if not wants_machine(u):
        return None
    try:
        machine = read_machine(saved, catalog)
    except InvalidInput:
        return None
    own = understand(machine.text, catalog)
    lent = dataclasses.replace(u, **{name: getattr(own, name) for name in _MACHINE_FIELDS})
    return lent, machine
