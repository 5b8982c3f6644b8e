"""Exceptions whose message is safe and useful to show a user.

Hierarchy::

    ModelDeskError              a failure the user can act on; str(err) is one sentence for them
    ├── InvalidInput            the input cannot be used as given
    ├── NotFound                a named model, hardware or document does not exist
    ├── IndexNotReady           the index is missing, empty or built with another embedding model
    ├── BackendUnavailable      something the answer needs cannot be reached
    │   ├── StoreUnavailable    the knowledge store (Chroma)
    │   └── ModelUnavailable    the language model (llama.cpp or an OpenAI-compatible server)
    └── Busy                    the work cannot start now (a reindex runs, the queue is full)
"""

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


class StoreUnavailable(BackendUnavailable):
    """The knowledge store (Chroma) cannot be reached."""


class ModelUnavailable(BackendUnavailable):
    """The language model cannot be reached."""


class Busy(ModelDeskError):
    """The work cannot start now (a reindex already runs, the queue is full)."""


STORE_DOWN = "The knowledge store is unavailable right now; try again shortly."
MODEL_DOWN = "The language model is unavailable right now; try again shortly."
APOLOGY = "Sorry, something went wrong on our side. It has been logged; please try again."


def user_message(error: BaseException) -> str:
    """The one sentence a person reads for an error, whatever the front end.

    Known errors speak for themselves (each names what to do next); a store or model outage
    says which one is down; anything else is an apology (the caller logs the traceback).
    """
    if isinstance(error, StoreUnavailable):
        return str(error) or STORE_DOWN
    if isinstance(error, ModelUnavailable):
        return str(error) or MODEL_DOWN
    if isinstance(error, ModelDeskError):
        text = " ".join(str(error).split())
        return text[:400] if text else APOLOGY
    return APOLOGY
