"""The grounding check: nothing reaches a user that the retrieved evidence does not support.

- Each generated sentence must be close to an evidence sentence (embedding similarity) or share
  most of its content words with the evidence.
- Every number and every URL in a sentence must occur in the evidence.
- Mention markup (@everyone, @here, <@id>, <@&id>, <#id>) and echoes of the system prompt are
  never let through.
- Degenerate output (empty, repetitive, nothing supported) gives way to an extractive answer: the
  evidence sentences that best answer the question, each with its [n] citation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.core.retrieval import tokenize
from bot.core.text import has_mention_markup, neutralize_mentions

__all__ = ["has_mention_markup", "neutralize_mentions"]

# Grounding thresholds, chosen on eval/questions.jsonl (answer keyword recall against invented
# claims kept, see scripts/tune_answer_weights.py): a generated sentence passes when its best
# evidence sentence reaches MIN_SIMILARITY cosine, or when the evidence holds MIN_OVERLAP of its
# content words and the cosine is at least OVERLAP_MIN_SIMILARITY. A sentence closer than
# ECHO_SIMILARITY to the system prompt is an echo of the instructions.
MIN_SIMILARITY = 0.70
MIN_OVERLAP = 0.80
OVERLAP_MIN_SIMILARITY = 0.5
ECHO_SIMILARITY = 0.8

_URL = re.compile(r"https?://[^\s<>\]\[()\"'`]+", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)*)(?:\s?(k|m|b|t|gb|gib|mb|mib|tb|kb|w|kw|"
                     r"kwh|wh|ms|x|bpw)\b)?",
                     re.IGNORECASE)
_CITE = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9*_`])|\n{2,}|\n(?=[-*] )")
_ABBREV = re.compile(r"\b(e\.g|i\.e|vs|etc|approx|incl|Mr|Dr|Fig)\.$", re.IGNORECASE)


@dataclass(frozen=True)
class EvidenceSentence:
    """One sentence of a retrieved chunk, with the citation number of its chunk."""

    text: str
    number: int


@dataclass
class Verdict:
    sentence: str
    supported: bool
    reason: str
    number: int | None = None  # the citation of the evidence that supports it
    similarity: float = 0.0


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping abbreviations and decimals whole."""
    text = text.replace("\r", "")
    parts: list[str] = []
    for piece in _SENTENCE_END.split(text):
        piece = piece.strip()
        if not piece:
            continue
        if parts and _ABBREV.search(parts[-1]):
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return parts


def strip_citations(sentence: str) -> str:
    return _CITE.sub("", sentence).strip()


def _norm_number(token: str) -> str:
    token = token.replace(",", "")
    if "." in token:
        token = token.rstrip("0").rstrip(".") or "0"
    return token


def numbers_in(text: str, *, claims: bool = False) -> set[str]:
    """Every number with the unit or multiplier written after it ("4k", "8 GB").

    Args:
        text: the text to read.
        claims: read as an answer's claims: a number with a unit counts only together with it
            ("4k" is not "4"). Otherwise, as evidence, each number also counts on its own.
    """
    text = _URL.sub(" ", text)
    out: set[str] = set()
    for value, unit in _NUMBER.findall(text):
        number = _norm_number(value)
        if unit:
            out.add(f"{number}{unit.lower()}")
        if not (claims and unit):
            out.add(number)
    return out


def urls_in(text: str) -> set[str]:
    return {u.rstrip(".,;:!?") for u in _URL.findall(text)}


def unsupported_numbers_and_urls(answer: str, evidence: Sequence[str]) -> tuple[list[str],
                                                                                 list[str]]:
    """The numbers and URLs of an answer (citation markers aside) that no evidence holds."""
    body = strip_citations(answer)
    joined = "\n".join(evidence)
    ev_numbers = numbers_in(joined)
    ev_urls = urls_in(joined)
    nums = sorted(n for n in numbers_in(body, claims=True) if n not in ev_numbers)
    urls = sorted(u for u in urls_in(body) if u not in ev_urls and not any(
        e.startswith(u) for e in ev_urls))
    return nums, urls


def is_degenerate(text: str) -> bool:
    """Empty, or mostly repetition of the same words or lines."""
    words = text.split()
    if len(words) < 3:
        return True
    lines = [s.strip().lower() for s in split_sentences(text) if s.strip()]
    if len(lines) >= 3 and len(set(lines)) <= len(lines) / 2:
        return True
    trigrams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
    return len(trigrams) >= 12 and len(set(trigrams)) < 0.5 * len(trigrams)


# The longest stretch of characters a sentence may say twice: "Llama 3.1 8B and Llama 3.1 70B"
# repeats 10; the gibberish the review found ("2.5-Math-Math-Math") repeats far more.
MAX_REPEATED_CHARS = 16
_SUBWORD = re.compile(r"[A-Za-z]+|\d+(?:\.\d+)*")


def repeated_run(sentence: str, limit: int = MAX_REPEATED_CHARS) -> str | None:
    """A stretch of more than `limit` characters that occurs twice without overlap, or None."""
    text = " ".join(sentence.lower().split())
    size = limit + 1
    first: dict[str, int] = {}
    for i in range(len(text) - size + 1):
        piece = text[i : i + size]
        if not piece.strip():
            continue
        seen = first.setdefault(piece, i)
        if i - seen >= size:
            return piece
    return None


_STUTTER = re.compile(r"(.{3,}?)\1{2,}")


def stutters(sentence: str) -> bool:
    """A unit of three or more characters, with letters in it, said three times in a row."""
    text = " ".join(sentence.lower().split())
    return any(sum(c.isalpha() for c in m.group(1)) >= 2 for m in _STUTTER.finditer(text))


def has_subword_repetition(sentence: str) -> bool:
    """The same sub-word twice in a row inside a token or across tokens: "Math-Math", "is is"."""
    parts = [p.lower() for p in _SUBWORD.findall(sentence)]
    return any(a == b and not a.isdigit() for a, b in zip(parts, parts[1:], strict=False))


def is_repetitive(sentence: str) -> bool:
    """A sentence that repeats itself: three words again ("a 14B model ... a 14B model"), a
    sub-word run ("2.5-Math-Math"), or a long stretch of characters said twice."""
    words = sentence.lower().split()
    trigrams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
    if len(trigrams) >= 6 and len(set(trigrams)) < 0.8 * len(trigrams):
        return True
    return (has_subword_repetition(sentence) or stutters(sentence)
            or repeated_run(sentence) is not None)


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['’][a-z]+)?")


def unknown_words(sentence: str, known: set[str], vocabulary: frozenset[str] = frozenset()
                  ) -> list[str]:
    """Words of a sentence that neither the evidence, the question nor the vocabulary hold.

    A name (a capitalised word after the first, a word with digits or capitals inside) must be
    in `known` (the evidence and the question): a misspelled "Qen" never passes on
    similarity. Other words may also come from `vocabulary` (plain English words).
    """
    out = []
    for index, match in enumerate(_WORD.finditer(sentence)):
        word = match.group(0)
        low = word.lower().split("'")[0].split("’")[0]
        if len(low) < 3 or low in known:
            continue
        is_name = (index > 0 and word[0].isupper()) or any(c.isdigit() for c in word) or any(
            c.isupper() for c in word[1:])
        if is_name or low not in vocabulary:
            out.append(word)
    return out


_META = re.compile(r"^(the |based on the )?(evidence|sources?|text)( provided)? (is that|says that|"
                   r"says|shows that|states that|suggests that)[:,]?\s+", re.IGNORECASE)


def strip_meta(sentence: str) -> str:
    """Drop a leading "The evidence says that" and keep the claim."""
    stripped = _META.sub("", sentence.strip())
    return stripped[:1].upper() + stripped[1:] if stripped else stripped


class Grounder:
    """Checks generated sentences against evidence sentences.

    Args:
        embed: texts -> L2-normalised vectors (the retrieval embedder).
        min_similarity: the cosine an evidence sentence must reach to support a sentence.
        min_overlap: the share of a sentence's content words the evidence must hold, as the
            alternative to similarity.
        forbidden: texts the answer must never echo (the system prompt).
    """

    def __init__(self, embed: Callable[[Sequence[str]], list[list[float]]], *,
                 min_similarity: float = MIN_SIMILARITY, min_overlap: float = MIN_OVERLAP,
                 forbidden: Sequence[str] = (), vocabulary: frozenset[str] = frozenset()
                 ) -> None:
        self.embed = embed
        self.vocabulary = vocabulary
        self.min_similarity = min_similarity
        self.min_overlap = min_overlap
        self.forbidden = [f for f in forbidden if f.strip()]
        self._forbidden_vecs: np.ndarray | None = None

    def _forbidden_matrix(self) -> np.ndarray | None:
        if self.forbidden and self._forbidden_vecs is None:
            self._forbidden_vecs = np.asarray(self.embed(self.forbidden))
        return self._forbidden_vecs

    def check(self, sentences: Sequence[str], evidence: Sequence[EvidenceSentence],
              evidence_vecs: np.ndarray, extra_text: str = "", question: str = ""
              ) -> list[Verdict]:
        """Judge each sentence.

        Args:
            sentences: generated sentences (citation markers may be present; they are ignored).
            evidence: the evidence sentences, with their citation numbers.
            evidence_vecs: their embeddings, one row each.
            extra_text: more evidence text for numbers and URLs (the sources' URLs).
            question: the question; its words and names may appear in an answer.
        """
        joined = "\n".join(e.text for e in evidence) + "\n" + extra_text
        ev_tokens = set(tokenize(joined))
        known = {w.lower() for w in _WORD.findall(joined + "\n" + question)}
        clean = [strip_meta(strip_citations(s)) for s in sentences]
        vecs = np.asarray(self.embed(clean)) if clean else np.zeros((0, 1))
        forbidden = self._forbidden_matrix()
        verdicts = []
        for i, sentence in enumerate(clean):
            words = tokenize(sentence)
            if has_mention_markup(sentence):
                verdicts.append(Verdict(sentence, False, "mention markup"))
                continue
            if len(words) < 2:
                verdicts.append(Verdict(sentence, False, "too short"))
                continue
            if is_repetitive(sentence):
                verdicts.append(Verdict(sentence, False, "repeats itself"))
                continue
            strange = unknown_words(sentence, known, self.vocabulary)
            if strange:
                verdicts.append(Verdict(sentence, False, f"words not in the evidence: "
                                        f"{', '.join(strange[:3])}"))
                continue
            if forbidden is not None and float(np.max(forbidden @ vecs[i])) > ECHO_SIMILARITY:
                verdicts.append(Verdict(sentence, False, "echoes the instructions"))
                continue
            nums, urls = unsupported_numbers_and_urls(sentence, [joined])
            if nums or urls:
                verdicts.append(Verdict(sentence, False, f"unsupported {', '.join(nums + urls)}"))
                continue
            sims = evidence_vecs @ vecs[i] if len(evidence) else np.zeros(0)
            best = int(np.argmax(sims)) if len(sims) else -1
            sim = float(sims[best]) if best >= 0 else 0.0
            overlap = sum(w in ev_tokens for w in words) / len(words)
            number = evidence[best].number if best >= 0 else None
            if sim >= self.min_similarity or (overlap >= self.min_overlap
                                              and sim >= OVERLAP_MIN_SIMILARITY):
                verdicts.append(Verdict(sentence, True, "supported", number, sim))
            else:
                verdicts.append(Verdict(sentence, False,
                                        f"not supported (similarity {sim:.2f}, overlap "
                                        f"{overlap:.2f})", number, sim))
        return verdicts
