"""The one wire format for values between the grader and a learner kernel, with its hard caps.

Both sides use this module: the grader imports it, and the grader sends its source text into
the kernel, where it is executed in a namespace of its own *before any learner code runs*. Every
function and type it needs (``type``, ``len``, ``numpy.frombuffer``, ``ndarray.tobytes``, a JSON
encoder and decoder...) is captured at that moment, so later patching of NumPy, ``json`` or the
builtins by learner code changes nothing here. No pickle anywhere; nothing is imported by a name
found in the data; no method of a learner object is ever called.

A stream is a sequence of *records*: ``b"<n>\\n"``, an ``n``-byte JSON header (an object), then
the raw bytes of the arrays the header describes, in the order they appear in it. A *value* in a
header is ``{"k": kind, ...}``:

========== ==========================================================================
``array``  ``dtype`` (``dtype.str``), ``shape``, ``nbytes``: its bytes follow the header
``scalar`` a NumPy scalar: ``dtype``, ``nbytes``, ``module``, ``qualname``
``objarray`` an object array (never sent): ``shape`` only
``bool`` / ``none`` / ``str`` (``v``) / ``int`` / ``float`` (``v`` as ``repr`` text)
``bigint`` an int too large to send: ``bits``
``tuple`` / ``list`` ``items``: values
``dict``   ``keys`` (strings), ``items``: their values (a dict with string keys only)
``big``    an array over the size cap, not sent: ``nbytes``
``other``  any other object: ``module``, ``qualname`` of its type (never its contents)
========== ==========================================================================

Decoding (:class:`Reader`, :func:`decode`) enforces hard caps whatever the other side wrote:
header size, nesting depth, items per sequence, values and array elements per record, digits
of an integer, text length, and bytes in total; anything outside them raises
:class:`WireError`. A record cut short (a kernel that died while writing) reads as the end.
"""
import json as _json

import numpy as _np

__all__ = ["WireError", "Caps", "CAPS", "encode", "record", "Reader", "decode", "Opaque"]


class WireError(ValueError):
    """Data on the wire breaks the format or a cap: nothing in that record is trusted."""


class Caps:
    """The hard limits of the format (the defaults are :data:`CAPS`)."""

    def __init__(self, header_bytes=1 << 20, depth=8, items=10_000, values=50_000,
                 elements=1 << 22, array_bytes=1 << 24, int_digits=400, text=4000, name=200):
        self.header_bytes, self.depth, self.items, self.values = header_bytes, depth, items, values
        self.elements, self.array_bytes, self.int_digits = elements, array_bytes, int_digits
        self.text, self.name = text, name


CAPS = Caps()

# Captured now, before any learner code can run (this module is executed first in the kernel).
_type, _len, _str, _int, _float, _dict, _list, _tuple = type, len, str, int, float, dict, list, tuple
_bool, _issubclass, _all, _BaseException = bool, issubclass, all, BaseException
_dict_keys, _dict_values, _set, _zip = dict.keys, dict.values, set, zip
_int_repr, _int_bits, _float_repr = int.__repr__, int.bit_length, float.__repr__
_type_getattr = type.__getattribute__
_dumps = _json.JSONEncoder(ensure_ascii=True, allow_nan=False).encode
_loads = _json.JSONDecoder().decode
_frombuffer, _dtype, _array, _empty = _np.frombuffer, _np.dtype, _np.array, _np.empty
_ndarray, _generic, _tobytes = _np.ndarray, _np.generic, _np.ndarray.tobytes
_NoneType = type(None)


class Opaque:
    """Stands for an object that was not sent; its type has the name the other side reported."""

    __slots__ = ()


def _type_parts(t, caps):
    try:  # type.__getattribute__ bypasses a metaclass that lies about the names
        module, qualname = _type_getattr(t, "__module__"), _type_getattr(t, "__qualname__")
    except _BaseException:
        module, qualname = "?", "?"
    module = module if _type(module) is _str else "?"
    qualname = qualname if _type(qualname) is _str else "?"
    return module[:caps.name], qualname[:caps.name]


def encode(value, blobs, caps=CAPS, budget=None, depth=0):
    """Describe ``value`` as a JSON-able value; the bytes of its arrays are appended to ``blobs``.

    Never fails and never calls a method of ``value``: what the format cannot carry, or what
    would break a cap of the record (``budget``: values and elements left, shared by the values
    of one record), is described by its type's name only.
    """
    if budget is None:
        budget = [caps.values, caps.elements]
    budget[0] -= 1
    t = _type(value)
    if budget[0] < 0:
        module, qualname = _type_parts(t, caps)
        return {"k": "other", "module": module, "qualname": qualname}
    if t is _ndarray:
        shape = [_int(n) for n in value.shape]
        if value.dtype.hasobject:
            return {"k": "objarray", "shape": shape} if value.size <= budget[1] else \
                {"k": "big", "nbytes": _int(value.nbytes)}
        if value.nbytes > caps.array_bytes or value.size > budget[1]:
            return {"k": "big", "nbytes": _int(value.nbytes)}
        budget[1] -= value.size
        data = _tobytes(value)
        blobs.append(data)
        return {"k": "array", "dtype": value.dtype.str, "shape": shape, "nbytes": _len(data)}
    if t is _bool:
        return {"k": "bool", "v": value is True}
    if t is _int:
        if _int_bits(value) > caps.int_digits * 3:
            return {"k": "bigint", "bits": _int_bits(value)}
        return {"k": "int", "v": _int_repr(value)}
    if t is _float:
        return {"k": "float", "v": _float_repr(value)}
    if t is _str:
        return {"k": "str", "v": _str.__str__(value)[:caps.text]}
    if t is _NoneType:
        return {"k": "none"}
    if (t is _tuple or t is _list) and depth < caps.depth and _len(value) <= caps.items:
        return {"k": "tuple" if t is _tuple else "list",
                "items": [encode(v, blobs, caps, budget, depth + 1) for v in value]}
    if (t is _dict and depth < caps.depth and _len(value) <= caps.items
            and _all(_type(k) is _str and _len(k) <= caps.name for k in _dict_keys(value))):
        return {"k": "dict", "keys": [_str.__str__(k) for k in _dict_keys(value)],
                "items": [encode(v, blobs, caps, budget, depth + 1) for v in _dict_values(value)]}
    if _issubclass(t, _generic):
        as_array = _array(value)
        if not as_array.dtype.hasobject and as_array.ndim == 0:
            data = _tobytes(as_array)
            blobs.append(data)
            module, qualname = _type_parts(t, caps)
            return {"k": "scalar", "dtype": as_array.dtype.str, "nbytes": _len(data),
                    "module": module, "qualname": qualname}
    module, qualname = _type_parts(t, caps)
    return {"k": "other", "module": module, "qualname": qualname}


def record(header, blobs=()):
    """One record as bytes: the header's length, the header (JSON), the blobs."""
    data = _dumps(header).encode()
    return b"%d\n" % _len(data) + data + b"".join(blobs)


class Reader:
    """Reads records from ``data`` (bytes), one :meth:`next` at a time, within ``caps``."""

    def __init__(self, data, caps=CAPS):
        self.data, self.pos, self.caps = data, 0, caps
        self.budget = {}
        self.big = False  # True once an array too large to send was announced

    def next(self):
        """The next header (a dict), or ``None`` at the end or at a record cut short."""
        data, pos = self.data, self.pos
        if pos >= _len(data):
            return None
        end = data.find(b"\n", pos, pos + 12)
        if end < 0:
            return None if _len(data) - pos < 12 else self._fail("bad record length")
        digits = data[pos:end]
        if not digits.isdigit():
            self._fail("bad record length")
        n = _int(digits)
        if not 0 < n <= self.caps.header_bytes:
            self._fail(f"a record header of {n} bytes (the cap is {self.caps.header_bytes})")
        if end + 1 + n > _len(data):
            return None
        try:
            header = _loads(data[end + 1:end + 1 + n].decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError, MemoryError):
            self._fail("a record header is not JSON")
        if _type(header) is not _dict:
            self._fail("a record header is not a JSON object")
        self.pos = end + 1 + n
        self.budget = {"values": self.caps.values, "elements": self.caps.elements}
        return header

    def blob(self, nbytes):
        """The next ``nbytes`` bytes; :class:`CutShort` if the data ends first."""
        if _type(nbytes) is not _int or nbytes < 0:
            self._fail("bad byte count")
        if nbytes > _len(self.data) - self.pos:
            raise CutShort()
        blob = self.data[self.pos:self.pos + nbytes]
        self.pos += nbytes
        return blob

    def spend(self, what, amount):
        self.budget[what] = self.budget.get(what, 0) - amount
        if self.budget[what] < 0:
            self._fail(f"a record holds more {what} than the cap")

    @staticmethod
    def _fail(message):
        raise WireError(message)


class CutShort(Exception):
    """The data ended inside an array's bytes: the record was cut short."""


def _expect(condition, message):
    if not condition:
        raise WireError(message)


def _text(value, limit):
    _expect(_type(value) is _str and _len(value) <= limit, "a text field is not a short string")
    return value


def _opaque(module, qualname, caps, note=""):
    """An :class:`Opaque` whose type is named like the object that was not sent."""
    module = _text(module, caps.name).replace("\x00", "?")
    qualname = _text(qualname, caps.name).replace("\x00", "?")
    cls = _type(qualname + note, (Opaque,), {"__module__": module, "__qualname__": qualname + note,
                                              "__slots__": ()})
    return cls()


def _shape(spec, reader, caps):
    shape = spec.get("shape")
    _expect(_type(shape) is _list and _len(shape) <= 32 and _all(_type(n) is _int and n >= 0
                                                                 for n in shape), "bad shape")
    size = 1
    for n in shape:
        size *= n
        _expect(size <= caps.elements, "an array has more elements than the cap")
    reader.spend("elements", size)
    return shape, size


def decode(spec, reader, depth=0):
    """The value ``spec`` describes, reading its array bytes from ``reader``; caps enforced."""
    caps = reader.caps
    _expect(_type(spec) is _dict and depth <= caps.depth, "bad value (or nested too deep)")
    reader.spend("values", 1)
    kind = spec.get("k")
    if kind in ("array", "scalar"):
        dtype_text = _text(spec.get("dtype"), 40)
        try:
            dtype = _dtype(dtype_text)
        except (TypeError, ValueError):
            raise WireError(f"unknown dtype {dtype_text!r}") from None
        _expect(dtype.kind in "biufcSU" and dtype.itemsize > 0 and dtype.fields is None
                and dtype.subdtype is None, f"unsupported dtype {dtype_text!r} (object, void, "
                                            f"structured or empty)")
        shape, size = _shape(spec, reader, caps) if kind == "array" else ([], 1)
        blob = reader.blob(spec.get("nbytes"))
        _expect(_len(blob) == size * dtype.itemsize, "array byte count does not match its shape")
        array = _frombuffer(blob, dtype=dtype).reshape(shape).copy()
        if kind == "array":
            return array
        if spec.get("module") == "numpy":
            return array[()]
        return _opaque(spec.get("module"), spec.get("qualname"), caps)
    if kind == "objarray":
        shape, _ = _shape(spec, reader, caps)
        return _empty(shape, dtype=object)
    if kind in ("tuple", "list"):
        items = spec.get("items")
        _expect(_type(items) is _list and _len(items) <= caps.items, "bad or too long sequence")
        values = [decode(s, reader, depth + 1) for s in items]
        return _tuple(values) if kind == "tuple" else values
    if kind == "dict":
        keys, items = spec.get("keys"), spec.get("items")
        _expect(_type(keys) is _list and _type(items) is _list and _len(keys) == _len(items)
                <= caps.items, "bad or too long dict")
        keys = [_text(k, caps.name) for k in keys]
        _expect(_len(_set(keys)) == _len(keys), "a dict with repeated keys")
        return _dict(_zip(keys, [decode(s, reader, depth + 1) for s in items]))
    if kind == "int":
        text = _text(spec.get("v"), caps.int_digits + 1)
        _expect((text[1:] if text[:1] == "-" else text).isdigit() and text.isascii(), "bad int")
        return _int(text)
    if kind == "float":
        text = _text(spec.get("v"), 64)
        try:
            return _float(text)
        except ValueError:
            raise WireError("bad float") from None
    if kind == "bool":
        _expect(_type(spec.get("v")) is _bool, "bad bool")
        return spec["v"]
    if kind == "str":
        return _text(spec.get("v"), caps.text)
    if kind == "none":
        return None
    if kind == "bigint":
        bits = spec.get("bits")
        _expect(_type(bits) is _int and bits > 0, "bad bigint")
        return _opaque("builtins", "int", caps, f" (too large to show: {bits} bits)")
    if kind == "big":
        nbytes = spec.get("nbytes")
        _expect(_type(nbytes) is _int and nbytes >= 0, "bad big array")
        reader.big = True
        return _opaque("numpy", "ndarray", caps, f" (too large to check: {nbytes} bytes)")
    if kind == "other":
        return _opaque(spec.get("module"), spec.get("qualname"), caps)
    raise WireError(f"unknown value kind {_str(kind)[:40]!r}")
