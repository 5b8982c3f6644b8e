"""Why an answer was voted down, members' saved hardware, the channels a guild answers in.

Gaps need no table of their own: they are read from answers and votes. A SQLite file written
by the release before migrations that already added these (raw sqlite3, ALTER TABLE in place)
is stamped with 0001 by the store, so this revision creates only what such a file lacks and
every row it holds stays.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

VOTE_COLUMNS = ("reason", "note")  # both free of constraints: older votes have neither


def _tables() -> set[str]:
    return set(sa.inspect(op.get_bind()).get_table_names())


def _columns(table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    have = _columns("votes")
    for name in VOTE_COLUMNS:
        if name not in have:  # a plain ADD COLUMN on SQLite too: no table copy, rows untouched
            op.add_column("votes", sa.Column(name, sa.Text, nullable=True))
    tables = _tables()
    if "saved_hardware" not in tables:
        op.create_table(
            "saved_hardware",
            sa.Column("user_id", sa.Text, primary_key=True),
            sa.Column("hardware", sa.Text, nullable=False),
        )
    if "answer_channels" not in tables:
        op.create_table(
            "answer_channels",
            sa.Column("guild_id", sa.Text, nullable=False),
            sa.Column("channel_id", sa.Text, nullable=False),
            sa.Column("enabled", sa.Integer, nullable=False),
            sa.PrimaryKeyConstraint("guild_id", "channel_id"),
            sa.CheckConstraint("enabled IN (0, 1)", name="enabled_is_on_or_off"),
        )


def downgrade() -> None:
    op.drop_table("answer_channels")
    op.drop_table("saved_hardware")
    with op.batch_alter_table("votes") as batch:
        for name in reversed(VOTE_COLUMNS):
            batch.drop_column(name)
