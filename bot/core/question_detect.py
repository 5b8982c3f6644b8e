"""Does a message in a help channel read as a question? Pure text rules, no model.

A help channel holds questions and the chatter around them ("thanks!", "same here", a link).
ModelDesk answers the questions only, so a wrong "yes" costs a thread nobody wanted, while a
wrong "no" costs one `/ask`; the rules lean towards "no".
"""

from __future__ import annotations

import re

# Chatter is short: "thanks!", "lol same", "ok it works now". Three words or twelve characters
# is the floor for a question such as "vram for 70b?".
MIN_WORDS = 3
MIN_CHARS = 12

# How questions open in English, Portuguese and Spanish (the languages the commands speak).
_OPENERS = frozenset(("how", "what", "which", "why", "when", "where", "who", "whose", "can",
    "could", "should", "would", "is", "are", "do", "does", "any", "anyone", "anybody",
    "recommend", "help", "como", "qual", "quais", "quanto", "quantos", "quantas", "onde",
    "quando", "quem", "posso", "pode", "podem", "devo", "existe", "alguém", "alguem", "ajuda",
    "cómo", "cuál", "cuáles", "cuánto", "cuántos", "cuántas", "dónde", "cuándo", "quién",
    "puedo", "puede", "pueden", "debo", "hay", "alguien", "ayuda"))
# Phrases that ask without a question mark or an opening question word.
_ASKING = re.compile(
    r"\b(i need|i'm looking for|im looking for|looking for|trying to|i want to|i'd like to|"
    r"any (idea|ideas|tips|advice|suggestions?)|not sure (how|which|what|if)|wondering|"
    r"recommend|suggest|help me|getting an? (error|oom)|doesn't work|does not work|won't load|"
    r"fails? to|out of memory|error:)",
    re.IGNORECASE,
)
_LINK_ONLY = re.compile(r"^\s*<?https?://\S+>?\s*$")
_WORD = re.compile(r"[^\W_][\w'’-]*", re.UNICODE)


def reads_as_question(text: str) -> bool:
    """True when a message looks like someone asking for help rather than chatting.

    A question mark, a question word at the start of a sentence, or an asking phrase ("I need",
    "getting an error") counts; short chatter and a bare link do not.
    """
    text = " ".join(str(text or "").split())
    words = _WORD.findall(text)
    if len(words) < MIN_WORDS or len(text) < MIN_CHARS or _LINK_ONLY.match(text):
        return False
    if "?" in text or "¿" in text:
        return True
    sentences = re.split(r"(?<=[.!\n])\s+", text)
    for sentence in sentences:
        first = _WORD.findall(sentence.lower())[:1]
        if first and first[0] in _OPENERS:
            return True
    return bool(_ASKING.search(text))
