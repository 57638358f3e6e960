"""keras_lbie.color: sRGB <-> CIE Lab (D65) in Keras ops, for the colorizer.

Graph- and XLA-safe, batched over any leading axes, matching
`skimage.color.rgb2lab`/`lab2rgb` to 1e-3.

- `rgb_to_lab(rgb)`: sRGB `(..., 3)` (float in `[0, 1]` or uint8) to Lab,
  L in `[0, 100]`, a and b roughly in `[-128, 127]`.
- `lab_to_rgb(lab)`: Lab `(..., 3)` to sRGB in `[0, 1]`, out-of-gamut
  colours clipped as skimage clips them.
- `lab_to_model(lab)` / `model_to_lab(l_scaled, ab_scaled)`: Lab to and from
  the colorizer's scaled L `(..., 1)` (`L / 50 - 1`) and ab `(..., 2)`
  (`ab / 110`), both in `[-1, 1]` for sRGB colours (`L_SCALE`, `AB_SCALE`).
- `rgb_to_model_inputs(rgb)`: sRGB to `(l_scaled, ab_scaled)`, the
  colorizer's input and target.
- `model_outputs_to_rgb(l_scaled, ab_scaled)`: the colorizer's input and
  predicted ab back to sRGB in `[0, 1]`.
"""

from keras_lbie.color.lab_scaling import AB_SCALE
from keras_lbie.color.lab_scaling import L_SCALE
from keras_lbie.color.lab_scaling import lab_to_model
from keras_lbie.color.lab_scaling import model_outputs_to_rgb
from keras_lbie.color.lab_scaling import model_to_lab
from keras_lbie.color.lab_scaling import rgb_to_model_inputs
from keras_lbie.color.lab_to_rgb import lab_to_rgb
from keras_lbie.color.rgb_to_lab import rgb_to_lab

__all__ = [
    "AB_SCALE",
    "L_SCALE",
    "lab_to_model",
    "lab_to_rgb",
    "model_outputs_to_rgb",
    "model_to_lab",
    "rgb_to_lab",
    "rgb_to_model_inputs",
]
