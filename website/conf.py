"""Sphinx configuration of the course website; scripts/build_site.py stages the pages and runs it."""
project = "cnncourse"
author = "the cnncourse authors"
copyright = "cnncourse authors, MIT licence"
extensions = ["myst_nb"]
nb_execution_mode = "off"           # the stored notebooks' outputs are shown, nothing is executed
nb_merge_streams = True
myst_heading_anchors = 3            # README.md#for-instructors-grading-a-class works as on GitHub
myst_enable_extensions = ["colon_fence"]
# A check verdict carries text/html (shown) beside application/vnd.cnncourse.verdict+json (for the
# grader and tests, not for people): myst-nb warns about the second one, which is left out on purpose.
suppress_warnings = ["myst.header", "misc.highlighting_failure", "mystnb.unknown_mime_type"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "sphinx_book_theme"
html_title = "cnncourse: convolutional neural networks, hands on"
html_static_path = ["_static"]
html_css_files = ["cnncourse.css"]
html_theme_options = {"show_toc_level": 2, "use_download_button": False,
                      "use_fullscreen_button": False, "navigation_with_keys": False}
html_show_sourcelink = False
html_copy_source = False
