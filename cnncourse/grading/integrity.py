"""Flagging solutions that call the implementation they are meant to write.

Reads the learner's code (never runs it) with :mod:`ast`: every ``import`` and every
assignment of a module or function to a name is followed, so that ``F.conv2d`` after
``import torch.nn.functional as F``, ``signal.correlate2d`` after ``from scipy import signal``
or ``ref = cnncourse.numpy_ops.conv2d`` all resolve to their full dotted names. A solution is
flagged when its cell, or a function of the learner's that it calls (followed through every
cell the learner wrote), uses a forbidden name, or imports code dynamically (``__import__``,
``importlib``, ``exec``, ``eval``) so that what it calls cannot be read.

It catches the honest shortcut, not a determined cheat (``getattr`` with a computed string is
not followed); see the README's instructor section.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

__all__ = ["FORBIDDEN", "Flag", "find_flags"]

#: Dotted names (and everything under them) a solution may not use.
FORBIDDEN: tuple[str, ...] = (
    "cnncourse.numpy_ops", "cnncourse.torch_ops", "cnncourse.checks", "cnncourse.grading",
    "torch.nn", "torch.conv1d", "torch.conv2d", "torch.conv3d", "torch.conv_transpose2d",
    "torch.convolution", "torch.max_pool2d", "torch.avg_pool2d", "torch.adaptive_avg_pool2d",
    "torch._C", "torch.ops",
    "scipy.signal", "scipy.ndimage", "numpy.convolve", "numpy.correlate",
    "skimage.filters", "skimage.measure.block_reduce", "skimage.transform", "cv2",
    "tensorflow", "jax", "keras",
)
_DYNAMIC = {"__import__", "importlib.import_module", "importlib.__import__", "exec", "eval",
            "compile", "builtins.__import__"}


@dataclass(frozen=True)
class Flag:
    """One forbidden use: the dotted name, where it is (cell index and line), and in which function."""

    name: str
    cell: int
    line: int
    where: str

    def describe(self) -> str:
        return f"uses {self.name} (cell {self.cell}, line {self.line}, in {self.where})"


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


def _is_forbidden(name: str, forbidden: tuple[str, ...]) -> bool:
    return any(name == f or name.startswith(f + ".") for f in forbidden)


def _parse(code: str) -> ast.Module | None:
    # IPython magics and shell escapes are not Python: blank those lines, keep line numbers.
    lines = ["" if line.lstrip().startswith(("%", "!", "?")) or line.rstrip().endswith("?")
             else line for line in code.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _body(node: ast.AST) -> list:
    if isinstance(node, ast.Lambda):
        return [node.body]
    return list(getattr(node, "body", [node]))


def _in_scope(nodes):
    """Every node of one scope: nested functions, lambdas and classes are yielded, not entered."""
    todo = list(nodes)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, _SCOPES):
            todo.extend(ast.iter_child_nodes(node))


def _collect_aliases(scope: ast.AST, aliases: dict[str, str]) -> None:
    """Record the imports and ``name = dotted.name`` assignments made in ``scope`` itself."""
    for node in _in_scope(_body(scope)):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    aliases[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = _dotted(node.value, aliases)
            if target and "." in target:
                aliases[node.targets[0].id] = target


def _local_names(func: ast.AST) -> set[str]:
    """Names local to a function: its parameters and every name it binds (not ``global`` ones)."""
    args = func.args
    names = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    declared_global = set()
    for node in _in_scope(_body(func)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            declared_global |= set(node.names)
    return names - declared_global


def _uses(scope: ast.AST, aliases: dict[str, str]):
    """Yield (dotted name, line) of every name and attribute chain used in ``scope``, resolving
    names through ``aliases``; a function's own local names (``F, C, KH, KW = weight.shape``)
    hide the aliases of the same name inside it."""
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        local = set(_local_names(scope))
        aliases = {k: v for k, v in aliases.items() if k not in local}
        _collect_aliases(scope, aliases)
    for node in _in_scope(_body(scope)):
        if isinstance(node, _SCOPES):
            for outer in (*getattr(node, "decorator_list", ()), *getattr(node, "bases", ()),
                          *(getattr(node, "args", None) and node.args.defaults or ())):
                yield from _uses(ast.Module(body=[ast.Expr(outer)], type_ignores=[]), aliases)
            yield from _uses(node, aliases)
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                yield f"{node.module}.{a.name}", node.lineno
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
              and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
              and isinstance(node.args[1].value, str)):
            base = _dotted(node.args[0], aliases)
            if base:
                yield f"{base}.{node.args[1].value}", node.lineno
        elif isinstance(node, (ast.Attribute, ast.Name)) and isinstance(getattr(node, "ctx", None), ast.Load):
            name = _dotted(node, aliases)
            if name:
                yield name, node.lineno


def find_flags(cells: list[tuple[int, str]], solutions: dict[str, int], context: list[str] = (),
               forbidden: tuple[str, ...] = FORBIDDEN) -> dict[str, list[Flag]]:
    """Forbidden uses per exercise.

    Args:
        cells: ``(cell index, code)`` of every cell the learner wrote or changed, in order.
        solutions: exercise id -> index (into ``cells``' cell indices) of its solution cell.
        context: other code that runs (the course's setup cell): read only for its imports.
        forbidden: dotted-name prefixes that count. Default: :data:`FORBIDDEN`.

    Returns:
        ``{exercise id: [Flag, ...]}`` for the flagged exercises only.
    """
    aliases: dict[str, str] = {}
    trees = {}
    for code in context:
        tree = _parse(code)
        if tree is not None:
            _collect_aliases(tree, aliases)
    for index, code in cells:
        tree = _parse(code)
        if tree is not None:
            trees[index] = tree
            _collect_aliases(tree, aliases)
    # The learner's functions (anywhere) and the top-level code of each cell.
    functions: dict[str, tuple[int, ast.AST]] = {}
    for index, tree in trees.items():
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                functions[node.name] = (index, node)
    for name in functions:  # the learner's own definitions shadow imported names
        aliases.pop(name, None)
    flags: dict[str, list[Flag]] = {}
    for exercise, cell in solutions.items():
        if cell not in trees:
            continue
        found, seen = [], set()
        todo = [(cell, trees[cell], f"the solution cell of {exercise}")]
        while todo:
            index, tree, where = todo.pop()
            for name, line in _uses(tree, aliases):
                head = name.split(".")[0]
                if _is_forbidden(name, forbidden) or name in _DYNAMIC:
                    found.append(Flag(name, index, line, where))
                elif head in functions and head not in seen:
                    seen.add(head)
                    f_index, f_node = functions[head]
                    todo.append((f_index, f_node, f"function {head}"))
        longest: dict[tuple[int, int], Flag] = {}
        for flag in found:  # `torch.nn.functional.conv2d` also yields `torch.nn`: keep the longest
            key = (flag.cell, flag.line)
            if key not in longest or len(flag.name) > len(longest[key].name):
                longest[key] = flag
        if longest:
            flags[exercise] = [longest[k] for k in sorted(longest)]
    return flags
