"""The ``cnncourse`` command line: start the course, check your progress, grade a class.

Each sub-command lives in its own module (``workspace``, ``grading.cli``) and registers itself
here with ``register(subparsers)``.
"""
from __future__ import annotations

import argparse
import sys

from . import __version__, slides, workspace
from .grading import cli as grading_cli

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnncourse", description=__doc__.splitlines()[0].rstrip("."))
    parser.add_argument("--version", action="version", version=f"cnncourse {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    workspace.register(subparsers)
    grading_cli.register(subparsers)
    slides.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
