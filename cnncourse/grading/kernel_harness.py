"""The code the grader injects into a learner's kernel (this whole file is sent as its first cell).

It runs *before* any learner code, in a namespace of its own with a private copy of the builtins,
and captures every function it needs (``open``, ``type``, ``numpy.frombuffer``,
``ndarray.tobytes``, a private JSON encoder and decoder...). Later, for each exercise, the grader
sends one short cell that calls :func:`run_exercise`: it reads the exercise's cases from a file
of raw array bytes (no pickle, and not ``numpy.load``, whose Python code looks up
``numpy.frombuffer`` at call time and breaks when NumPy is patched), calls the learner's function
on fresh copies of them, and appends what happened to a results file as *plain data*: a JSON
header per record followed by the raw bytes of its arrays (``dtype.str`` + shape + bytes).

Nothing here judges anything: the grader parses the results file itself (never unpickling, never
calling ``==`` on a learner object) and diagnoses in its own process. Capturing the functions
up front keeps the harness working when learner code patches NumPy, builtins or the IPython shell
by accident or on purpose; a learner who rewrites the interpreter can at worst make this kernel
report wrong *data* — which is judged like any other wrong answer.

Results file: a sequence of records ``b"<header length>\\n" + header JSON + array bytes``.
Headers: ``{"start": i}`` before case ``i`` is called, then ``{"case": i, "value": V, "error":
[name, message] | null, "args": [V...], "kwargs": {name: V}}`` after it (``args``/``kwargs``
are the inputs as they are after the call), ``{"missing": message}`` when the function is not
defined, and ``{"done": n}`` at the end. A value ``V`` is ``{"k": kind, ...}`` with ``kind`` one
of ``array`` (``dtype``, ``shape``, ``nbytes``: its bytes follow the header, in order),
``objarray``, ``scalar`` (a NumPy scalar: ``dtype``, ``nbytes``), ``int``/``float`` (``v`` as
text), ``bool``, ``str``, ``none``, ``tuple``/``list`` (``items``) or ``other`` (``module``,
``qualname``: the type of an object the grader cannot trust).
"""
import json as _json
import sys as _sys

import numpy as _np

__all__ = ["run_exercise", "encode_value"]

_open = open
_type = type
_len = len
_str = str
_issubclass = issubclass
_int_repr = int.__repr__
_float_repr = float.__repr__
_dict_get = dict.get
_type_getattr = type.__getattribute__
_dumps = _json.JSONEncoder().encode  # bound to a private encoder: patching json changes nothing
_loads = _json.JSONDecoder().decode
_frombuffer = _np.frombuffer
_dtype = _np.dtype
_array = _np.array
_ndarray = _np.ndarray
_generic = _np.generic
_tobytes = _np.ndarray.tobytes
_BaseException = BaseException
_KeyboardInterrupt = KeyboardInterrupt
_NoneType = type(None)
_MAX_ITEMS = 10_000
_MAX_DEPTH = 8


def _type_parts(t):
    try:  # type.__getattribute__ bypasses a metaclass that lies about the names
        module = _type_getattr(t, "__module__")
        qualname = _type_getattr(t, "__qualname__")
    except _BaseException:
        module, qualname = "?", "?"
    module = module if _type(module) is _str else "?"
    qualname = qualname if _type(qualname) is _str else "?"
    return module[:200], qualname[:200]


def encode_value(value, blobs, depth=0):
    """Describe ``value`` as JSON-able plain data; array bytes are appended to ``blobs``."""
    t = _type(value)
    if t is _ndarray:
        if value.dtype.hasobject:
            return {"k": "objarray", "shape": [int(n) for n in value.shape]}
        data = _tobytes(value)
        blobs.append(data)
        return {"k": "array", "dtype": value.dtype.str, "shape": [int(n) for n in value.shape],
                "nbytes": _len(data)}
    if t is bool:
        return {"k": "bool", "v": value is True}
    if t is int:
        return {"k": "int", "v": _int_repr(value)}
    if t is float:
        return {"k": "float", "v": _float_repr(value)}
    if t is _str:
        return {"k": "str", "v": _str.__str__(value)[:2000]}
    if t is _NoneType:
        return {"k": "none"}
    if (t is tuple or t is list) and depth < _MAX_DEPTH and _len(value) <= _MAX_ITEMS:
        return {"k": t.__name__, "items": [encode_value(v, blobs, depth + 1) for v in value]}
    if _issubclass(t, _generic) and not _issubclass(t, _ndarray):
        as_array = _array(value)
        if not as_array.dtype.hasobject and as_array.ndim == 0:
            data = _tobytes(as_array)
            blobs.append(data)
            module, qualname = _type_parts(t)
            return {"k": "scalar", "dtype": as_array.dtype.str, "nbytes": _len(data),
                    "module": module, "qualname": qualname}
    module, qualname = _type_parts(t)
    return {"k": "other", "module": module, "qualname": qualname}


def _decode(spec, arrays):
    kind = spec["k"]
    if kind == "array":
        return _array(arrays[spec["ref"]], copy=True)
    if kind == "scalar":
        return arrays[spec["ref"]][()]
    if kind in ("tuple", "list"):
        items = [_decode(s, arrays) for s in spec["items"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {k: _decode(s, arrays) for k, s in spec["items"].items()}
    if kind == "int":
        return int(spec["v"])
    if kind == "float":
        return float(spec["v"])
    if kind in ("str", "bool"):
        return spec["v"]
    return None


def _write(out, header, blobs=()):
    data = _dumps(header).encode()
    out.write(b"%d\n" % _len(data))
    out.write(data)
    for blob in blobs:
        out.write(blob)
    out.flush()


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
    return [name, message[:4000]]


def _read_cases(path):
    """Read the cases file: ``b"<n>\\n"`` + JSON header (``cases``, ``arrays``) + array bytes."""
    with _open(path, "rb") as f:
        data = f.read()
    end = data.index(b"\n")
    start = end + 1 + int(data[:end])
    header = _loads(data[end + 1:start].decode())
    arrays = [_frombuffer(data, dtype=_dtype(t["dtype"]), count=t["count"],
                          offset=start + t["offset"]).reshape(t["shape"]) for t in header["arrays"]]
    return header["cases"], arrays


def run_exercise(namespace, request):
    """Run one exercise's cases on the learner's function and write the results file.

    ``request`` is a JSON string ``{"kind": "function" | "prediction", "name": ..., "cases":
    path of the cases file, "result": path of the results file}``.
    """
    req = _loads(request)
    with _open(req["result"], "wb") as out:
        cases, arrays = _read_cases(req["cases"])
        name = req["name"]
        missing = object()
        target = _dict_get(namespace, name, missing)
        if target is missing:
            _write(out, {"missing": f"name '{name}' is not defined"})
            return
        if req["kind"] == "function" and not callable(target):
            module, qualname = _type_parts(_type(target))
            _write(out, {"not_callable": [module, qualname]})
            return
        for i, case in enumerate(cases):
            args = _decode({"k": "list", "items": case["args"]}, arrays)
            kwargs = _decode({"k": "dict", "items": case["kwargs"]}, arrays)
            _write(out, {"start": i})
            error, value = None, None
            try:
                value = target(*args, **kwargs) if req["kind"] == "function" else target
            except _KeyboardInterrupt:
                _write(out, {"interrupted": i})
                return
            except _BaseException as exc:  # the learner's code may raise anything
                error = _error_text(exc)
            blobs = []
            header = {"case": i, "error": error,
                      "value": encode_value(value, blobs) if error is None else {"k": "none"},
                      "args": [encode_value(a, blobs) for a in args],
                      "kwargs": {k: encode_value(v, blobs) for k, v in kwargs.items()}}
            _write(out, header, blobs)
        _write(out, {"done": _len(cases)})


def _install(module_name, namespace):
    """Register ``run(request)`` as ``sys.modules[module_name]`` (called by the bootstrap)."""
    import types

    module = types.ModuleType(module_name)
    module.run = lambda request: run_exercise(namespace, request)
    _sys.modules[module_name] = module
