"""keras_lbie.export: SavedModels for TensorFlow Serving.

- `export_saved_model(model, export_dir, name, version)`: writes an
  `LBIESegmenter` or `LBIEColorizer` to
  `export_dir/name/version/` with raw-input signatures (`image` uint8 of any
  size or PNG/JPEG `image_bytes`, `text` strings).
"""

from keras_lbie.export.export_saved_model import DEFAULT_SIGNATURE
from keras_lbie.export.export_saved_model import ENCODED_SIGNATURE
from keras_lbie.export.export_saved_model import export_saved_model

__all__ = ["DEFAULT_SIGNATURE", "ENCODED_SIGNATURE", "export_saved_model"]
