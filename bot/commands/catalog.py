"""`modeldesk catalog schema` and `modeldesk catalog from-gguf FILE`."""

from __future__ import annotations

import argparse
import json
import sys

import yaml

from bot.config import Settings


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    """Print the JSON Schema of every catalog file."""
    from bot.core.catalog.loading import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
    return 0


def cmd_from_gguf(args: argparse.Namespace, settings: Settings) -> int:
    """Print a models.yaml entry drafted from a GGUF file's own header."""
    from bot.core.gguf_file import model_from_gguf

    model, _ = model_from_gguf(args.file)
    entry = {
        "id": args.id or "draft-from-gguf",
        "name": model.name,
        "aliases": [],
        "maker": None,
        "params_b": model.params_b,
        "active_params_b": model.params_b,
        "layers": model.layers,
        "heads": model.heads,
        "kv_heads": model.kv_heads,
        "head_dim": model.head_dim,
        "context": model.context,
        "sliding_window": None,
        "sliding_window_layers": None,
        "attention": [g.to_dict() for g in model.layer_groups],
        "license": model.license,
        "released": None,
        "gguf_file_gb": {},
        "sources": [f"GGUF header of {args.file}"],
    }
    if args.json:
        sys.stdout.write(json.dumps(entry) + "\n")
    else:
        sys.stdout.write("# Drafted from the file's header: check every figure against the model's "
                         "config.json and add sources before it goes into models.yaml.\n")
        sys.stdout.write(yaml.safe_dump({"models": [entry]}, sort_keys=False))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("catalog", help="the catalogs' schema, and entries drafted from GGUF files")
    inner = p.add_subparsers(dest="catalog_command", metavar="ACTION")
    schema = inner.add_parser("schema", help="print the JSON Schema of the catalog files")
    schema.set_defaults(func=cmd_schema)
    draft = inner.add_parser("from-gguf", help="draft a models.yaml entry from a GGUF header")
    draft.add_argument("file", help="a .gguf file")
    draft.add_argument("--id", help="the id to give the entry")
    draft.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    draft.set_defaults(func=cmd_from_gguf)
