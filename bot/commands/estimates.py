"""`modeldesk cost` and `modeldesk fit`: the cost and fit calculator on the command line.

Human output is compact text (the same text the Discord commands send); `--json` prints one
JSON object whose keys other tools read. Numbers come from `bot.core.costs`, never a language
model.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from bot.core.catalog import Hardware, Model
from bot.core.costs import DEFAULT_USD_PER_KWH
from bot.core.desk import DEFAULT_CONTEXT, DEFAULT_QUANT, Desk
from bot.core.errors import InvalidInput, ModelDeskError
from bot.render.estimates import format_cost, format_fit

log = logging.getLogger(__name__)

CUSTOM_MODEL_FLAGS = ("params", "layers", "kv_heads", "head_dim")


def register(subparsers: Any) -> None:
    """Add the `cost` and `fit` commands to the `modeldesk` router."""
    cost = subparsers.add_parser(
        "cost",
        help="memory, fit, speed and cost of running a model",
        description="Memory, fit, decode speed, $/hour, $/1M tokens and energy for one model. "
        "Give a catalog model name, or describe a custom one with --params --layers "
        "--kv-heads --head-dim.",
    )
    cost.add_argument("model", nargs="?", help='catalog model, e.g. "llama-3.1-8b"')
    cost.add_argument("--quant", default=DEFAULT_QUANT,
                      help=f"llama.cpp quantization (default {DEFAULT_QUANT})")
    cost.add_argument("--context", type=int, default=DEFAULT_CONTEXT,
                      help=f"context tokens (default {DEFAULT_CONTEXT})")
    cost.add_argument("--hardware", help='catalog hardware, e.g. "rtx-3060-12gb"')
    cost.add_argument("--kv-type", default="f16", help="KV cache type: f16, q8_0, q4_0")
    cost.add_argument("--usd-per-hour", type=float, help="your hourly price (wins over catalog)")
    cost.add_argument(
        "--usd-per-kwh",
        type=float,
        default=DEFAULT_USD_PER_KWH,
        help=f"electricity price for owned hardware (default {DEFAULT_USD_PER_KWH})",
    )
    cost.add_argument("--api-usd-per-mtok", type=float, help="API price per 1M tokens to compare")
    cost.add_argument("--parallel", type=int, default=1,
                      help="sequences served at once (llama-server -np; each holds --context "
                           "tokens). llama-server's own default is auto, 4 slots sharing -c")
    cost.add_argument("--gpus", type=int, help='identical GPUs the layers are split over '
                      '(or write the hardware as "2x rtx-3090")')
    cost.add_argument("--ram-gb", type=float, help="system RAM for offloaded layers, GiB "
                      "(default 64)")
    cost.add_argument("--gguf", metavar="FILE", help="size a local GGUF file from its own "
                      "header instead of a catalog model")
    _custom_model_flags(cost)
    _custom_hardware_flags(cost)
    cost.add_argument("--chart", metavar="FILE", help="write a PNG memory chart to FILE")
    cost.add_argument("--json", action="store_true", help="print one JSON object")
    cost.set_defaults(func=handle_cost)

    fit = subparsers.add_parser(
        "fit",
        help="which catalog models fit on some hardware",
        description="Every catalog model that fits on the hardware, with the best "
        "quantization that fits and its decode speed, best first.",
    )
    fit.add_argument("hardware", nargs="?", help='catalog hardware, e.g. "rtx-4090" or '
                     '"2x rtx-3090"')
    fit.add_argument("--gpus", type=int, help="identical GPUs the layers are split over")
    fit.add_argument("--context", type=int, default=DEFAULT_CONTEXT,
                     help=f"context tokens (default {DEFAULT_CONTEXT})")
    _custom_hardware_flags(fit)
    fit.add_argument("--chart", metavar="FILE", help="write a PNG chart to FILE")
    fit.add_argument("--json", action="store_true", help="print one JSON object")
    fit.set_defaults(func=handle_fit)


def _custom_model_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("custom model (instead of MODEL)")
    group.add_argument("--params", type=float, help="total parameters, billions")
    group.add_argument("--layers", type=int, help="transformer layers")
    group.add_argument("--kv-heads", type=int, help="key/value heads")
    group.add_argument("--head-dim", type=int, help="dimension of one attention head")
    group.add_argument("--heads", type=int, help="query heads (default: --kv-heads)")
    group.add_argument("--active-params", type=float, help="active parameters, billions (MoE)")
    group.add_argument(
        "--max-context",
        type=int,
        default=131072,
        help="the custom model's longest context (default 131072)",
    )


def _custom_hardware_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("custom hardware (instead of a catalog name)")
    group.add_argument("--memory-gb", type=float, help="memory usable for the model, GiB")
    group.add_argument("--bandwidth-gbps", type=float, help="memory bandwidth, GB/s")
    group.add_argument("--power-w", type=float, help="power draw, watts")
    group.add_argument("--kind", default="gpu", help="gpu, apple or cpu (default gpu)")


def _desk(settings: Any) -> Desk:
    return Desk.build(settings)


def _model(args: argparse.Namespace, desk: Desk) -> Model:
    given = [flag for flag in CUSTOM_MODEL_FLAGS if getattr(args, flag) is not None]
    if given:
        missing = [f"--{f.replace('_', '-')}" for f in CUSTOM_MODEL_FLAGS if f not in given]
        if missing:
            raise InvalidInput(
                f"A custom model needs --params, --layers, --kv-heads and --head-dim; "
                f"missing {', '.join(missing)}."
            )
        return Model.custom(
            args.params,
            args.layers,
            args.kv_heads,
            args.head_dim,
            context=args.max_context,
            active_params_b=args.active_params,
            heads=args.heads,
            name=args.model,
        )
    if not args.model:
        raise InvalidInput(
            "Name a model (e.g. llama-3.1-8b) or give --params, --layers, --kv-heads, --head-dim."
        )
    return desk.model(args.model)


def _custom_hardware(args: argparse.Namespace, name: str | None) -> Hardware | None:
    if args.memory_gb is not None or args.bandwidth_gbps is not None:
        if args.memory_gb is None or args.bandwidth_gbps is None:
            raise InvalidInput("Custom hardware needs both --memory-gb and --bandwidth-gbps.")
        return Hardware.custom(
            args.memory_gb, args.bandwidth_gbps, power_w=args.power_w, kind=args.kind, name=name
        )
    return None


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _write_chart(path: str, png: bytes) -> None:
    try:
        Path(path).write_bytes(png)
    except OSError as exc:
        raise ModelDeskError(f"Cannot write the chart to {path}: {exc.strerror}.") from None


def handle_cost(args: argparse.Namespace, settings: Any) -> int:
    """Run `modeldesk cost`."""
    desk = _desk(settings)
    model = None if args.gguf else _model(args, desk)
    hardware = _custom_hardware(args, args.hardware) or args.hardware
    est = desk.cost(
        model,
        gguf=args.gguf,
        parallel=args.parallel,
        gpus=args.gpus,
        ram_gb=args.ram_gb,
        quant=args.quant,
        context=args.context,
        hardware=hardware,
        kv_type=args.kv_type,
        usd_per_hour=args.usd_per_hour,
        usd_per_kwh=args.usd_per_kwh,
        api_usd_per_mtok=args.api_usd_per_mtok,
    )
    if args.chart:
        from bot.render.charts import cost_chart_png

        _write_chart(args.chart, cost_chart_png(est))
    if args.json:
        _out(json.dumps(est.to_dict()))
    else:
        _out(format_cost(est, full=True))
        if args.chart:
            _out(f"Chart written to {args.chart}")
    return 0


def handle_fit(args: argparse.Namespace, settings: Any) -> int:
    """Run `modeldesk fit`."""
    desk = _desk(settings)
    hardware = _custom_hardware(args, args.hardware) or args.hardware
    if hardware is None:
        raise InvalidInput(
            "Name the hardware (e.g. rtx-3060-12gb) or give --memory-gb and --bandwidth-gbps."
        )
    report = desk.fit(hardware, context=args.context, gpus=args.gpus)
    results = report.results
    hardware = report.hardware
    if args.chart:
        from bot.render.charts import fit_chart_png

        _write_chart(args.chart, fit_chart_png(hardware, results))
    if args.json:
        _out(json.dumps(report.to_dict()))
    else:
        _out(format_fit(hardware, results, limit=None))
        if args.chart:
            _out(f"Chart written to {args.chart}")
    return 0
