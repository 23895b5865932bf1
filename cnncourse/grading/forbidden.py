"""What a solution may not call, computed from the package itself (no list typed by hand).

Every module of ``cnncourse`` is a reference implementation (``numpy_ops``, ``torch_ops``,
``shapes``, the checks and their references, the grader — and any module added later) except
the course's helpers: data, plots, widgets, named kernels and the tools around the notebooks
(:data:`HELPERS`). The helpers are read too (with :mod:`ast`, never imported): a name they
import from a reference module (``cnncourse.data.textures.conv_output_size``) and every helper
function that uses a reference, directly or through another function of its module
(``cnncourse.viz.conv.show_feature_maps`` computes a convolution), are forbidden as well. The
libraries' entry points are :data:`~cnncourse.grading.integrity.LIBRARY_PREFIXES` plus the rule
in :func:`~cnncourse.grading.integrity.is_forbidden`.
"""
from __future__ import annotations

import ast
import functools
import os
from pathlib import Path

from .integrity import LIBRARY_PREFIXES, collect_aliases, is_forbidden, parse, uses

__all__ = ["HELPERS", "forbidden_prefixes", "reference_modules", "package_modules"]

#: Top-level modules of cnncourse that are helpers, not reference implementations.
HELPERS = ("data", "viz", "widgets", "kernels", "notebook_tools", "workspace", "cli")


def _package_dir() -> Path:
    return Path(__file__).resolve().parent.parent


def package_modules() -> dict[str, Path]:
    """Every module of the installed package: dotted name -> source file."""
    root = _package_dir()
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")) and d != "lessons")
        for name in sorted(files):
            if name.endswith(".py"):
                rel = (Path(folder) / name).relative_to(root.parent).with_suffix("")
                parts = list(rel.parts)
                if parts[-1] == "__init__":
                    parts.pop()
                found[".".join(parts)] = Path(folder) / name
    return found


def reference_modules() -> list[str]:
    """The top-level modules of cnncourse that are reference implementations."""
    tops = {name.split(".")[1] for name in package_modules() if name.count(".") >= 1}
    return sorted(f"cnncourse.{top}" for top in tops if top not in HELPERS)


def _helper_names(module: str, path: Path, prefixes: tuple[str, ...]) -> set[str]:
    """Names of a helper module that lead to a reference: imported from one, or functions and
    classes that use one (directly or through the module's other functions)."""
    try:
        tree, _ = parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return set()
    if tree is None:
        return set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    aliases: dict[str, set[str]] = {}
    collect_aliases(tree, aliases, package)
    found = {name for name, targets in aliases.items() if any(is_forbidden(t, prefixes) for t in targets)}
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    calls = {}
    for name, node in defs.items():
        # function-level relative imports (`from ..numpy_ops import conv2d` inside a function)
        local = {}
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom) and inner.level:
                collect_aliases(ast.Module(body=[inner], type_ignores=[]), local, package)
        used = {u for u, _ in uses(ast.Module(body=[node], type_ignores=[]), {**aliases, **local})}
        used |= {t for targets in local.values() for t in targets}
        if any(is_forbidden(u, prefixes) for u in used):
            found.add(name)
        calls[name] = {u.split(".")[0] for u in used} & set(defs)
    changed = True
    while changed:  # a function calling a flagged function of the same module is flagged
        changed = False
        for name, called in calls.items():
            if name not in found and called & found:
                found.add(name)
                changed = True
    return {f"{module}.{name}" for name in found}


@functools.lru_cache(maxsize=1)
def forbidden_prefixes() -> tuple[str, ...]:
    """Every forbidden dotted-name prefix: reference modules, the names of helpers that lead to
    them, and the libraries' entry points."""
    prefixes = (*reference_modules(), *LIBRARY_PREFIXES)
    helpers = set()
    for module, path in package_modules().items():
        if module.split(".")[1:2] and module.split(".")[1] in HELPERS:
            helpers |= _helper_names(module, path, prefixes)
    return tuple(sorted(set(prefixes) | helpers))
