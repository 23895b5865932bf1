"""Build hook: the wheel carries the lesson notebooks as ``cnncourse/lessons/``.

``pyproject.toml`` holds all the metadata; this file only adds one step to ``build_py``. The
lessons live once in git, in ``notebooks/NN_name.ipynb`` (complete versions, solutions
included); a wheel has no ``notebooks/`` beside the package, so the build copies every file
that matches ``cnncourse.notebook_tools.LESSON_PATTERN`` into the package, where
``cnncourse.notebook_tools.lessons_dir()`` looks when the repository is not there. A new
lesson needs no edit here. ``MANIFEST.in`` puts the same files into the sdist, so a wheel
built from it (``python -m build``) carries them too.
"""
import re
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
NOTEBOOKS = HERE / "notebooks"
#: Same rule as cnncourse.notebook_tools.LESSON_PATTERN (tests/test_wheel.py checks that they agree).
LESSON_PATTERN = re.compile(r"^\d\d_[A-Za-z0-9_]+\.ipynb$")


def lesson_notebooks() -> list[Path]:
    """The lesson notebooks to ship, in lesson order; a build without any is an error."""
    found = sorted(p for p in NOTEBOOKS.glob("*.ipynb") if LESSON_PATTERN.match(p.name))
    if not found:
        raise FileNotFoundError(
            f"no lesson notebooks (NN_name.ipynb) in {NOTEBOOKS}: a wheel without them gives "
            f"`cnncourse start` nothing to copy. Build from the repository, or from an sdist "
            f"made with its MANIFEST.in"
        )
    return found


class build_py_with_lessons(build_py):
    """``build_py``, then copy ``notebooks/NN_*.ipynb`` to ``<build>/cnncourse/lessons/``."""

    def _lesson_targets(self) -> list[tuple[Path, Path]]:
        target = Path(self.build_lib) / "cnncourse" / "lessons"
        return [(path, target / path.name) for path in lesson_notebooks()]

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # `pip install -e .`: lessons_dir() finds notebooks/ beside the package
        for source, target in self._lesson_targets():
            self.mkpath(str(target.parent))
            self.copy_file(str(source), str(target), preserve_mode=False)

    def get_outputs(self, include_bytecode=1):
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        return outputs + [str(target) for _, target in self._lesson_targets()]


setup(cmdclass={"build_py": build_py_with_lessons})
