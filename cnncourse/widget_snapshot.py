"""Static snapshots of a notebook's explorers, for pages that have no kernel (slides, the website).

A stored lesson keeps the state of its ipywidgets explorers in ``nb.metadata.widgets``: every
control's value and the PNG of the figure it last drew. A static page cannot run the explorer,
and the usual way to show the state again (the ``@jupyter-widgets/html-manager`` script) is
loaded from a CDN, which an offline page must not do. :func:`snapshot_widgets` replaces each
widget output by plain HTML built from that saved state instead: a note saying how to use the
explorer for real, the controls' settings (``image = camera · row = 180``), the explorer's text
and its figure as an inline image. Nothing is fetched and nothing needs JavaScript.

Example:
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook()
    >>> snapshot_widgets(nb).cells
    []
"""
from __future__ import annotations

import copy
import html

__all__ = ["WIDGET_VIEW", "WIDGET_STATE", "snapshot_widgets", "snapshot_html"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

NOTE = ("Interactive explorer, shown here as it was saved: open this lesson in JupyterLab "
        "(<code>cnncourse start</code>) to move its controls.")

# Models whose value is a setting the learner chooses.
_CONTROLS = ("Slider", "Dropdown", "Text", "Checkbox", "ToggleButtons", "RadioButtons", "Select")


def _model_id(ref) -> str:
    return ref[len("IPY_MODEL_"):] if isinstance(ref, str) and ref.startswith("IPY_MODEL_") else ref


def _control_value(model: dict):
    state = model["state"]
    labels = state.get("_options_labels")
    if labels is not None:  # Dropdown, ToggleButtons...: the value itself is not saved
        index = state.get("index")
        return labels[index] if isinstance(index, int) and 0 <= index < len(labels) else None
    return state.get("value")


def _walk(models: dict, model_id: str, parts: list, controls: list, seen: set) -> None:
    """Collect, depth first in display order, the controls, texts and images under a widget."""
    if model_id in seen or model_id not in models:
        return
    seen.add(model_id)
    model = models[model_id]
    name, state = model.get("model_name", ""), model.get("state", {})
    if name == "ImageModel":
        data = next((b["data"] for b in model.get("buffers", []) if b.get("path") == ["value"]), None)
        if data:
            fmt = html.escape(state.get("format") or "png")
            parts.append(f'<img class="cnn-widget-image" alt="the explorer\'s figure" '
                         f'src="data:image/{fmt};base64,{data}">')
    elif name in ("HTMLModel", "HTMLMathModel"):
        parts.append(f'<div class="cnn-widget-text">{state.get("value", "")}</div>')
    elif name == "LabelModel":
        parts.append(f'<div class="cnn-widget-text">{html.escape(str(state.get("value", "")))}</div>')
    elif name == "OutputModel":
        for out in state.get("outputs", []):
            data = out.get("data", {})
            if "image/png" in data:
                parts.append(f'<img class="cnn-widget-image" alt="output" '
                             f'src="data:image/png;base64,{data["image/png"]}">')
            elif out.get("output_type") == "stream" or "text/plain" in data:
                text = out.get("text") or data.get("text/plain", "")
                parts.append(f"<pre>{html.escape(''.join(text))}</pre>")
    elif any(name.endswith(kind + "Model") for kind in _CONTROLS) and state.get("description"):
        value = _control_value(model)
        if value is not None:
            controls.append(f"{html.escape(str(state['description']))} = "
                            f"{html.escape(str(value))}")
    for child in state.get("children", []):
        _walk(models, _model_id(child), parts, controls, seen)


def snapshot_html(models: dict, model_id: str) -> str:
    """The static HTML for the widget ``model_id`` (see the module docstring)."""
    parts, controls = [], []
    _walk(models, model_id, parts, controls, set())
    settings = (f'<p class="cnn-widget-controls">{" · ".join(controls)}</p>' if controls else "")
    return (f'<div class="cnn-widget-snapshot"><p class="cnn-widget-note">{NOTE}</p>'
            f'{settings}{"".join(parts)}</div>')


def snapshot_widgets(nb):
    """A copy of ``nb`` whose widget outputs are static HTML and without widget metadata.

    Args:
        nb: an nbformat v4 notebook, as stored (executed, widget state saved).

    Returns:
        The copy: every output carrying a widget view becomes a ``display_data`` output with
        ``text/html`` (the snapshot) and ``text/plain``; ``metadata.widgets`` is removed, so an
        exporter adds no widget script. A widget whose state was not saved gets the note alone.
    """
    nb = copy.deepcopy(nb)
    saved = nb.metadata.pop("widgets", {}) or {}
    models = saved.get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                continue
            output["output_type"] = "display_data"
            output.pop("execution_count", None)
            output["data"] = {"text/html": snapshot_html(models, view.get("model_id")),
                              "text/plain": "[interactive explorer: run the notebook to use it]"}
            output["metadata"] = {}
    return nb
