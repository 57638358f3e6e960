"""CoSaL: Colorizing Shapes with Artificial Language (Chen et al., 2018, 4.1).

Shape and colour vocabularies are defined here once; the generator, the data
pipeline and the metrics all read them from this module.

Each example is a white image cut into a 3×3 grid of tiles (numbered row-major)
holding each of the 9 shapes of `SHAPE_NAMES` exactly once, filled with a
colour of `PALETTE_RGB`, and 9 English sentences from which every tile's
colour can be recovered given the silhouettes.

Public API:

- `generate(num_examples, num_direct=4, num_colors=6, image_size=48, seed=0,
  shuffle_sentences=False, start_index=0, seed_from_first_direct_only=False)`
  → dict of numpy arrays `image`, `target`, `label`, `shape_map`, `text`,
  `tile_shapes`, `tile_colors`. Example `i` depends only on `(seed, i)`.
- `as_dataset(data, batch_size, shuffle=False, seed=None,
  with_shape_map=False, drop_remainder=False, epochs=None)` → batched
  `tf.data.Dataset` of `({"image", "text"}, y)` from a `generate()` dict or
  TFRecord files (`epochs`: that many passes, in an order fixed by `seed`).
- `write_tfrecords(data, path, num_shards=1, compression="GZIP")` → list of
  written file names (GZIP: about 26 times smaller than uncompressed).
- `read_tfrecords(path_or_glob)` → `tf.data.Dataset` of per-example dicts,
  from compressed or uncompressed files (detected per file).
- Constants: `SHAPE_NAMES`, `NUM_SHAPES`, `GRID_SIZE`, `COLOR_NAMES`,
  `BACKGROUND_RGB`, `PALETTE_RGB`, `NUM_CLASSES`, `MIN_IMAGE_SIZE`.

Sentence templates (`{shape}` from `SHAPE_NAMES`, `{colour}` from
`COLOR_NAMES`): "The {shape} is {colour}." (direct) and "The shape
{above|below|left of|right of} the {shape} is {colour}." (relational: the tile
next to the named shape's tile; "above" is one row up). Relational sentences
follow a random spanning tree grown from the directly described tiles, so each
tile's colour is stated exactly once. `seed_from_first_direct_only=True`
reproduces a bug of the authors' generator (the tree grows from the first
direct tile only) and exists only to compare with their data.
"""

from keras_lbie.datasets.cosal.generator import BACKGROUND_RGB
from keras_lbie.datasets.cosal.generator import COLOR_NAMES
from keras_lbie.datasets.cosal.generator import GRID_SIZE
from keras_lbie.datasets.cosal.generator import MIN_IMAGE_SIZE
from keras_lbie.datasets.cosal.generator import NUM_CLASSES
from keras_lbie.datasets.cosal.generator import NUM_SHAPES
from keras_lbie.datasets.cosal.generator import PALETTE_RGB
from keras_lbie.datasets.cosal.generator import SHAPE_NAMES
from keras_lbie.datasets.cosal.generator import generate
from keras_lbie.datasets.cosal.generator import vocabulary
from keras_lbie.datasets.cosal.pipeline import as_dataset
from keras_lbie.datasets.cosal.tfrecords import read_tfrecords
from keras_lbie.datasets.cosal.tfrecords import write_tfrecords

__all__ = [
    "BACKGROUND_RGB",
    "COLOR_NAMES",
    "GRID_SIZE",
    "MIN_IMAGE_SIZE",
    "NUM_CLASSES",
    "NUM_SHAPES",
    "PALETTE_RGB",
    "SHAPE_NAMES",
    "as_dataset",
    "generate",
    "read_tfrecords",
    "vocabulary",
    "write_tfrecords",
]
