"""Tests for the CoSaL colorization data set and its caption accuracy."""

import numpy as np
import pytest

from keras_lbie.color import AB_SCALE
from keras_lbie.color import lab_to_rgb
from keras_lbie.color import rgb_to_lab
from keras_lbie.datasets import cosal
from keras_lbie.datasets import cosal_colorization as cc
from keras_lbie.models.lbie_colorizer import scaled_lightness


@pytest.fixture(scope="module")
def data():
    return cc.generate(40, num_direct=4, image_size=36, seed=3)


def test_scenes_are_cosal_scenes_with_three_colours(data):
    scenes = cosal.generate(
        40, num_direct=4, num_colors=3, image_size=36, seed=3
    )
    for key in ("text", "shape_map", "tile_shapes", "tile_colors"):
        np.testing.assert_array_equal(data[key], scenes[key])
    assert set(np.unique(data["tile_colors"])) <= {1, 2, 3}
    for text in data["text"]:
        assert not {"black", "grey", "yellow"} & set(text.split())


def test_generate_shapes_and_dtypes(data):
    expected = {
        "gray": ((40, 36, 36, 1), np.uint8),
        "image_l": ((40, 36, 36, 1), np.float32),
        "ab": ((40, 36, 36, 2), np.float32),
        "target": ((40, 36, 36, 3), np.uint8),
    }
    for key, (shape, dtype) in expected.items():
        assert data[key].shape == shape, key
        assert data[key].dtype == dtype, key


def test_every_shape_has_the_same_lightness(data):
    # The input must not reveal a shape's colour: one L for all shapes.
    is_shape = data["shape_map"] > 0
    gray = data["gray"][..., 0]
    assert set(np.unique(gray[is_shape])) == {cc.SHAPE_GRAY}
    assert set(np.unique(gray[~is_shape])) == {255}
    lightness = np.asarray(
        rgb_to_lab(np.full((1, 3), cc.SHAPE_GRAY / 255.0, np.float32))
    )[0, 0]
    assert lightness == pytest.approx(cc.SHAPE_LIGHTNESS, abs=1e-3)
    np.testing.assert_allclose(
        data["image_l"], np.asarray(scaled_lightness(data["gray"])), atol=1e-5
    )


def test_colours_are_in_gamut_at_the_shape_lightness():
    lab = np.array(
        [(cc.SHAPE_LIGHTNESS, a, b) for a, b in cc.COLORS_AB], np.float32
    )
    rgb = np.asarray(lab_to_rgb(lab))
    # lab_to_rgb clips out-of-gamut colours; a round trip would show it.
    np.testing.assert_allclose(np.asarray(rgb_to_lab(rgb)), lab, atol=0.05)
    np.testing.assert_array_equal(
        np.round(rgb * 255).astype(int), np.array(cc.COLORS_RGB)
    )


def test_colours_keep_the_hue_of_their_cosal_colour():
    palette = np.array(cosal.PALETTE_RGB[: cc.NUM_COLORS], np.float32) / 255
    lab = np.asarray(rgb_to_lab(palette))
    expected = np.degrees(np.arctan2(lab[:, 2], lab[:, 1]))
    a, b = np.array(cc.COLORS_AB).T
    np.testing.assert_allclose(np.degrees(np.arctan2(b, a)), expected, atol=0.5)


def test_targets_follow_the_labels(data):
    label = cosal.generate(
        40, num_direct=4, num_colors=3, image_size=36, seed=3
    )["label"]
    for k, (ab, rgb) in enumerate(
        zip(cc.COLORS_AB, cc.COLORS_RGB, strict=True), 1
    ):
        expected = np.tile(np.array(ab) / AB_SCALE, ((label == k).sum(), 1))
        np.testing.assert_allclose(data["ab"][label == k], expected, atol=1e-6)
        assert (data["target"][label == k] == rgb).all()
    assert (data["ab"][label == 0] == 0).all()
    assert (data["target"][label == 0] == 255).all()


def test_caption_accuracy_of_the_targets_is_one(data):
    assert cc.caption_accuracy(data["ab"], data) == 1.0


def test_caption_accuracy_of_one_colour_everywhere(data):
    ab = np.broadcast_to(
        np.array(cc.COLORS_AB[1], np.float32) / AB_SCALE, data["ab"].shape
    )
    expected = np.mean(data["tile_colors"] == 2)
    assert cc.caption_accuracy(ab, data) == pytest.approx(expected)
    assert 0.2 < expected < 0.5


def test_caption_accuracy_of_swapped_colours_is_zero(data):
    label = cosal.generate(
        40, num_direct=4, num_colors=3, image_size=36, seed=3
    )["label"]
    shifted = np.where(label > 0, label % 3 + 1, 0)
    palette = np.array(((0.0, 0.0),) + cc.COLORS_AB) / AB_SCALE
    assert cc.caption_accuracy(palette[shifted], data) == 0.0


def test_caption_accuracy_uses_the_shape_mean(data):
    # Noise that averages out over a shape leaves every shape correct.
    rng = np.random.default_rng(0)
    noise = rng.choice([-0.2, 0.2], size=data["ab"].shape[:-1])[..., None]
    assert cc.caption_accuracy(data["ab"] + noise * 0.5, data) > 0.95


def test_caption_accuracy_rejects_mismatched_shapes(data):
    with pytest.raises(ValueError, match="`ab` must have shape"):
        cc.caption_accuracy(data["ab"][:, :30], data)


def test_as_dataset_batches_inputs_and_targets(data):
    dataset = cc.as_dataset(data, batch_size=16)
    batches = list(dataset)
    assert [len(y) for _, y in batches] == [16, 16, 8]
    x, y = batches[0]
    assert set(x) == {"image_l", "text"}
    np.testing.assert_array_equal(x["image_l"].numpy(), data["image_l"][:16])
    np.testing.assert_array_equal(y.numpy(), data["ab"][:16])
    assert x["text"].numpy()[0].decode() == data["text"][0]


def test_as_dataset_blank_text_empties_every_caption(data):
    x, _ = next(iter(cc.as_dataset(data, batch_size=40, blank_text=True)))
    assert set(x["text"].numpy().tolist()) == {b""}


def test_as_dataset_shuffles_reproducibly(data):
    def first_texts(seed):
        dataset = cc.as_dataset(data, 8, shuffle=True, seed=seed)
        return next(iter(dataset))[0]["text"].numpy().tolist()

    assert first_texts(1) == first_texts(1)
    assert first_texts(1) != first_texts(2)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"batch_size": 0}, ValueError, "`batch_size` must be >= 1"),
        ({"batch_size": 2, "shuffle": 1}, TypeError, "`shuffle`"),
        ({"batch_size": 2, "blank_text": "yes"}, TypeError, "`blank_text`"),
        ({"batch_size": 2, "seed": -1}, ValueError, "`seed`"),
    ],
)
def test_as_dataset_rejects_bad_arguments(data, kwargs, error, message):
    with pytest.raises(error, match=message):
        cc.as_dataset(data, **kwargs)


def test_as_dataset_rejects_other_data():
    with pytest.raises(TypeError, match="`data` must be a dict"):
        cc.as_dataset("records.tfrecord", 2)
    with pytest.raises(ValueError, match="lacks"):
        cc.as_dataset({"text": np.array(["a"])}, 2)


def test_colorization_scores_of_the_targets(data):
    scores = cc.colorization_scores(data["ab"], data)
    assert scores["caption_accuracy"] == 1.0
    assert scores["ab_l1"] == pytest.approx(0.0, abs=1e-4)
    # Only the 8-bit rounding of the target colours remains.
    assert scores["psnr"] > 45


def test_colorization_scores_of_gray_predictions(data):
    scores = cc.colorization_scores(np.zeros_like(data["ab"]), data)
    expected = np.mean(np.abs(data["ab"])) * AB_SCALE
    assert scores["ab_l1"] == pytest.approx(expected, rel=1e-5)
    assert 0 < scores["ab_l1"] < 60
    assert 10 < scores["psnr"] < 30


@pytest.fixture(scope="module")
def described():
    return cc.generate(30, image_size=36, seed=5, num_described=2)


def test_num_described_keeps_the_first_sentences(described):
    full = cc.generate(30, image_size=36, seed=5)
    for short, long in zip(described["text"], full["text"], strict=True):
        assert long.startswith(short)
        assert short.count(".") == 2
    assert ((described["tile_colors"] > 0).sum(axis=1) == 2).all()


def test_unnamed_shapes_stay_gray(described):
    full = cc.generate(30, image_size=36, seed=5)
    named = described["tile_colors"] > 0
    np.testing.assert_array_equal(
        described["tile_colors"][named], full["tile_colors"][named]
    )
    for index in range(30):
        unnamed_ids = described["tile_shapes"][index][~named[index]]
        pixels = np.isin(described["shape_map"][index], unnamed_ids)
        assert (described["ab"][index][pixels] == 0).all()
        assert (described["target"][index][pixels] == cc.SHAPE_GRAY).all()
        np.testing.assert_array_equal(
            described["image_l"][index], full["image_l"][index]
        )


def test_gray_kept(described):
    assert cc.gray_kept(described["ab"], described) == 1.0
    full = cc.generate(30, image_size=36, seed=5)
    full_colour = full["ab"]
    assert cc.gray_kept(full_colour, described) == 0.0
    assert cc.gray_kept(full_colour, full) is None
    # The named shapes alone are scored by caption_accuracy.
    assert cc.caption_accuracy(full_colour, described) == 1.0


def test_num_described_needs_all_direct_sentences():
    with pytest.raises(ValueError, match="num_direct=9"):
        cc.generate(2, num_direct=4, num_described=2)
    with pytest.raises(ValueError, match="`num_described` must be in 1..9"):
        cc.generate(2, num_described=0)
