"""Interactive explorers used by the lessons, one module per widget.

Each widget is thin: a pure compute function, a pure plot function, and ``ipywidgets``
wiring (``interactive_output``) between them, so every part can be tested without a browser.
"""
from cnncourse.widgets.pixel_inspector import pixel_inspector  # noqa: F401  (lesson 1)
from cnncourse.widgets.conv_explorer import conv_explorer  # noqa: F401  (lesson 2)
from cnncourse.widgets.pool_explorer import pool_explorer  # noqa: F401  (lesson 3)
from cnncourse.widgets.training_dashboard import training_dashboard  # noqa: F401  (lesson 5)
from cnncourse.widgets.digit_quiz import digit_quiz  # noqa: F401  (lesson 5)
from cnncourse.widgets.count_explorer import count_explorer  # noqa: F401  (lesson 7)
from cnncourse.widgets.detector_explorer import detector_explorer  # noqa: F401  (lesson 6)
from cnncourse.widgets.draw_digit import draw_digit  # noqa: F401  (lesson 4)

__all__ = [
    "pixel_inspector",  # lesson 1
    "conv_explorer",  # lesson 2
    "pool_explorer",  # lesson 3
    "training_dashboard", "digit_quiz",  # lesson 5
    "count_explorer",  # lesson 7
    "detector_explorer",  # lesson 6
    "draw_digit",  # lesson 4
]
