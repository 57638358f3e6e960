"""ReferIt referring-expression segmentation data (Chen et al., 2018, 4.2).

Reads the standard ReferIt release layout of text_objseg (Hu et al., ECCV
2016), all under one root folder:

- `images/<imid>.jpg`: the photos.
- `mask/<imid>_<k>.mat`: one MATLAB file per annotated object `k` of image
  `imid`, whose `segimg_t` array is 0 on the object (any other value is
  background).
- `referit_query_{train,val,trainval,test}.json`: `"<imid>_<k>"` → list of
  referring expressions of that object (an older text_objseg revision keys
  them `"<imid>_<k>.png"`; the suffix is ignored).
- `referit_imsize.json`: `"<imid>.jpg"` → `[width, height]`.
- `referit_bbox.json`: `"<imid>_<k>"` → `[x1, y1, x2, y2]`, the object's
  box in inclusive pixel coordinates (x right, y down).
- `referit_{train,val,trainval,test}_imlist.txt`: the split's image ids, one
  a line.
- `vocabulary_referit.txt`: one word a line, the line number is the word id;
  it starts `<pad> <go> <eos> <unk>`.

Public API:

- `load_index(root, split, vocabulary_file=None, check_masks=False)` →
  `ReferItIndex`: validates the folder and lists the split's
  (object, expression) pairs.
- `as_dataset(root, split, batch_size, image_size=512, ...)` → batched
  `tf.data.Dataset` of `({"image", "text"}, mask)` (optionally with `meta`).
- `unpad_and_resize(prediction, meta, method="nearest")`: maps a prediction
  on the padded square back to the original image size (TF ops).
- `resize_geometry(height, width, image_size=512)`: the resize-and-pad
  parameters of one image.
- `load_mask(path)`: reads one mask file as a bool array.
- `query_file(split)`, `imlist_file(split)`: a split's file names.
- `ReferItIndex`, `ReferItExample`: what `load_index` returns.
- `write_referit_format(out_dir, num_images, seed=0, ...)`: writes CoSaL
  scenes as a ReferIt-format folder, for tests and offline runs.
- `write_referring_scenes(out_dir, num_images, seed=0, ...)`: writes
  synthetic scenes of varied sizes with overlapping shapes on textured
  backgrounds and unambiguous referring expressions (category, colour,
  size, position, relation), plus `OBJECTS_FILE`, every object's category
  and colour (for the category-only oracle), and `SOURCE_FILE`.
- Constants: `SPLITS`, `MASK_KEY`, `VOCABULARY_FILE`, `DEFAULT_IMAGE_SIZE`,
  `OBJECTS_FILE`, `SOURCE_FILE`.

Preprocessing follows text_objseg's `resize_and_pad`: the image is scaled by
`min(S / height, S / width)` (S = `image_size`) to `round(height * scale)` ×
`round(width * scale)` (round half to even), placed at
`floor((S - size) / 2)` from the top and left, and the rest is zero. The
mask goes through the same geometry with nearest-neighbour sampling
(text_objseg samples it bilinearly and keeps every pixel > 0, which grows
objects by up to a pixel). VGG mean subtraction is the model's job, not the
loader's: images leave the pipeline as uint8 RGB in [0, 255], padding 0.
"""

from keras_lbie.datasets.referit.geometry import DEFAULT_IMAGE_SIZE
from keras_lbie.datasets.referit.geometry import resize_geometry
from keras_lbie.datasets.referit.geometry import unpad_and_resize
from keras_lbie.datasets.referit.index import ReferItExample
from keras_lbie.datasets.referit.index import ReferItIndex
from keras_lbie.datasets.referit.index import load_index
from keras_lbie.datasets.referit.layout import BBOX_FILE
from keras_lbie.datasets.referit.layout import IMSIZE_FILE
from keras_lbie.datasets.referit.layout import SPLITS
from keras_lbie.datasets.referit.layout import VOCABULARY_FILE
from keras_lbie.datasets.referit.layout import imlist_file
from keras_lbie.datasets.referit.layout import query_file
from keras_lbie.datasets.referit.masks import MASK_KEY
from keras_lbie.datasets.referit.masks import load_mask
from keras_lbie.datasets.referit.pipeline import as_dataset
from keras_lbie.datasets.referit.referring_scenes import OBJECTS_FILE
from keras_lbie.datasets.referit.referring_scenes import SOURCE_FILE
from keras_lbie.datasets.referit.referring_scenes import write_referring_scenes
from keras_lbie.datasets.referit.synthetic import write_referit_format

__all__ = [
    "BBOX_FILE",
    "DEFAULT_IMAGE_SIZE",
    "IMSIZE_FILE",
    "MASK_KEY",
    "OBJECTS_FILE",
    "SOURCE_FILE",
    "SPLITS",
    "VOCABULARY_FILE",
    "ReferItExample",
    "ReferItIndex",
    "as_dataset",
    "imlist_file",
    "load_index",
    "load_mask",
    "query_file",
    "resize_geometry",
    "unpad_and_resize",
    "write_referit_format",
    "write_referring_scenes",
]
