"""The code the grader runs inside a learner's kernel, before any learner code.

The grader reads this file and :mod:`~cnncourse.grading.wire` once, when it is imported, and
sends both texts in the kernel's first cell (:func:`bootstrap_code`): they are executed there in
namespaces of their own with a private copy of the builtins, and capture every function they
need at that moment. Later, for each exercise, the grader sends one short cell that calls
:func:`run_exercise`: it reads the exercise's cases (a :mod:`wire` stream), calls the learner's
function on fresh copies of them, and appends what happened to a results file, also as
:mod:`wire` records:

- ``{"start": i}`` before case ``i`` is called, then ``{"case": i, "value": V, "error": [name,
  message] | null, "args": [V...], "kwargs": {name: V}}`` after it (the inputs as they are after
  the call, to see in-place changes);
- ``{"missing": message}`` / ``{"not_callable": [module, qualname]}`` when the learner's name is
  not defined / not a function; ``{"interrupted": i}`` when the call was interrupted;
- ``{"done": n}`` at the end.

Nothing here judges anything: the grader decodes the results with the wire format's caps and
diagnoses in its own process. A learner who rewrites the interpreter can at worst make this
kernel report wrong *data* about their own function, which is judged like any wrong answer.
"""
try:
    wire  # noqa: B018  (in the kernel, the bootstrap passes the wire module in)
except NameError:
    from . import wire

__all__ = ["run_exercise", "bootstrap_code"]

_open, _type, _len, _str, _enumerate, _callable = open, type, len, str, enumerate, callable
_dict_get, _type_getattr = dict.get, type.__getattribute__
_BaseException, _KeyboardInterrupt = BaseException, KeyboardInterrupt
_loads = __import__("json").JSONDecoder().decode
_encode, _record, _Reader, _decode, _CAPS = (wire.encode, wire.record, wire.Reader, wire.decode,
                                             wire.CAPS)


def _error_text(exc):
    try:
        name = _type_getattr(_type(exc), "__name__")
        name = name if _type(name) is _str else "?"
    except _BaseException:
        name = "?"
    try:
        message = _str(exc)
        message = message if _type(message) is _str else "?"
    except _BaseException:
        message = "(the exception's message could not be shown)"
    return [name[:200], message[:_CAPS.text]]


def _read_cases(path):
    with _open(path, "rb") as f:
        reader = _Reader(f.read())
    count = reader.next()["cases"]
    cases = []
    for _ in range(count):
        header = reader.next()
        args = [_decode(s, reader) for s in header["args"]]
        kwargs = {k: _decode(s, reader) for k, s in header["kwargs"].items()}
        cases.append((args, kwargs))
    return cases


def run_exercise(namespace, request):
    """Run one exercise's cases on the learner's function and write the results file.

    ``request`` is a JSON string ``{"kind": "function" | "prediction", "name": ..., "cases":
    path of the cases file, "result": path of the results file}``.
    """
    req = _loads(request)
    with _open(req["result"], "wb") as out:
        def write(header, blobs=()):
            out.write(_record(header, blobs))
            out.flush()

        cases = _read_cases(req["cases"])
        name = req["name"]
        missing = object()
        target = _dict_get(namespace, name, missing)
        if target is missing:
            write({"missing": f"name '{name}' is not defined"})
            return
        if req["kind"] == "function" and not _callable(target):
            write({"not_callable": list(wire._type_parts(_type(target), _CAPS))})
            return
        for i, (args, kwargs) in _enumerate(cases):
            write({"start": i})
            error, value = None, None
            try:
                value = target(*args, **kwargs) if req["kind"] == "function" else target
            except _KeyboardInterrupt:
                write({"interrupted": i})
                return
            except _BaseException as exc:  # the learner's code may raise anything
                error = _error_text(exc)
            blobs, budget = [], [_CAPS.values, _CAPS.elements]
            header = {"case": i, "error": error,
                      "value": _encode(value, blobs, _CAPS, budget) if error is None else {"k": "none"},
                      "args": [_encode(a, blobs, _CAPS, budget) for a in args],
                      "kwargs": {k: _encode(v, blobs, _CAPS, budget) for k, v in kwargs.items()}}
            write(header, blobs)
        write({"done": _len(cases)})


def _install(module_name, namespace):
    """Register ``run(request)`` as ``sys.modules[module_name]`` (called by the bootstrap)."""
    import sys
    import types

    module = types.ModuleType(module_name)
    module.run = lambda request: run_exercise(namespace, request)
    sys.modules[module_name] = module


def _source(module_name: str) -> str:
    from importlib.resources import files

    return (files(__package__) / f"{module_name}.py").read_text(encoding="utf-8")


#: Read once, when the grader imports this module: later changes on disk change nothing.
_SOURCES = None if __name__ != "cnncourse.grading.kernel_harness" else (_source("wire"),
                                                                       _source("kernel_harness"))


def bootstrap_code(module_name: str) -> str:
    """The kernel's first cell: execute the wire format and this harness in private namespaces
    and register ``sys.modules[module_name].run``."""
    wire_source, harness_source = _SOURCES
    return (
        "def _cnncourse_bootstrap(sources, name, namespace):\n"
        "    import builtins, types\n"
        "    def load(source, module_name, extra):\n"
        "        module = types.ModuleType(module_name)\n"
        "        module.__dict__.update(extra, __builtins__=dict(vars(builtins)))\n"
        "        exec(compile(source, f'<cnncourse grader: {module_name}>', 'exec'), module.__dict__)\n"
        "        return module\n"
        "    wire = load(sources[0], 'cnncourse_grader_wire', {})\n"
        "    harness = load(sources[1], 'cnncourse_grader_harness', {'wire': wire})\n"
        "    harness._install(name, namespace)\n"
        f"_cnncourse_bootstrap({(wire_source, harness_source)!r}, {module_name!r}, "
        "get_ipython().user_ns)\n"
        "del _cnncourse_bootstrap\n"
    )
