"""Portuguese (Brazil) and Spanish (Spain) names and descriptions for every command, through
discord.py's `app_commands.Translator`: Discord shows each member the names in their language.

Slash command and option names must be lowercase single words; context menu names may have
spaces and capitals. Technical choices (kv cache types such as q8_0) stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterator

import discord
from discord import app_commands

LOCALES = (discord.Locale.brazil_portuguese, discord.Locale.spain_spanish)

# English text -> (pt-BR, es-ES). Keys are the exact strings used in the cogs.
TEXTS: dict[str, tuple[str, str]] = {
    # Context menus
    "Ask ModelDesk": ("Perguntar ao ModelDesk", "Preguntar a ModelDesk"),
    "Estimate this model": ("Estimar este modelo", "Estimar este modelo"),
    # Command and subcommand names
    "ask": ("perguntar", "preguntar"),
    "cost": ("custo", "coste"),
    "fit": ("cabe", "cabe"),
    "reindex": ("reindexar", "reindexar"),
    "kb": ("kb", "kb"),
    "status": ("estado", "estado"),
    "gaps": ("lacunas", "lagunas"),
    "channel": ("canal", "canal"),
    "answer": ("responder", "responder"),
    "myhardware": ("meuhardware", "mihardware"),
    "set": ("salvar", "guardar"),
    "clear": ("apagar", "borrar"),
    # Option names
    "question": ("pergunta", "pregunta"),
    "model": ("modelo", "modelo"),
    "quant": ("quantização", "cuantización"),
    "context": ("contexto", "contexto"),
    "hardware": ("hardware", "hardware"),
    "kv_type": ("tipo_kv", "tipo_kv"),
    "gpus": ("gpus", "gpus"),
    "parallel": ("paralelo", "paralelo"),
    "usd_per_hour": ("usd_por_hora", "usd_por_hora"),
    "usd_per_kwh": ("usd_por_kwh", "usd_por_kwh"),
    "api_usd_per_mtok": ("api_usd_por_mtok", "api_usd_por_mtok"),
    "full": ("completo", "completo"),
    "days": ("dias", "días"),
    "state": ("estado", "estado"),
    # Choices
    "on": ("ligar", "activar"),
    "off": ("desligar", "desactivar"),
    # Descriptions
    "Ask a question about open AI models.": (
        "Faça uma pergunta sobre modelos de IA abertos.",
        "Haz una pregunta sobre modelos de IA abiertos."),
    "Your question, e.g. how much VRAM does a 7B model need?": (
        "Sua pergunta, ex.: quanta VRAM um modelo 7B precisa?",
        "Tu pregunta, p. ej.: ¿cuánta VRAM necesita un modelo 7B?"),
    "Memory, speed and cost of running a model.": (
        "Memória, velocidade e custo de rodar um modelo.",
        "Memoria, velocidad y coste de ejecutar un modelo."),
    "An open model, e.g. Llama 3.1 8B": (
        "Um modelo aberto, ex.: Llama 3.1 8B", "Un modelo abierto, p. ej.: Llama 3.1 8B"),
    "Quantization (default Q4_K_M)": (
        "Quantização (padrão Q4_K_M)", "Cuantización (por defecto Q4_K_M)"),
    "Tokens of context to hold (default 8192)": (
        "Tokens de contexto a manter (padrão 8192)",
        "Tokens de contexto a mantener (por defecto 8192)"),
    'A GPU, Mac or CPU box, or several: "2x rtx-3090" (default: /myhardware)': (
        'Uma GPU, Mac ou máquina só com CPU, ou várias: "2x rtx-3090" (padrão: /meuhardware)',
        'Una GPU, Mac o equipo solo con CPU, o varias: "2x rtx-3090" (por defecto: '
        '/mihardware)'),
    "KV cache type (default f16)": (
        "Tipo do cache KV (padrão f16)", "Tipo de caché KV (por defecto f16)"),
    "Identical GPUs the layers are split over (default 1)": (
        "GPUs idênticas entre as quais as camadas são divididas (padrão 1)",
        "GPUs idénticas entre las que se reparten las capas (por defecto 1)"),
    "Sequences served at once, llama-server slots (default 1)": (
        "Sequências atendidas ao mesmo tempo, slots do llama-server (padrão 1)",
        "Secuencias atendidas a la vez, slots de llama-server (por defecto 1)"),
    "Your hourly price in USD (wins over the catalog's)": (
        "Seu preço por hora em USD (vale mais que o do catálogo)",
        "Tu precio por hora en USD (prevalece sobre el del catálogo)"),
    "Electricity price in USD per kWh (default 0.15)": (
        "Preço da eletricidade em USD por kWh (padrão 0.15)",
        "Precio de la electricidad en USD por kWh (por defecto 0.15)"),
    "An API's price per 1M output tokens, for the break-even": (
        "Preço de uma API por 1M de tokens de saída, para o ponto de equilíbrio",
        "Precio de una API por 1M de tokens de salida, para el punto de equilibrio"),
    "Which open models fit on a machine.": (
        "Quais modelos abertos cabem em uma máquina.",
        "Qué modelos abiertos caben en una máquina."),
    "Re-read the knowledge base (admins).": (
        "Reler a base de conhecimento (admins).", "Releer la base de conocimiento (admins)."),
    "Rebuild everything instead of only the changed files": (
        "Reconstruir tudo em vez de só os arquivos alterados",
        "Reconstruir todo en lugar de solo los archivos cambiados"),
    "The knowledge base: what it holds, and what it lacks.": (
        "A base de conhecimento: o que ela tem e o que falta.",
        "La base de conocimiento: lo que contiene y lo que le falta."),
    "What the knowledge base holds and runs on.": (
        "O que a base de conhecimento contém e onde roda.",
        "Qué contiene la base de conocimiento y con qué funciona."),
    "Questions it could not answer, grouped (admins).": (
        "Perguntas que ela não soube responder, agrupadas (admins).",
        "Preguntas que no supo responder, agrupadas (admins)."),
    "Look back this many days (default 30)": (
        "Quantos dias olhar para trás (padrão 30)",
        "Cuántos días mirar hacia atrás (por defecto 30)"),
    "Where ModelDesk answers on its own (admins).": (
        "Onde o ModelDesk responde por conta própria (admins).",
        "Dónde responde ModelDesk por su cuenta (admins)."),
    "Answer every question in a channel, or stop.": (
        "Responder toda pergunta em um canal, ou parar.",
        "Responder cada pregunta en un canal, o dejar de hacerlo."),
    "on: answer every question there; off: stop": (
        "ligar: responder toda pergunta ali; desligar: parar",
        "activar: responder cada pregunta allí; desactivar: dejar de hacerlo"),
    "A text or forum channel (default: this one)": (
        "Um canal de texto ou fórum (padrão: este)",
        "Un canal de texto o foro (por defecto: este)"),
    "Save your machine for /fit, /cost and /ask.": (
        "Salve sua máquina para /cabe, /custo e /perguntar.",
        "Guarda tu máquina para /cabe, /coste y /preguntar."),
    "Save your GPU(s) and system RAM.": (
        "Salve sua(s) GPU(s) e a RAM do sistema.", "Guarda tu(s) GPU(s) y la RAM del sistema."),
    'Your machine, e.g. "2x rtx-3090, 64 GB RAM" or "M2 Max 64GB"': (
        'Sua máquina, ex.: "2x rtx-3090, 64 GB RAM" ou "M2 Max 64GB"',
        'Tu máquina, p. ej.: "2x rtx-3090, 64 GB RAM" o "M2 Max 64GB"'),
    "Forget your saved machine.": (
        "Esquecer a máquina salva.", "Olvidar la máquina guardada."),
}


class CommandTranslator(app_commands.Translator):
    """Looks every command string up in TEXTS; other locales keep the English."""

    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        return translate(string.message, locale)


def translate(text: str, locale: discord.Locale) -> str | None:
    """The text in `locale`, or None (Discord then shows the English)."""
    if locale not in LOCALES:
        return None
    pair = TEXTS.get(text)
    return None if pair is None else pair[LOCALES.index(locale)]


def command_strings(tree: app_commands.CommandTree) -> Iterator[tuple[str, str]]:
    """(what, text) for every translatable string of the tree's commands: names, descriptions,
    option names and descriptions, choice names."""
    for command in tree.get_commands(type=discord.AppCommandType.message):
        yield "context menu", command.name
    for command in tree.walk_commands():
        yield "name", command.name
        yield "description", command.description
        if isinstance(command, app_commands.Group):
            continue
        for param in command.parameters:
            yield "option", param.name
            yield "option description", param.description
            for choice in param.choices:
                yield "choice", choice.name
