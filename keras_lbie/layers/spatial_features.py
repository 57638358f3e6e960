import keras
from keras import ops

from keras_lbie.utils.validation import check_rank

# text_objseg's per-location features: the cell's box (x_min, y_min, x_max,
# y_max), its centre (x, y), and the cell's width and height, in
# coordinates where the map spans [-1, 1].
NUM_SPATIAL_FEATURES = 8


@keras.saving.register_keras_serializable(package="keras_lbie")
class SpatialFeatures(keras.layers.Layer):
    """Appends the position of every cell of a feature map as 8 channels.

    Referring expressions name places ("the left one", "the top circle"),
    and a convolutional feature map hardly knows where a cell is. Hu et
    al., "Segmentation from Natural Language Expressions", ECCV 2016 (the
    ReferIt model Chen et al., CVPR 2018, Table 3 compare with) therefore
    concatenate an 8-D spatial feature to the visual features of each
    location; this layer computes it. For the cell in row `h` and column
    `w` of an `H × W` map, with `x_min = 2 w / W - 1`, `x_max = 2 (w + 1)
    / W - 1` and likewise for `y` from `h` and `H`, the features are
    `(x_min, y_min, x_max, y_max, x_centre, y_centre, 1 / W, 1 / H)`.

    Args:
        **kwargs: standard layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: float tensor `(batch, height, width, channels)`. Height and
            width may vary between calls. No masking.

    Returns:
        `(batch, height, width, channels + 8)`: the inputs, then the 8
        spatial features (the same for every example).

    Example:
    >>> features = np.zeros((2, 16, 16, 32), "float32")
    >>> SpatialFeatures()(features).shape
    TensorShape([2, 16, 16, 40])
    """

    def build(self, input_shape):
        check_rank(input_shape, 4, "inputs", "(batch, height, width, channels)")

    def call(self, inputs):
        shape = ops.shape(inputs)
        batch, height, width = shape[0], shape[1], shape[2]
        rows = self._cell_edges(height)
        columns = self._cell_edges(width)
        # (height, width) grids of each cell's edges.
        y_min, x_min = ops.meshgrid(rows[:-1], columns[:-1], indexing="ij")
        y_max, x_max = ops.meshgrid(rows[1:], columns[1:], indexing="ij")
        ones = ops.ones_like(x_min)
        cell_width = ones * ops.cast(1 / width, self.compute_dtype)
        cell_height = ones * ops.cast(1 / height, self.compute_dtype)
        spatial = ops.stack(
            [
                x_min,
                y_min,
                x_max,
                y_max,
                (x_min + x_max) / 2,
                (y_min + y_max) / 2,
                cell_width,
                cell_height,
            ],
            axis=-1,
        )
        spatial = ops.broadcast_to(
            spatial[None], (batch, height, width, NUM_SPATIAL_FEATURES)
        )
        return ops.concatenate(
            [ops.cast(inputs, self.compute_dtype), spatial], axis=-1
        )

    def _cell_edges(self, cells):
        """The `cells + 1` edges of `cells` equal cells spanning [-1, 1]."""
        edges = ops.arange(cells + 1, dtype="float32") / ops.cast(
            cells, "float32"
        )
        return ops.cast(edges * 2 - 1, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        *leading, channels = input_shape
        return (
            *leading,
            None if channels is None else channels + NUM_SPATIAL_FEATURES,
        )
