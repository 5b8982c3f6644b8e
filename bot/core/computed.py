"""Answers computed by the calculator for questions that name a model or a machine.

The first sentence is the verdict with its figures ("No. Qwen2.5 72B at Q4_K_M needs about
48.8 GB with an 8,192-token context; an RTX 4090 has 24 GB."); then what does work (a smaller
quantization, offloading, more GPUs, the best catalog model that fits), one line of
assumptions and the command that checks it on the person's own machine. Every number comes
from `estimate_cost` / `fit_models`; catalog entries are cited with their sources.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from bot.core.catalog import Catalog, CloudInstance, Hardware, Model
from bot.core.cost_types import GB, GIB, CostEstimate, FitResult
from bot.core.costs import FIT_LADDER, USABLE_FRACTION, estimate_cost
from bot.core.errors import InvalidInput, ModelDeskError
from bot.core.fit import fit_models
from bot.core.types import Answer, Citation
from bot.core.understand import Understanding

DEFAULT_QUANT = "Q4_K_M"
DEFAULT_CONTEXT = 8192
MAX_SUGGESTED_GPUS = 8
CHECK = ("Check it on your machine: `llama-fit-params -m model.gguf -c {ctx}` prints the layers "
         "and context that fit, and `nvidia-smi` or `ollama ps` shows what the loaded model "
         "really takes.")


@dataclasses.dataclass
class Machine:
    """The machine a question names, as the calculator needs it."""

    hardware: Hardware
    gpus: int
    label: str
    usd_per_hour: float | None = None
    speed_known: bool = True
    cloud: CloudInstance | None = None


_VENDOR = re.compile(r"^(?:NVIDIA|AMD|Intel|Apple)\s+"
                     r"(?:GeForce\s+|Radeon\s+(?=RX|AI|PRO)|Tesla\s+)?")


def short_name(hw: Hardware) -> str:
    """"NVIDIA GeForce RTX 4090 24 GB" -> "RTX 4090"; "Apple M2 Ultra, 192 GB ..." -> "M2 Ultra"."""
    name = _VENDOR.sub("", hw.name).split(",")[0].split("(")[0].strip()
    return re.sub(r"\s+\d+\s*GB$", "", name) or hw.name


def with_article(text: str) -> str:
    """"an RTX 4090", "a T4", "an 8,192-token context": the article by the sound of the word."""
    first = text[:1]
    acronym = len(text) > 1 and (text[1].isupper() or text[1].isdigit())
    vowel = first in "AEFHILMNORSX" if acronym and first.isupper() else (
        text.startswith(("8", "11", "18")) if first.isdigit() else first.lower() in "aeio")
    return ("an " if vowel else "a ") + text


def _gb(n: float) -> str:
    return f"{n / GB:,.1f} GB"


def _rate(tps: float) -> str:
    return f"{tps:,.0f}" if tps >= 10 else f"{tps:.1f}"


def machine_for(u: Understanding, catalog: Catalog) -> Machine | None:
    """The machine of a question: a catalog GPU or Mac (with a count), a cloud instance, a GPU
    memory size, or a CPU box with its RAM."""
    if u.cloud is not None:
        hw = catalog.hardware_named(u.cloud.gpu)
        count = u.cloud.gpu_count or 1
        label = u.cloud.name.split(" (")[0]
        return Machine(hw, count, f"{with_article(label)} ({count} x {short_name(hw)})",
                       u.cloud.usd_per_hour, cloud=u.cloud)
    if u.hardware is not None:
        hw = u.hardware
        label = f"{u.gpus} x {short_name(hw)}" if u.gpus > 1 else with_article(short_name(hw))
        return Machine(hw, u.gpus, label)
    if u.vram_gb:
        hw = Hardware.custom(u.vram_gb, 1.0, name=f"a GPU with {u.vram_gb:g} GB")
        card = f"{u.card_name} ({u.vram_gb:g} GB)" if u.card_name else None
        label = (f"{u.gpus} x {card}" if card and u.gpus > 1 else with_article(card) if card
                 else f"{u.gpus} GPUs with {u.vram_gb:g} GB each" if u.gpus > 1
                 else f"a GPU with {u.vram_gb:g} GB")
        return Machine(hw, u.gpus, label, speed_known=False)
    if u.ram_gb or u.cpu_only:
        if not u.ram_gb:
            return None
        hw = Hardware.custom(u.ram_gb, 51.2, kind="cpu", name=f"a CPU box with {u.ram_gb:g} GB")
        return Machine(hw, 1, f"a CPU-only machine with {u.ram_gb:g} GB of RAM")
    return None


def _model_for(u: Understanding, catalog: Catalog) -> tuple[Model | None, str]:
    if u.models:
        if u.same_size:
            others = " and ".join(u.same_size[:2])
            return u.models[0], (f"Taking {u.models[0].name}; {others} has the same size, so "
                                 "the figures hold for it too. ")
        return u.models[0], ""
    if u.bare_size_b:
        dense = sorted((m for m in catalog.models if not m.is_moe
                        and abs(m.params_b - u.bare_size_b) <= 0.08 * u.bare_size_b),
                       key=lambda m: ("distill" not in m.id, str(m.released or "")),
                       reverse=True)
        if dense:
            pick = dense[0]
            return pick, f"Taking {pick.name} as a typical {u.bare_size_b:g}B model. "
    return None, ""


def _estimate(model: Model, u: Understanding, catalog: Catalog, machine: Machine | None,
              quant: str | None = None) -> CostEstimate:
    context = min(u.context or DEFAULT_CONTEXT, model.context)
    return estimate_cost(
        model, quant=quant or u.quant or DEFAULT_QUANT, context=context,
        hardware=machine.hardware if machine else None, gpus=machine.gpus if machine else 1,
        parallel=min(u.users or 1, 256), usd_per_hour=(u.usd_per_hour if u.usd_per_hour
                                                        is not None else machine.usd_per_hour
                                                        if machine else None),
        usd_per_kwh=u.usd_per_kwh if u.usd_per_kwh is not None else 0.15,
        ram_gb=u.ram_gb if machine and machine.hardware.kind == "gpu" else None, catalog=catalog)


def _needs(est: CostEstimate) -> str:
    ctx = with_article(f"{est.context:,}-token context")
    users = f" for {est.parallel} users at once" if est.parallel > 1 else ""
    return (f"{est.model.name} at {est.quant.id} needs about {_gb(est.total_bytes)} with "
            f"{ctx}{users}")


def _verdict(est: CostEstimate, machine: Machine) -> str:
    have = machine.hardware.memory_gb * machine.gpus
    has = f"{machine.label} has {have:g} GB"
    if machine.hardware.kind == "apple":
        has += (f", of which macOS lets the GPU use about "
                f"{USABLE_FRACTION['apple'] * 100:.0f} %")
    if est.fits:
        free = ((est.usable_bytes or 0) - est.total_bytes) / GIB
        return f"Yes. {_needs(est)}; {has}, so about {free:.1f} GiB is left."
    return f"No. {_needs(est)}; {has}."


def _alternatives(est: CostEstimate, u: Understanding, catalog: Catalog, machine: Machine
                  ) -> list[str]:
    out: list[str] = []
    model = est.model
    if not est.fits and est.offloaded and est.runnable and est.tokens_per_second:
        speed = (f"it runs at about {_rate(est.tokens_per_second)} tokens/s"
                 if machine.speed_known else "its speed depends on the card, which the catalog "
                 "does not list")
        out.append(f"Offloading works: with {est.gpu_layers} of {model.layers} layers on the GPU "
                   f"and the rest in {est.ram_gb:g} GiB of system memory {speed}.")
        if machine.speed_known and not model.is_moe:
            moe = _moe_instead(est, u, catalog, machine)
            if moe is not None:
                how = ("fits entirely and runs" if moe.fits else "runs, offloaded the same way,")
                out.append(f"{model.name.split(' (')[0]} is dense, so every layer left in system "
                           f"memory is read for each token; a mixture-of-experts model reads "
                           f"far less: {moe.model.name.split(' (')[0]} at {moe.quant.id} reads "
                           f"about {moe.model.active_b:g}B parameters per token and {how} at "
                           f"about {_rate(moe.tokens_per_second or 0)} tokens/s on the same "
                           f"machine.")
    if not est.fits:
        bits = est.quant.bits_per_weight
        for name in FIT_LADDER:
            try:
                q = catalog.quant(name)
            except ModelDeskError:
                continue
            if q.bits_per_weight >= bits:
                continue
            smaller = _estimate(model, u, catalog, machine, quant=q.id)
            if smaller.fits:
                out.append(f"At {q.id} it fits: about {_gb(smaller.total_bytes)}.")
                break
        else:
            out.append("No quantization down to Q2_K fits entirely.")
        if machine.hardware.kind == "gpu" and machine.cloud is None and not \
                machine.hardware.custom_entry:
            for n in range(machine.gpus + 1, MAX_SUGGESTED_GPUS + 1):
                more = dataclasses.replace(machine, gpus=n)
                if _estimate(model, u, catalog, more).fits:
                    out.append(f"{n} x {short_name(machine.hardware)} hold it at "
                               f"{est.quant.id}.")
                    break
    best = _fit(catalog, machine, est.context)
    if best and not est.fits:
        top = best[0]
        out.append(f"The largest catalog model that fits entirely is {top.model.name} at "
                   f"{top.quant.id} ({_gb(top.total_bytes)}).")
    return out


def _moe_instead(est: CostEstimate, u: Understanding, catalog: Catalog, machine: Machine
                 ) -> CostEstimate | None:
    """A mixture-of-experts model of about the same total size that, offloaded the same way,
    runs at least twice as fast as the dense model asked about: the maker's own first, then
    the newest. The speeds are the calculator's, for the same machine and context."""
    size = est.model.params_b
    found: list[tuple[bool, str, CostEstimate]] = []
    for m in catalog.models:
        if not m.is_moe or not 0.5 * size <= m.params_b <= 1.5 * size or (
                "coder" in m.id and "coder" not in est.model.id):
            continue  # a coding model is no stand-in for a general one
        other = _estimate(m, u, catalog, machine)
        if (other.fits or (other.offloaded and other.runnable)) and other.tokens_per_second \
                and other.tokens_per_second >= 2 * (est.tokens_per_second or 0):
            found.append((m.maker == est.model.maker, str(m.released or ""), other))
    if not found:
        return None
    return max(found, key=lambda f: (f[0], f[1]))[2]


def _speed_money(est: CostEstimate, machine: Machine | None, u: Understanding) -> list[str]:
    out: list[str] = []
    if machine and machine.speed_known and est.fits and est.tokens_per_second and \
            est.tokens_per_second_range:
        low, high = est.tokens_per_second_range
        out.append(f"Decode speed: about {_rate(est.tokens_per_second)} tokens/s (range "
                   f"{_rate(low)} to {_rate(high)}), one stream.")
    if u.intent in ("money", "cloud") or u.usd_per_hour is not None or (
            machine and machine.cloud is not None):
        if machine and machine.cloud is not None and not machine.cloud.usd_per_hour:
            out.append(f"{machine.cloud.name}: no hourly price (a free tier or compute units).")
        elif est.usd_per_hour is not None:
            basis = est.cost_basis
            if machine and machine.cloud is not None and u.usd_per_hour is None:
                basis = "on demand" + (f", as of {machine.cloud.price_as_of}"
                                       if machine.cloud.price_as_of else "")
            line = f"Cost: ${est.usd_per_hour:,.2f} an hour ({basis})"
            if est.usd_per_million_tokens is not None:
                line += f", about ${est.usd_per_million_tokens:,.2f} per 1M output tokens"
            out.append(line + ".")
    return out


_STATE_NAMES = {"linear": "linear-attention (Gated DeltaNet)", "ssm": "Mamba-2 (state space)"}


def _layout(est: CostEstimate) -> str | None:
    """One sentence on why this model's KV cache is smaller than its size suggests (latent,
    windowed or recurrent layers), or None for plain full attention everywhere."""
    model = est.model
    groups = model.layer_groups
    kinds = {g.kind for g in groups}
    if kinds <= {"full"}:
        return None
    cache = f"{_gb(est.kv_cache_bytes + est.state_bytes)} at {est.context:,} tokens"
    parts: list[str] = []
    for g in groups:
        if g.kind == "mla" and g.kv_lora_rank and g.rope_dim:
            parts.append(f"{g.layers} layers of multi-head latent attention (MLA), one "
                         f"compressed latent of {g.kv_lora_rank + g.rope_dim} values per token "
                         "and layer")
        elif g.kind == "sliding" and g.window:
            parts.append(f"{g.layers} sliding-window layers that keep only the last "
                         f"{g.window:,} tokens")
        elif g.kind == "chunked" and g.chunk:
            parts.append(f"{g.layers} chunked-attention layers that keep at most "
                         f"{g.chunk:,} tokens")
        elif g.kind in _STATE_NAMES:
            parts.append(f"{g.layers} {_STATE_NAMES[g.kind]} layers with a fixed-size state")
        elif g.kind == "none":
            parts.append(f"{g.layers} layers with no cache")
        elif g.kind == "full":
            parts.append(f"{g.layers} full-attention layers")
    if not parts:
        return None
    listed = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    return f"KV cache: {cache}; {model.name} has {listed}."


def _assumptions(est: CostEstimate, u: Understanding) -> str:
    parts = [f"{est.quant.id} weights ({est.weights_basis})",
             f"{est.context:,} tokens in an {est.kv_type} KV cache",
             f"{_gb(est.overhead_bytes)} runtime overhead"]
    if u.quant_note:
        parts.append(u.quant_note)
    if u.context and u.context > est.model.context:
        parts.append(f"the context capped at the model's {est.model.context:,}")
    return "Assumes " + ", ".join(parts) + "."


def _cite(entries: Sequence[Model | Hardware | CloudInstance]) -> list[Citation]:
    files: dict[type, str] = {Model: "knowledge/data/models.yaml",
                              Hardware: "knowledge/data/hardware.yaml",
                              CloudInstance: "knowledge/data/clouds.yaml"}
    out: list[Citation] = []
    for entry in entries:
        if getattr(entry, "custom_entry", False) or not entry.sources:
            continue
        out.append(Citation(number=len(out) + 1, title=entry.name, heading="ModelDesk catalog",
                            file=files[type(entry)], url=entry.sources[0]))
    return out


_FIT_CACHE: dict[tuple[int, str, float, int, int], list[FitResult]] = {}


def _fit(catalog: Catalog, machine: Machine, context: int) -> list[FitResult]:
    """`fit_models`, remembered per machine and context (the catalog does not change)."""
    hw = machine.hardware
    key = (id(catalog), hw.id, hw.memory_gb, machine.gpus, context)
    if key not in _FIT_CACHE:
        if len(_FIT_CACHE) > 256:
            _FIT_CACHE.clear()
        _FIT_CACHE[key] = fit_models(catalog, hw, context=context, gpus=machine.gpus)
    return _FIT_CACHE[key]


def _needs_hardware(est: CostEstimate, catalog: Catalog) -> str:
    gpus = sorted((h for h in catalog.hardware if h.kind == "gpu"),
                  key=lambda h: (h.memory_gb, h.price_usd or 1e9))
    fits = []
    for hw in gpus:
        if estimate_cost(est.model, quant=est.quant, context=est.context, hardware=hw,
                         parallel=est.parallel, catalog=catalog).fits:
            fits.append(hw)
        if len(fits) == 3:
            break
    if not fits:
        return "No single GPU in the catalog holds it; it needs several GPUs or a server."
    names = ", ".join(h.name for h in fits[:-1]) + (" or " if len(fits) > 1 else "") + \
        fits[-1].name
    return f"The smallest single GPUs in the catalog that hold it: {names}."


def _cheapest_cloud(est: CostEstimate, u: Understanding, catalog: Catalog) -> str | None:
    options = []
    for cloud in catalog.clouds:
        if not cloud.usd_per_hour or not cloud.gpu_count:
            continue
        machine = Machine(catalog.hardware_named(cloud.gpu), cloud.gpu_count, cloud.name,
                          cloud.usd_per_hour, cloud=cloud)
        if _estimate(est.model, u, catalog, machine).fits:
            options.append(cloud)
    if not options:
        return None
    best = min(options, key=lambda c: c.usd_per_hour or 0)
    card = short_name(catalog.hardware_named(best.gpu))
    return (f"The cheapest listed instance that holds it is {best.name} ({best.gpu_count} x "
            f"{card}), ${best.usd_per_hour:,.2f} an hour on demand"
            + (f" as of {best.price_as_of}" if best.price_as_of else "") + ".")


def _lead_with(lines: list[str], marker: str, subject: str) -> list[str]:
    """A "how fast" or "what does it cost" question reads its answer first (the decode speed
    or the cost line, said of `subject`), then whether the model fits."""
    at = next((i for i, line in enumerate(lines) if line.startswith(marker)), None)
    if at is None or at == 0:
        return lines
    verb = {"Decode speed:": "decodes", "Cost:": "costs"}[marker]
    first = lines[at].replace(marker, f"{subject} {verb}", 1)
    verdict = re.sub(r"^Yes\. ", "It fits: ", lines[0])
    return [first, verdict, *lines[1:at], *lines[at + 1:]]


def computed_answer(u: Understanding, question: str, catalog: Catalog) -> Answer | None:
    """The calculator's answer to a question, or None when the question is not for it."""
    if u.problems:
        return Answer(question=question, text=u.problems[0], mode="clarify")
    if u.ambiguous:
        names = [catalog.model(i).name.split(" (")[0] for i in u.ambiguous[0]]
        options = ", ".join(names[:-1]) + " or " + names[-1]
        return Answer(question=question, text=f"Which model do you mean: {options}?",
                      mode="clarify")
    if not u.actionable:
        return None
    try:
        return _compute(u, question, catalog)
    except InvalidInput as exc:
        return Answer(question=question, text=str(exc), mode="clarify")


def _compute(u: Understanding, question: str, catalog: Catalog) -> Answer | None:
    machine = machine_for(u, catalog)
    model, lead = _model_for(u, catalog)
    lines: list[str] = []
    entries: list[Model | Hardware | CloudInstance] = []
    est: CostEstimate | None = None
    if model is None:
        if machine is None:
            return None
        best = _fit(catalog, machine, u.context or DEFAULT_CONTEXT)
        if not best:
            lines.append(f"No catalog model fits entirely on {machine.label}.")
        else:
            top = ", ".join(f"{r.model.name} at {r.quant.id} ({_gb(r.total_bytes)})"
                            for r in best[:3])
            ctx = with_article(f"{(u.context or DEFAULT_CONTEXT):,}-token context")
            lines.append(f"The largest catalog models that fit entirely on {machine.label} "
                         f"with {ctx}: {top}.")
            entries.extend(r.model for r in best[:3])
    else:
        est = _estimate(model, u, catalog, machine)
        entries.append(model)
        if machine is not None:
            lines.append(lead + _verdict(est, machine))
            lines.extend(_alternatives(est, u, catalog, machine))
        else:
            lines.append(lead + f"{_needs(est)}: weights {_gb(est.weights_bytes)}, KV cache "
                         f"{_gb(est.kv_cache_bytes + est.state_bytes)}, overhead "
                         f"{_gb(est.overhead_bytes)}.")
            if u.intent == "cloud":
                lines.append(_cheapest_cloud(est, u, catalog)
                             or "No listed cloud instance with a price holds it.")
            else:
                lines.append(_needs_hardware(est, catalog))
        for other in u.models[1:2]:
            second = _estimate(other, u, catalog, machine)
            entries.append(other)
            lines.append((_verdict(second, machine) if machine else _needs(second) + ".")
                         .replace("Yes. ", "").replace("No. ", "By comparison, "))
        layout = _layout(est)
        if layout:
            lines.append(layout)
        lines.extend(_speed_money(est, machine, u))
        lines.append(_assumptions(est, u) + " " + CHECK.format(ctx=est.context))
    if u.intent in ("speed", "money") and est is not None and machine is not None and est.fits:
        lines = _lead_with(lines, "Decode speed:" if u.intent == "speed" else "Cost:",
                           f"{est.model.name.split(' (')[0]} on {machine.label}")
    if machine is not None:
        entries.append(machine.cloud or machine.hardware)
    citations = _cite(entries)
    marks = "".join(f" [{c.number}]" for c in citations)
    text = lines[0].rstrip(".") + marks + "." + ("\n" + "\n".join(lines[1:]) if lines[1:] else "")
    return Answer(question=question, text=text, mode="computed", citations=citations,
                  model="ModelDesk calculator", estimate=est)
