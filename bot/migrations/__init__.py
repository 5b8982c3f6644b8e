"""Alembic migrations of the feedback database (SQLite under DATA_DIR, or DATABASE_URL).

Applied by `bot.core.feedback.FeedbackStore` on first use; `alembic.ini` is not needed. A new
table or column is one more revision in `versions/` (see docs/deploy.md).
"""
