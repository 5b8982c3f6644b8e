"""The model, hardware and quantization catalogs (`knowledge/data/*.yaml`).

`data` holds the plain dataclasses, `lookup` the tolerant name matching and the `Catalog`,
`loading` the pydantic schemas that read and validate the YAML files.
"""

from bot.core.catalog.data import (
    KINDS,
    KV_KINDS,
    STATE_KINDS,
    CloudInstance,
    Hardware,
    LayerGroup,
    LayerKind,
    Model,
    Quant,
)
from bot.core.catalog.lookup import Catalog, UnknownName, normalize

__all__ = [
    "KINDS", "KV_KINDS", "STATE_KINDS", "Catalog", "CloudInstance", "Hardware", "LayerGroup",
    "LayerKind", "Model", "Quant", "UnknownName", "normalize",
]
