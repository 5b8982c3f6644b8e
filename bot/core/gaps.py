"""The curators' to-do list: questions the knowledge base could not answer, grouped by meaning.

Pure: the caller embeds the questions (the bundled embedder) and finds each group's nearest
page; this module only groups, counts and picks the example.

Grouping is greedy and deterministic: questions are taken oldest first and each joins the group
whose centroid is closest, when that is at least GAP_SIMILARITY (cosine), else starts a group.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

# Cosine above which two questions are one gap. Measured with all-MiniLM-L6-v2 on 12 hand-made
# pairs (see tests/core/test_gaps.py): paraphrases of one need scored 0.53-0.90, four of six at
# 0.68 or more; different needs about the same thing ("fine-tune llama" vs "llama's license",
# "AMD GPU" vs "Nvidia GPU") scored up to 0.66. A curator would rather see two groups than one
# that mixes two needs, so the cut sits just above the hardest different pair.
GAP_SIMILARITY = 0.66
NOT_COVERED = "not covered"
VOTED_DOWN = "voted down"


@dataclass(frozen=True)
class GapQuestion:
    """One question that was answered "not covered" or voted down."""

    answer_id: int
    question: str
    asked_at: str
    not_covered: bool
    down_votes: int = 0
    reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> GapQuestion:
        """From a FeedbackStore.gap_candidates() row."""
        return cls(int(row["id"]), str(row["question"]), str(row["created_at"]),
                   row["mode"] == "unknown", int(row["down"] or 0),
                   tuple(row.get("reasons") or ()), tuple(row.get("notes") or ()))


@dataclass
class Gap:
    """Questions about one missing or weak topic, with an example and the nearest page."""

    questions: list[GapQuestion]
    example: str
    nearest_title: str | None = None
    nearest_file: str | None = None
    nearest_score: float | None = None
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def why(self) -> dict[str, int]:
        """How many were not covered and how many were voted down."""
        return {NOT_COVERED: sum(q.not_covered for q in self.questions),
                VOTED_DOWN: sum(q.down_votes > 0 for q in self.questions)}

    @property
    def notes(self) -> list[str]:
        return [note for q in self.questions for note in q.notes]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `modeldesk gaps --json` prints per group."""
        return {"count": self.count, "example": self.example, "why": self.why,
                "reasons": dict(self.reasons), "notes": self.notes,
                "nearest_page": None if self.nearest_title is None else {
                    "title": self.nearest_title, "file": self.nearest_file,
                    "score": self.nearest_score},
                "questions": [q.question for q in self.questions],
                "last_asked": max(q.asked_at for q in self.questions)}


def group_by_similarity(vectors: npt.ArrayLike,
                        threshold: float = GAP_SIMILARITY) -> list[list[int]]:
    """Indexes of L2-normalised vectors, grouped: each joins the closest centroid at or above
    `threshold`, else starts a group. Groups and members keep the input order."""
    matrix = np.asarray(vectors, dtype=np.float32)
    groups: list[list[int]] = []
    sums: list[npt.NDArray[np.float32]] = []
    for i, vec in enumerate(matrix):
        best, best_score = -1, threshold
        for g, total in enumerate(sums):
            centroid = total / (np.linalg.norm(total) or 1.0)
            score = float(centroid @ vec)
            if score >= best_score:
                best, best_score = g, score
        if best < 0:
            groups.append([i])
            sums.append(vec.copy())
        else:
            groups[best].append(i)
            sums[best] = sums[best] + vec
    return groups


def _example(members: list[int], matrix: npt.NDArray[np.float32]) -> int:
    """The member closest to the group's centroid: the question that says it best."""
    total = matrix[members].sum(axis=0)
    centroid = total / (np.linalg.norm(total) or 1.0)
    return max(members, key=lambda i: float(matrix[i] @ centroid))


def build_gaps(questions: Sequence[GapQuestion], vectors: npt.ArrayLike,
               threshold: float = GAP_SIMILARITY) -> list[Gap]:
    """Group the questions (one vector each), biggest group first, then the most recent."""
    if len(questions) == 0:
        return []
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.shape[0] != len(questions):
        raise ValueError(f"{len(questions)} questions but {matrix.shape[0]} vectors")
    gaps = []
    for members in group_by_similarity(matrix, threshold):
        picked = [questions[i] for i in members]
        reasons = Counter(r for q in picked for r in q.reasons)
        gaps.append(Gap(picked, questions[_example(members, matrix)].question,
                        reasons=dict(reasons.most_common())))
    gaps.sort(key=lambda g: max(q.asked_at for q in g.questions), reverse=True)
    gaps.sort(key=lambda g: g.count, reverse=True)  # stable: equal counts stay newest first
    return gaps
