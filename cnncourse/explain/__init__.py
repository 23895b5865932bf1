"""What a trained network looks at: input-gradient saliency and Grad-CAM, for torch models.

- :func:`saliency`          ``|d score_c / d x|``, the input gradient, one map per image
- :func:`grad_cam`          Grad-CAM: feature maps of one layer weighted by their averaged gradient
- :func:`grad_cam_weights`  the Grad-CAM channel weights from the gradients (global average)
- :func:`grad_cam_from_maps` the Grad-CAM map from feature maps and their gradients (ReLU at the end)

Both methods run on the device of the model's parameters; the maps come back as NumPy arrays.
"""
from cnncourse.explain.input_gradient import saliency  # noqa: F401
from cnncourse.explain.gradcam import grad_cam, grad_cam_from_maps, grad_cam_weights  # noqa: F401

__all__ = ["saliency", "grad_cam", "grad_cam_weights", "grad_cam_from_maps"]
