"""Answers shown and the votes they received: the schema of the first release.

A SQLite file from before migrations holds exactly these tables; the store stamps it with this
revision instead of creating them, so its rows stay (see FeedbackStore._migrate).

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False, server_default=""),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("mode", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False, server_default=""),
        sa.Column("sources", sa.Text, nullable=False, server_default="[]"),
        sa.Column("timings", sa.Text, nullable=False, server_default="{}"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "votes",
        sa.Column("answer_id", sa.Integer, sa.ForeignKey("answers.id"), nullable=False),
        sa.Column("voter", sa.Text, nullable=False),
        sa.Column("vote", sa.Integer, nullable=False),
        sa.Column("voted_at", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("answer_id", "voter"),
        sa.CheckConstraint("vote IN (-1, 1)", name="vote_is_up_or_down"),
    )


def downgrade() -> None:
    op.drop_table("votes")
    op.drop_table("answers")
