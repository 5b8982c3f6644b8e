"""Exceptions whose message is safe and useful to show a user."""

from __future__ import annotations


class ModelDeskError(Exception):
    """A failure the user can act on; `str(err)` is one short sentence for them."""


class InvalidInput(ModelDeskError):
    """The user's input cannot be used as given."""


class NotFound(ModelDeskError):
    """A named model, hardware or document does not exist."""


class IndexNotReady(ModelDeskError):
    """The index is missing, empty or built with another embedding model."""


class BackendUnavailable(ModelDeskError):
    """The language model or the vector store cannot be reached."""


class Busy(ModelDeskError):
    """The work cannot start now (a reindex already runs, the queue is full)."""
