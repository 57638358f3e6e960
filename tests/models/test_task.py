"""What every task takes from users (`keras_lbie.models.task`).

`predict`, `__call__`, `evaluate` and `fit` of the three tasks on the
inputs users have: texts as lists, numpy arrays, bytes or one str; images
as arrays, tensors or nested lists; empty batches; NaN and inf; float
images in [0, 1]; labels out of range; and the same checks as `tf.data`
pipelines stream (`tokenize_dataset`).
"""

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_lbie.models import LBIESegmenter
from keras_lbie.models import ReferItSegmenter
from keras_lbie.models import tokenize_dataset
from keras_lbie.tokenizers.referit_tokenizer import SPECIAL_TOKENS
from keras_lbie.utils.validation import PixelRangeWarning
from tests.models.lbie_colorizer.tiny_colorizer import tiny_colorizer

TEXTS = ["The circle is red.", "the flower petals are blue"]


def _segmenter():
    return LBIESegmenter.from_preset("cosal_paper", seed=0)


def _referit_segmenter():
    return ReferItSegmenter.from_preset(
        "referit_small",
        vocabulary=[*SPECIAL_TOKENS, "the", "circle", "red"],
        image_size=32,
    )


TASKS = {
    "lbie_segmenter": _segmenter,
    "referit_segmenter": _referit_segmenter,
    "lbie_colorizer": lambda: tiny_colorizer(),
}


@pytest.fixture(scope="module", params=sorted(TASKS))
def task(request):
    keras.utils.set_random_seed(0)
    return TASKS[request.param]()


def channels(task):
    return task.input["image"].shape[-1]


def images(task, batch=2, dtype="uint8"):
    """`batch` images of the task's input shape, 0..255, as `dtype`."""
    size = task.image_size
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (batch, size, size, channels(task)))
    return pixels.astype(dtype)


def targets(task, batch=2):
    size = task.image_size
    if isinstance(task, (LBIESegmenter, ReferItSegmenter)):
        return np.ones((batch, size, size), "int32")
    return np.zeros((batch, size, size, 2), "float32")


def compiled(task):
    loss = (
        keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if isinstance(task, (LBIESegmenter, ReferItSegmenter))
        else "mse"
    )
    task.compile(optimizer=keras.optimizers.SGD(0.0), loss=loss)
    return task


def reference(task, pixels=None, texts=TEXTS):
    """The output on the inputs every older version took."""
    pixels = images(task) if pixels is None else pixels
    return task.predict(
        {"image": pixels, "text": tf.constant(texts)}, verbose=0
    )


@pytest.mark.parametrize(
    "texts",
    [
        list(TEXTS),
        tuple(TEXTS),
        np.array(TEXTS),  # a numpy `<U` array
        np.array(TEXTS, dtype=object),
        [text.encode() for text in TEXTS],  # what `tensor.numpy()` gives
        np.array([text.encode() for text in TEXTS]),  # `S` array
        tf.constant(TEXTS),
    ],
    ids=["list", "tuple", "unicode", "object", "bytes", "bytes_array", "tf"],
)
def test_every_form_of_text_gives_the_same_output(task, texts):
    expected = reference(task)
    inputs = {"image": images(task), "text": texts}
    np.testing.assert_allclose(
        task.predict(inputs, verbose=0), expected, atol=1e-5
    )
    np.testing.assert_allclose(task(inputs).numpy(), expected, atol=1e-5)


def test_one_str_is_the_text_of_a_batch_of_one(task):
    pixels = images(task, 1)
    expected = reference(task, pixels, TEXTS[:1])
    for output in (
        task.predict({"image": pixels, "text": TEXTS[0]}, verbose=0),
        task({"image": pixels, "text": TEXTS[0]}).numpy(),
    ):
        np.testing.assert_allclose(output, expected, atol=1e-5)


def test_one_text_for_two_images_names_the_counts(task):
    inputs = {"image": images(task), "text": TEXTS[0]}
    message = r"one description per image: 2 image\(s\), 1 text\(s\)"
    for run in (
        lambda: task.predict(inputs, verbose=0),
        lambda: task(inputs),
        lambda: compiled(task).evaluate(inputs, targets(task), verbose=0),
        lambda: compiled(task).fit(inputs, targets(task), verbose=0),
    ):
        with pytest.raises(ValueError, match=message):
            run()


def test_texts_that_are_not_strings_are_refused(task):
    with pytest.raises(TypeError, match="`text` entries must be str"):
        task.predict({"image": images(task), "text": [1, 2]}, verbose=0)
    with pytest.raises(ValueError, match=r"`text` must have shape \(batch,\)"):
        task({"image": images(task), "text": np.array([TEXTS])})


def test_an_empty_batch_gives_an_empty_output(task):
    inputs = {"image": images(task, 0), "text": []}
    expected_shape = (0, *task.output.shape[1:])
    predicted = task.predict(inputs, verbose=0)
    assert predicted.shape == expected_shape
    assert task(inputs).shape == expected_shape
    compiled(task)
    for run in (task.evaluate, task.fit):
        with pytest.raises(ValueError, match="hold no example"):
            run(inputs, targets(task, 0), verbose=0)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_images_are_refused(task, value):
    pixels = images(task, dtype="float32")
    pixels[1, 2, 3, 0] = value
    inputs = {"image": pixels, "text": TEXTS}
    message = r"`image` holds 1 NaN or infinite value\(s\).*\(1, 2, 3, 0\)"
    compiled(task)
    for run in (
        lambda: task.predict(inputs, verbose=0),
        lambda: task(inputs),
        lambda: task.evaluate(inputs, targets(task), verbose=0),
        lambda: task.fit(inputs, targets(task), verbose=0),
    ):
        with pytest.raises(ValueError, match=message):
            run()


def test_non_finite_images_stop_a_tf_data_pipeline():
    # The checks are the Task's, alike for every task: the tiny colorizer
    # traces fastest.
    colorizer = compiled(tiny_colorizer())
    pixels = images(colorizer, dtype="float32")
    pixels[0, 0, 0, 0] = np.nan
    dataset = tf.data.Dataset.from_tensor_slices(
        ({"image": pixels, "text": TEXTS}, targets(colorizer))
    ).batch(2)
    for run in (
        lambda: colorizer.fit(dataset, verbose=0),
        lambda: list(colorizer.tokenize_dataset(dataset)),
        lambda: list(tokenize_dataset(dataset, colorizer.tokenizer)),
    ):
        with pytest.raises(
            tf.errors.InvalidArgumentError, match="`image` holds NaN"
        ):
            run()


def test_pixels_are_0_to_255_whatever_the_dtype(task):
    """One convention: uint8, float and int images of the same values agree,
    and a float image in [0, 1] (read as almost black) draws a warning."""
    pixels = images(task)
    expected = reference(task, pixels)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PixelRangeWarning)
        for same in (pixels.astype("float32"), pixels.astype("int64")):
            np.testing.assert_allclose(
                task.predict({"image": same, "text": TEXTS}, verbose=0),
                expected,
                atol=1e-5,
            )
        # All zeros is black in both conventions: no warning.
        task.predict({"image": 0.0 * pixels, "text": TEXTS}, verbose=0)
    scaled = {"image": pixels / 255.0, "text": TEXTS}
    for run in (lambda: task.predict(scaled, verbose=0), lambda: task(scaled)):
        with pytest.warns(PixelRangeWarning, match=r"values in \[0, 1\]"):
            run()


def test_a_nested_list_of_ints_is_an_image_batch(task):
    pixels = images(task)
    expected = reference(task, pixels)
    inputs = {"image": pixels.astype(int).tolist(), "text": TEXTS}
    np.testing.assert_allclose(
        task.predict(inputs, verbose=0), expected, atol=1e-5
    )
    np.testing.assert_allclose(task(inputs).numpy(), expected, atol=1e-5)


def test_integers_outside_0_255_are_refused(task):
    pixels = images(task).astype("int64")
    pixels[0, 1, 1, 0] = 256
    with pytest.raises(ValueError, match=r"\[0, 255\]. Received 256"):
        task.predict({"image": pixels, "text": TEXTS}, verbose=0)


def test_a_bad_image_shape_is_the_shape_passed(task):
    size = task.image_size
    pixels = images(task)[0, : size - 1]
    with pytest.raises(ValueError, match="image") as error:
        task.predict({"image": pixels, "text": TEXTS[:1]}, verbose=0)
    assert f"Received shape: {pixels.shape}" in str(error.value)


def test_labels_outside_the_classes_are_named():
    segmenter = compiled(_segmenter())
    labels = targets(segmenter)
    labels[1, 4, 5] = 7
    inputs = {"image": images(segmenter), "text": TEXTS}
    message = r"label 7 at index \(1, 4, 5\).*class ids in \[0, 7\)"
    for run in (segmenter.fit, segmenter.evaluate):
        with pytest.raises(ValueError, match=message):
            run(inputs, labels, verbose=0)
    # Streamed: `fit` maps datasets as `tokenize_dataset` does (traced in
    # `test_non_finite_images_stop_a_tf_data_pipeline`).
    dataset = tf.data.Dataset.from_tensor_slices((inputs, labels)).batch(2)
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"label outside \[0, 7\)"
    ):
        list(segmenter.tokenize_dataset(dataset))


def test_fit_and_evaluate_take_raw_inputs():
    colorizer = compiled(tiny_colorizer())
    inputs = {"image": images(colorizer).tolist(), "text": list(TEXTS)}
    history = colorizer.fit(
        inputs,
        targets(colorizer),
        epochs=1,
        verbose=0,
        validation_data=(inputs, targets(colorizer)),
    )
    assert np.isfinite(history.history["val_loss"][0])
    assert np.isfinite(
        colorizer.evaluate(inputs, targets(colorizer), verbose=0)
    )


def test_colorizer_takes_a_3d_gray_batch():
    colorizer = tiny_colorizer()
    size = colorizer.image_size
    gray = np.random.default_rng(0).integers(0, 256, (2, size, size))
    expected = reference(colorizer, gray[..., None].astype("uint8"))
    np.testing.assert_allclose(
        colorizer.predict({"image": gray, "text": TEXTS}, verbose=0),
        expected,
        atol=1e-5,
    )
    with pytest.raises(ValueError) as error:
        colorizer.predict({"image": gray[:, :-1], "text": TEXTS}, verbose=0)
    assert f"Received shape: {gray[:, :-1].shape}" in str(error.value)


def test_non_finite_lightness_stops_a_colorizer_pipeline():
    colorizer = tiny_colorizer()
    size = colorizer.image_size
    image_l = np.zeros((2, size, size, 1), "float32")
    image_l[1, 0, 0, 0] = np.inf
    dataset = tf.data.Dataset.from_tensor_slices(
        ({"image_l": image_l, "text": TEXTS}, np.zeros((2, size, size, 2)))
    ).batch(2)
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="`image_l` holds NaN"
    ):
        list(colorizer.tokenize_dataset(dataset))
