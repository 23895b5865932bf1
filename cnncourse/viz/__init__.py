"""Plot helpers used by the lessons, one module per topic.

Every helper takes an optional ``ax`` (or ``axes``), returns it, and never calls ``plt.show()``.
"""
from cnncourse.viz.images import (  # noqa: F401  (lesson 1)
    display_range,
    show_channels,
    show_flattened,
    show_image,
    show_images,
    show_pixel_values,
)
from cnncourse.viz.conv import (  # noqa: F401  (lesson 2)
    plot_speed_ladder,
    show_conv_window,
    show_feature_maps,
    show_kernel,
)
from cnncourse.viz.pool import (  # noqa: F401  (lesson 3)
    plot_shift_robustness,
    relative_change,
    show_grad_routing,
    show_pooling,
    show_shift_comparison,
)
from cnncourse.viz.training import (  # noqa: F401  (lessons 5-6)
    plot_confusion_matrix,
    plot_learning_curves,
    show_confident_mistakes,
)
from cnncourse.viz.explain import show_explanations, show_heatmap_overlay  # noqa: F401  (lesson 6)
from cnncourse.viz.dense import (  # noqa: F401  (lesson 4)
    plot_accuracy_vs_shift,
    show_dense_weights,
    show_error_rates,
    show_layer_outputs,
    show_probabilities,
)

__all__ = [
    # lesson 1: images as arrays
    "display_range", "show_image", "show_images", "show_pixel_values", "show_channels", "show_flattened",
    # lesson 2: convolution
    "show_kernel", "show_feature_maps", "show_conv_window", "plot_speed_ladder",
    # lesson 3: pooling
    "show_pooling", "show_grad_routing", "show_shift_comparison", "plot_shift_robustness",
    "relative_change",
    # lessons 5-6: training runs and mistakes
    "plot_learning_curves", "plot_confusion_matrix", "show_confident_mistakes",
    # lesson 6: what the network looks at
    "show_heatmap_overlay", "show_explanations",
    # lesson 4: from feature maps to a class
    "show_layer_outputs", "show_probabilities", "show_error_rates", "plot_accuracy_vs_shift",
    "show_dense_weights",
]
