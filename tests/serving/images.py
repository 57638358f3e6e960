"""Small images, and image files, for the serving tests."""

import numpy as np
import tensorflow as tf


def png(image):
    return tf.io.encode_png(image).numpy()


def jpeg(image):
    return tf.io.encode_jpeg(image).numpy()


def random_image(height=5, width=7, seed=0):
    return np.random.default_rng(seed).integers(
        0, 256, (height, width, 3), dtype=np.uint8
    )
