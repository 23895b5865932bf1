"""Reading the learner's code (never running it) for solutions that are not their own work.

Every cell the learner wrote is parsed with :mod:`ast`. For each exercise, *every* binding of
its name (``def``, assignment, import, loop or ``with`` target, ``global`` in a function) is a
starting point; from each, the names it uses are resolved through the learner's imports and
assignments (``F.conv2d`` after ``import torch.nn.functional as F`` is
``torch.nn.functional.conv2d``; aliases are kept per name, all of them) and the learner's own
functions it calls are followed, through every cell. Findings come in two kinds:

- **flags** (the exercise gets zero points unless ``--allow-reference``): a forbidden name is
  reached (:mod:`~cnncourse.grading.forbidden`: the course's reference implementations and the
  convolution and pooling entry points of PyTorch, SciPy, NumPy...), the exercise's name is bound
  by an import (the grader reads only the notebook's code), or code is imported, run or looked
  up dynamically on the way (``__import__``, ``importlib``, ``exec``, ``eval``, ``getattr`` with
  a computed name, ``sys.modules``, ``globals()``...);
- **reviews** (points kept, status ``review``): the name is defined more than once or
  conditionally, a solution reaches a module that is neither installed nor part of the notebook
  (a file next to it), or *any* learner cell uses dynamic access the analysis cannot follow
  (``getattr`` with a computed name, ``sys.modules``, ``globals()``, ``vars()``, ``__dict__``,
  ``get_ipython()``, ``%run``, cell magics, shell escapes).

This catches every honest shortcut and every obfuscation that stays within static Python; it
cannot prove what dynamic code does. See the README's instructor section.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

__all__ = ["Flag", "Findings", "analyse", "is_forbidden", "parse", "LIBRARY_PREFIXES"]

#: Library names a solution may not use (and everything under them).
LIBRARY_PREFIXES: tuple[str, ...] = (
    "torch.nn", "torch._C", "torch.ops", "torch._refs", "torch._decomp", "torch._prims",
    "scipy.signal", "scipy.ndimage", "numpy.convolve", "numpy.correlate",
    "skimage.filters", "skimage.measure.block_reduce", "skimage.transform", "cv2",
    "tensorflow", "jax", "keras",
)
# Any name under these whose path names a convolution, a correlation or a pooling is forbidden
# too, underscore-prefixed or not (torch._convolution, torch.cudnn_convolution, torch.max_pool2d,
# numpy._core.multiarray.correlate2, scipy.fft... are caught without a list of them).
_OP_ROOTS = ("torch", "numpy", "scipy", "skimage", "jax", "tensorflow", "keras", "mxnet", "paddle")
_OP_WORD = re.compile(r"conv(?!ex|ert|erg)|correl|pool", re.IGNORECASE)
_DYNAMIC_CODE = {"__import__", "importlib", "exec", "eval", "compile", "builtins.__import__",
                 "builtins.exec", "builtins.eval", "runpy"}
_DYNAMIC_ACCESS = {"sys.modules", "globals", "locals", "vars", "get_ipython", "builtins",
                   "__builtins__", "setattr", "delattr", "importlib", "__import__", "exec", "eval",
                   "compile", "runpy", "sys._getframe", "inspect.currentframe", "ctypes"}
_DYNAMIC_ATTRS = {"__dict__", "__globals__", "__builtins__", "__getattribute__", "__code__",
                  "f_globals", "f_locals", "__subclasses__"}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_BLOCKS = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.With, ast.AsyncWith, ast.Match,
           *((ast.TryStar,) if hasattr(ast, "TryStar") else ()))


def is_forbidden(name: str, prefixes: tuple[str, ...] = LIBRARY_PREFIXES) -> bool:
    """True if the dotted ``name`` is under one of ``prefixes`` or names a library convolution."""
    if any(name == p or name.startswith(p + ".") for p in prefixes):
        return True
    parts = name.split(".")
    return parts[0] in _OP_ROOTS and any(_OP_WORD.search(part) for part in parts[1:])


@dataclass(frozen=True)
class Flag:
    """One finding: what (``name``), where (cell index, line, in which function), which ``kind``."""

    name: str
    cell: int
    line: int
    where: str
    kind: str = "reference"

    def describe(self) -> str:
        at = f"cell {self.cell}, line {self.line}"
        return {
            "reference": f"uses {self.name} ({at}, in {self.where})",
            "import": f"is bound by an import of {self.name} ({at}): the grader reads only code "
                      f"written in the notebook",
            "dynamic": f"reaches code dynamically with {self.name} ({at}, in {self.where}), "
                       f"so what it calls cannot be read",
            "redefined": f"{self.name} ({at}): the grader cannot tell statically which one runs",
            "conditional": f"{self.name} is defined conditionally ({at})",
            "local": f"calls {self.name} ({at}, in {self.where}), which is neither installed nor "
                     f"written in the notebook",
            "access": f"uses {self.name} ({at}): dynamic access the static check cannot follow",
        }.get(self.kind, f"{self.name} ({at})")


@dataclass
class Findings:
    """``flags`` zero an exercise (unless allowed); ``reviews`` keep its points, for a person."""

    flags: dict[str, list[Flag]] = field(default_factory=dict)
    reviews: dict[str, list[Flag]] = field(default_factory=dict)


def parse(code: str) -> tuple[ast.Module | None, list[tuple[int, str]]]:
    """The cell's tree (``None`` if it is not Python) and its IPython lines (magics, shell
    escapes, ``?`` help), which are blanked before parsing: ``(line number, text)``."""
    lines, magics = [], []
    for number, line in enumerate(code.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(("%", "!")) or (stripped.endswith("?") and not stripped.startswith("#")):
            magics.append((number, stripped))
            lines.append("")
        else:
            lines.append(line)
    try:
        return ast.parse("\n".join(lines)), magics
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None, magics


def _dotted(node: ast.AST, aliases: dict[str, set[str]]) -> list[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return []
    tail = ".".join(reversed(parts))
    return [f"{base}.{tail}" if tail else base for base in aliases.get(node.id) or {node.id}]


def _in_scope(nodes):
    """Every node of one scope: nested functions, lambdas and classes are yielded, not entered."""
    todo = list(nodes)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, _SCOPES):
            todo.extend(ast.iter_child_nodes(node))


def _body(node: ast.AST) -> list:
    if isinstance(node, ast.Lambda):
        return [node.body]
    return list(getattr(node, "body", [node])) if not isinstance(node, ast.expr) else [node]


def _from_module(node: ast.ImportFrom, package: str | None) -> str | None:
    if not node.level:
        return node.module
    if package is None:
        return None
    base = package.split(".")
    base = base[:len(base) - node.level + 1] if node.level > 1 else base
    return ".".join([*base, *([node.module] if node.module else [])])


def collect_aliases(scope: ast.AST, aliases: dict[str, set[str]], package: str | None = None) -> None:
    """Add the imports and ``name = dotted.name`` assignments made in ``scope`` to ``aliases``."""
    for node in _in_scope(_body(scope)):
        if isinstance(node, ast.Import):
            for a in node.names:
                name = a.asname or a.name.split(".")[0]
                aliases.setdefault(name, set()).add(a.name if a.asname else name)
        elif isinstance(node, ast.ImportFrom) and (module := _from_module(node, package)):
            for a in node.names:
                aliases.setdefault(a.asname or a.name, set()).add(f"{module}.{a.name}")
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            targets = [t for t in _dotted(node.value, aliases) if "." in t]
            if targets:
                aliases.setdefault(node.targets[0].id, set()).update(targets)


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


def uses(scope: ast.AST, aliases: dict[str, set[str]]):
    """Yield (dotted name, line) of every name and attribute chain used in ``scope``, resolving
    names through ``aliases``; a function's own local names hide the aliases of the same name."""
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        local = _local_names(scope)
        aliases = {k: v for k, v in aliases.items() if k not in local}
        collect_aliases(scope, aliases)
    for node in _in_scope(_body(scope)):
        if isinstance(node, _SCOPES):
            for outer in (*getattr(node, "decorator_list", ()), *getattr(node, "bases", ()),
                          *(getattr(node, "args", None) and node.args.defaults or ())):
                yield from uses(outer, aliases)
            yield from uses(node, aliases)
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                yield f"{node.module}.{a.name}", node.lineno
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
              and len(node.args) >= 2):
            if isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
                for base in _dotted(node.args[0], aliases):
                    yield f"{base}.{node.args[1].value}", node.lineno
            else:
                yield "getattr with a computed name", node.lineno
        elif isinstance(node, (ast.Attribute, ast.Name)) and isinstance(getattr(node, "ctx", None), ast.Load):
            for name in _dotted(node, aliases):
                yield name, node.lineno
            if isinstance(node, ast.Attribute) and node.attr in _DYNAMIC_ATTRS:
                yield f"the attribute {node.attr}", node.lineno


@dataclass
class _Binding:
    cell: int
    line: int
    kind: str  # "def" (function or class: the node), "value" (an expression), "import"
    node: object
    conditional: bool


def _bindings(index: int, tree: ast.Module, into: dict[str, list[_Binding]]) -> None:
    """Every module-level binding of a name in one cell (inside if/for/try/with: conditional),
    and names a function assigns after declaring them ``global``."""
    def add(name, line, kind, node, conditional):
        into.setdefault(name, []).append(_Binding(index, line, kind, node, conditional))

    def targets(target, value, line, conditional):
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                add(node.id, line, "value", value, conditional)

    def visit(statements, conditional):
        for node in statements:
            line = getattr(node, "lineno", 0)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                add(node.name, line, "def", node, conditional)
                _globals_assigned(node, add)
            elif isinstance(node, ast.Import):
                for a in node.names:
                    add(a.asname or a.name.split(".")[0], line, "import",
                        [a.name if a.asname else a.name.split(".")[0]], conditional)
            elif isinstance(node, ast.ImportFrom):
                for a in node.names:
                    add(a.asname or a.name, line, "import",
                        [f"{'.' * node.level}{node.module or ''}.{a.name}"], conditional)
            elif isinstance(node, ast.Assign):
                for t in node.targets:
                    targets(t, node.value, line, conditional)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
                targets(node.target, node.value, line, conditional)
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                targets(node.target, node.iter, line, True)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        targets(item.optional_vars, item.context_expr, line, True)
            if isinstance(node, ast.expr) or isinstance(node, ast.Expr):
                for walrus in ast.walk(node):
                    if isinstance(walrus, ast.NamedExpr):
                        targets(walrus.target, walrus.value, line, True)
            if isinstance(node, _BLOCKS):
                for block in ("body", "orelse", "finalbody"):
                    visit(getattr(node, block, []), True)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body, True)
                for case in getattr(node, "cases", []):
                    visit(case.body, True)

    visit(tree.body, False)


def _globals_assigned(func: ast.AST, add) -> None:
    for inner in ast.walk(func):
        if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
            declared = {n for g in ast.walk(inner) if isinstance(g, ast.Global) for n in g.names}
            for node in ast.walk(inner):
                if isinstance(node, ast.Assign) and declared:
                    for t in node.targets:
                        if isinstance(t, ast.Name) and t.id in declared:
                            add(t.id, node.lineno, "value", node.value, True)
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node is not inner \
                        and node.name in declared:
                    add(node.name, node.lineno, "def", node, True)


def _dynamic_access(index: int, tree: ast.Module | None, magics, aliases) -> list[Flag]:
    """Dynamic access anywhere in one cell (magics included)."""
    found = []
    for number, line in magics:
        if line.startswith(("%run", "%load", "%%", "%store", "%macro", "!", "%sx", "%system")) \
                or line.endswith("?"):
            found.append(Flag(f"the IPython command `{line[:60]}`", index, number, "the cell", "access"))
    if tree is not None:
        for name, line in uses(tree, aliases):
            head = name.split(".")[0]
            if (name in _DYNAMIC_ACCESS or head in ("importlib", "runpy", "ctypes")
                    or name.startswith(("getattr with", "the attribute", "sys.modules", "builtins."))):
                found.append(Flag(name, index, line, "the cell", "access"))
    return found


def analyse(cells: list[tuple[int, str]], exercises: dict[str, tuple[str, str]],
            context: list[str] = (), prefixes: tuple[str, ...] = LIBRARY_PREFIXES,
            is_local=lambda module: False) -> Findings:
    """The findings of every exercise of one notebook.

    Args:
        cells: ``(cell index, code)`` of every cell the learner wrote or changed, in order.
        exercises: exercise id -> (the name the learner defines, ``"function"`` or
            ``"prediction"``).
        context: other code that runs (the course's setup cell): read only for its imports.
        prefixes: forbidden dotted-name prefixes. Default: :data:`LIBRARY_PREFIXES`.
        is_local: ``is_local(top-level module name)`` is True for a module that is not
            installed (so it can only be a file of the submission). Default: none is.
    """
    aliases: dict[str, set[str]] = {}
    trees: dict[int, ast.Module] = {}
    magics: dict[int, list] = {}
    for code in context:
        tree, _ = parse(code)
        if tree is not None:
            collect_aliases(tree, aliases)
    for index, code in cells:
        trees[index], magics[index] = parse(code)
        if trees[index] is not None:
            collect_aliases(trees[index], aliases)
    bindings: dict[str, list[_Binding]] = {}
    for index, tree in trees.items():
        if tree is not None:
            _bindings(index, tree, bindings)
    for name, found in bindings.items():  # the learner's own functions shadow imported names
        if any(b.kind == "def" for b in found):
            aliases.pop(name, None)
    access = [f for index in trees for f in _dynamic_access(index, trees[index], magics[index], aliases)]
    imported = {t.split(".")[0] for targets in aliases.values() for t in targets}
    local = {root for root in imported if root and not root.startswith(".") and is_local(root)}
    findings = Findings()
    for exercise, (name, kind) in exercises.items():
        flags, reviews = _follow(name, bindings, aliases, prefixes, local)
        own = [b for b in bindings.get(name, []) if b.kind != "import"]
        if kind == "function" and len(bindings.get(name, [])) > 1:
            where = ", ".join(f"cell {b.cell} line {b.line}" for b in bindings[name])
            first = bindings[name][0]
            reviews.append(Flag(f"{name} is defined {len(bindings[name])} times ({where})",
                                first.cell, first.line, "the notebook", "redefined"))
        if kind == "function":
            reviews += [Flag(name, b.cell, b.line, "the notebook", "conditional")
                        for b in own if b.conditional]
            reviews += access
        _store(findings.flags, exercise, flags)
        _store(findings.reviews, exercise, reviews)
    return findings


def _store(table: dict, exercise: str, found: list[Flag]) -> None:
    unique = {}
    for flag in found:  # `torch.nn.functional.conv2d` also yields `torch.nn`: keep the longest
        key = (flag.kind, flag.cell, flag.line)
        if key not in unique or len(flag.name) > len(unique[key].name):
            unique[key] = flag
    if unique:
        table[exercise] = [unique[k] for k in sorted(unique, key=lambda k: (k[1], k[2], k[0]))]


def _follow(name, bindings, aliases, prefixes, local) -> tuple[list[Flag], list[Flag]]:
    """Flags and reviews reached from every binding of ``name``."""
    flags, reviews, seen = [], [], {name}
    todo = [(name, b) for b in bindings.get(name, [])]
    while todo:
        bound, b = todo.pop()
        where = f"the definition of {bound}"
        if b.kind == "import":
            for target in b.node:
                kind = "reference" if is_forbidden(target, prefixes) else "import"
                if bound == name or kind == "reference":
                    flags.append(Flag(target, b.cell, b.line, where, kind))
            continue
        scope = ast.Module(body=[b.node], type_ignores=[]) if b.kind == "def" else b.node
        for used, line in uses(scope, aliases):
            head = used.split(".")[0]
            if is_forbidden(used, prefixes):
                flags.append(Flag(used, b.cell, line, where))
            elif (used in _DYNAMIC_CODE or used in _DYNAMIC_ACCESS or head in ("importlib", "runpy")
                  or used.startswith(("getattr with", "the attribute", "sys.modules", "builtins."))):
                flags.append(Flag(used, b.cell, line, where, "dynamic"))
            elif head in bindings and head not in seen:
                seen.add(head)
                todo += [(head, other) for other in bindings[head]]
            elif head in local and head not in bindings:
                reviews.append(Flag(used, b.cell, line, where, "local"))
    return flags, reviews
