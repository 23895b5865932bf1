"""The static integrity check (cnncourse.grading.integrity, forbidden, analysis), fed the shortcuts
and obfuscations it exists to catch, and the honest code it must leave alone."""
from __future__ import annotations

import json
import re

import nbformat
import pytest

import cnncourse.numpy_ops
import cnncourse.shapes
import cnncourse.torch_ops
from cnncourse.grading.analysis import analyse_submission
from cnncourse.grading.forbidden import HELPERS, forbidden_prefixes, reference_modules
from cnncourse.grading.integrity import analyse, is_forbidden
from cnncourse.grading.notebooks import SubmissionError, load_source

FUNCTIONS = {name: (name, "function") for name in
             ("conv2d", "correlate2d", "pool", "sneaky", "viaattr", "mine", "use", "filters")}


def _flags(cells, exercises=FUNCTIONS, context=()):
    found = analyse(list(enumerate(cells, 3)), exercises, list(context), forbidden_prefixes())
    return found.flags, found.reviews


def test_aliases_helpers_and_dynamic_imports_are_followed():
    flags, _ = _flags([
        "import torch.nn.functional as F\nfrom scipy import signal\nimport numpy as np",
        "def helper(x, w):\n    return signal.correlate2d(x, w, mode='valid')",
        "def conv2d(x, w):\n    return helper(x, w)",
        "def correlate2d(x, w):\n    return F.conv2d(x, w)",
        "def pool(x):\n    out = np.zeros(3)\n    return out",
        "def sneaky(x):\n    m = __import__('cnncourse.numpy_ops')\n    return m",
        "def viaattr(x):\n    import torch\n    return getattr(torch, 'conv2d')(x)",
        "%timeit pool(1)\ndef mine(x):\n    return np.correlate(x, x)",
    ], context=["from cnncourse.numpy_ops import conv2d as ref"])
    assert set(flags) == {"conv2d", "correlate2d", "sneaky", "viaattr", "mine"}
    assert flags["conv2d"][0].name == "scipy.signal.correlate2d" and "helper" in flags["conv2d"][0].where
    assert flags["correlate2d"][0].name == "torch.nn.functional.conv2d"
    assert flags["viaattr"][0].name == "torch.conv2d"
    assert flags["mine"][0].name == "numpy.correlate"


def test_own_names_shadow_imported_ones():
    flags, _ = _flags(["def conv2d(x, w):\n    return x", "def use(x):\n    return conv2d(x, x)",
                       "def filters(x, weight):\n    F, C, KH, KW = weight.shape\n    return np.zeros(F)"],
                      {"use": ("use", "function"), "filters": ("filters", "function")},
                      ["from cnncourse.numpy_ops import conv2d\nimport torch.nn.functional as F"])
    assert flags == {}


@pytest.mark.parametrize("cells, kind, words", [
    (["def conv2d(x, w):\n    return x", "from scipy.signal import convolve2d as conv2d"],
     "reference", "scipy.signal.convolve2d"),
    (["from my_solutions import conv2d"], "import", "my_solutions.conv2d"),
    (["import numpy as np\ndef conv2d(x, w):\n    return getattr(np, 'con' + 'volve')(x, w)"],
     "dynamic", "getattr with a computed name"),
    (["import sys\ndef conv2d(x, w):\n    return sys.modules['numpy'].convolve(x, w)"], "dynamic", "sys.modules"),
    (["def conv2d(x, w):\n    return eval('x')"], "dynamic", "eval"),
    (["import torch\ndef conv2d(x, w):\n    return torch._convolution(x, w)"], "reference", "torch._convolution"),
    (["import torch\ndef conv2d(x, w):\n    return torch._C._nn.mkldnn_convolution(x, w)"], "reference", "torch._C"),
    (["import numpy as np\ndef conv2d(x, w):\n    return np._core.multiarray.correlate2(x, w, 0)"],
     "reference", "numpy._core.multiarray.correlate2"),
    (["from scipy.signal._signaltools import _correlate_nd\ndef conv2d(x, w):\n    return _correlate_nd(x, w)"],
     "reference", "scipy.signal"),
    (["def conv2d(x, w):\n    return x", "conv2d = __import__('cnncourse').numpy_ops.conv2d"], "dynamic", "__import__"),
    (["def conv2d(x, w):\n    global helper\n    helper = cnncourse.shapes.conv_output_size\n    return helper(x)",
      "import cnncourse"], "reference", "cnncourse.shapes.conv_output_size"),
    (["from cnncourse.data.textures import conv_output_size as c\ndef conv2d(x, w):\n    return c(x)"],
     "reference", "cnncourse.data.textures.conv_output_size"),
])
def test_every_way_to_reach_code_not_written_here_is_flagged(cells, kind, words):
    flags, _ = _flags(cells, {"conv2d": ("conv2d", "function")})
    assert "conv2d" in flags, flags
    assert any(f.kind == kind and words in f.describe() for f in flags["conv2d"]), flags["conv2d"]


@pytest.mark.parametrize("cells, kind, words", [
    (["def conv2d(x, w):\n    return x", "def conv2d(x, w):\n    return x + 0"], "redefined", "defined 2 times"),
    (["try:\n    def conv2d(x, w):\n        return x\nexcept Exception:\n    pass"], "conditional", "conditionally"),
    (["def conv2d(x, w):\n    return x", "g = globals()"], "access", "globals"),
    (["def conv2d(x, w):\n    return x", "%run other.py"], "access", "%run other.py"),
    (["def conv2d(x, w):\n    return x", "%%writefile helper.py\nx = 1"], "access", "%%writefile"),
    (["import not_installed_anywhere as h\ndef conv2d(x, w):\n    return h.f(x)"], "local", "not_installed_anywhere.f"),
])
def test_what_the_analysis_cannot_follow_goes_to_review(cells, kind, words):
    found = analyse(list(enumerate(cells, 3)), {"conv2d": ("conv2d", "function")}, [],
                    forbidden_prefixes(), lambda module: module == "not_installed_anywhere")
    assert "conv2d" not in found.flags, found.flags
    assert any(f.kind == kind and words in f.describe() for f in found.reviews["conv2d"]), found.reviews


def test_honest_solutions_have_no_findings():
    found = analyse([(3, "import numpy as np\nfrom numpy.lib.stride_tricks import sliding_window_view"),
                     (4, "def conv2d(x, w):\n    cols = sliding_window_view(x, w.shape)\n"
                         "    return np.einsum('ijkl,kl->ij', cols, w)"),
                     (5, "from cnncourse.numpy_ops import conv2d as reference\n"
                         "print(np.allclose(conv2d(1, 2), reference(1, 2)))")],
                    {"conv2d": ("conv2d", "function")}, [], forbidden_prefixes())
    assert found.flags == {} and found.reviews == {}


def test_every_reference_the_course_ships_is_forbidden():
    """Computed from the package: every public op, formula and shapes helper, and every module
    that is not a helper (so a module added later is covered without editing a list)."""
    prefixes = forbidden_prefixes()
    assert {"cnncourse.numpy_ops", "cnncourse.torch_ops", "cnncourse.shapes"} <= set(reference_modules())
    assert not set(reference_modules()) & {f"cnncourse.{h}" for h in HELPERS}
    for module in (cnncourse.numpy_ops, cnncourse.torch_ops, cnncourse.shapes):
        for name in module.__all__:
            assert is_forbidden(f"{module.__name__}.{name}", prefixes), name
    assert is_forbidden("cnncourse.viz.conv.conv_output_size", prefixes)  # a helper's re-export


def test_the_library_rule_covers_every_convolution_and_pooling_entry_point():
    torch = pytest.importorskip("torch")
    import numpy as np

    op = re.compile(r"conv(\d|_|olution|_transpose|_tbc)|pool|correl", re.IGNORECASE)
    names = [f"torch.{n}" for n in dir(torch) if op.search(n)]
    names += [f"torch.nn.functional.{n}" for n in dir(torch.nn.functional) if not n.startswith("__")]
    names += [f"numpy.{n}" for n in ("convolve", "correlate")]
    names += [f"numpy._core.multiarray.{n}" for n in dir(np._core.multiarray) if "correl" in n]
    assert any(n.startswith("torch._") for n in names)  # underscore-prefixed ones included
    assert all(is_forbidden(n) for n in names), [n for n in names if not is_forbidden(n)]
    for allowed in ("torch.zeros", "torch.Tensor.unfold", "numpy.lib.stride_tricks.sliding_window_view",
                    "numpy.einsum", "numpy.pad", "scipy.spatial.ConvexHull"):
        assert not is_forbidden(allowed), allowed


def _notebook(*codes):
    return nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c) for c in codes])).encode()


def test_analysis_runs_in_a_capped_process(tmp_path):
    source = load_source(__import__("pathlib").Path(__file__).parent / "fixtures" / "lessons" / "90_fixture.ipynb")
    exercises = {"correlate2d": ("correlate2d", "function")}
    plain = analyse_submission(_notebook("def correlate2d(image, kernel):\n    return image"),
                               source, exercises, forbidden_prefixes())
    assert [c.role for c in plain.cells] == ["added"] and plain.flags == {} and plain.preload == ("numpy",)
    with pytest.raises(SubmissionError, match="took longer than the grader's limit"):
        analyse_submission(_notebook("x = 1"), source, exercises, (), timeout=0.001)
    with pytest.raises(SubmissionError, match="more memory than the grader's limit"):
        analyse_submission(_notebook("DATA = [" + "0," * 1_000_000 + "]"), source, exercises, (),
                           memory_mb=300)
    with pytest.raises(SubmissionError, match="not valid JSON"):
        analyse_submission(b"[" * 100_000, source, exercises, ())
    deep = analyse_submission(_notebook("x = " + "(" * 150 + ")" * 150, "import torch"), source,
                              exercises, ())
    assert deep.preload == ("numpy", "torch")
    assert json.dumps(deep.setup) is not None
