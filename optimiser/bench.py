"""``python -m optimiser bench``: published benchmark instances through the same model."""

from __future__ import annotations

import argparse


def add_bench_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the bench command (instances: holmberg, orlib-cap)."""
    bench = sub.add_parser("bench", help="solve a published benchmark instance")
    bench.set_defaults(func=lambda args: 2)
