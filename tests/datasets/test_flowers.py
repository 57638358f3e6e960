"""Tests for the Oxford-102 + captions loader, on a tiny release in tmp_path."""

import os
import shutil

import numpy as np
import pytest
import scipy.io
import tensorflow as tf
from PIL import Image

from keras_lbie.datasets import flowers

SIZE = 16
# Image id → (width, height, PIL mode, pixel maker, class id).
RED = (255, 0, 0)
BLUE = (0, 0, 255)
GREY = (128, 128, 128)
LABELS = (1, 1, 2, 2, 3, 3)
NUM_CAPTIONS = (3, 2, 2, 2, 2, 2)
# CIE Lab (D65) of sRGB colours, from the standard formulas.
LAB = {
    RED: (53.241, 80.092, 67.203),
    (0, 255, 0): (87.735, -86.183, 83.180),
    BLUE: (32.296, 79.186, -107.857),
    (255, 255, 0): (97.139, -21.554, 94.478),
    GREY: (53.585, 0.0, 0.0),
    (255, 255, 255): (100.0, 0.0, 0.0),
    (0, 0, 0): (0.0, 0.0, 0.0),
}


def _pixels(image_id):
    """uint8 pixels of each fixture image; sizes differ on purpose."""
    if image_id == 1:
        return np.full((20, 24, 3), RED, np.uint8)
    if image_id == 2:
        return np.full((30, 20, 3), GREY, np.uint8)
    if image_id == 3:  # grayscale JPEG, a horizontal ramp
        return np.tile(np.linspace(30, 220, 30, dtype=np.uint8), (20, 1))
    if image_id == 4:  # left half red, right half blue
        image = np.full((20, 20, 3), BLUE, np.uint8)
        image[:, :10] = RED
        return image
    if image_id == 5:
        return np.random.default_rng(0).integers(0, 256, (22, 28, 3), np.uint8)
    return np.full((26, 22, 3), (0, 255, 0), np.uint8)


def captions_of(image_id):
    return [
        f"image {image_id} caption {k}"
        for k in range(NUM_CAPTIONS[image_id - 1])
    ]


def write_release(root):
    """Writes a 6-image release in the layout of the real one."""
    os.makedirs(root / "jpg")
    for image_id in range(1, 7):
        # 4:4:4 at quality 100, so uniform colours survive compression.
        Image.fromarray(_pixels(image_id)).save(
            root / "jpg" / f"image_{image_id:05d}.jpg",
            quality=100,
            subsampling=0,
        )
    # MATLAB stores these as double row vectors.
    scipy.io.savemat(
        root / "imagelabels.mat", {"labels": np.array(LABELS, float)}
    )
    scipy.io.savemat(
        root / "setid.mat",
        {
            "trnid": np.array([1, 3, 5], np.uint16),
            "valid": np.array([2.0]),
            "tstid": np.array([4, 6], np.uint16),
        },
    )
    for image_id, label in enumerate(LABELS, start=1):
        folder = root / "text_c10" / f"class_{label:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = captions_of(image_id)
        if image_id == 1:  # blank lines and padding are dropped
            lines = ["", f"  {lines[0]}  "] + lines[1:] + ["", ""]
        (folder / f"image_{image_id:05d}.txt").write_text(
            "\n".join(lines) + "\n"
        )
    # Reed et al.'s encodings sit beside the captions.
    (root / "text_c10" / "class_00001" / "image_00001.h5").write_bytes(
        b"\x89HDF"
    )
    (root / "text_c10" / "class_00001" / "image_00099.t7").write_bytes(b"\x00")
    (root / "trainclasses.txt").write_text("class_00001\nclass_00002\n")
    (root / "testclasses.txt").write_text("class_00003\n")
    return root


@pytest.fixture
def release(tmp_path):
    return write_release(tmp_path / "oxford102")


def collect(dataset):
    """All elements of one epoch as numpy: (image_l, texts, ab)."""
    parts = [
        (x["image_l"].numpy(), x["text"].numpy(), ab.numpy())
        for x, ab in dataset
    ]
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))


def dataset(release, **kwargs):
    kwargs = {
        "split": "train_classes",
        "image_size": SIZE,
        "batch_size": 8,
        "shuffle": False,
        "augment": False,
        "caption": "first",
        **kwargs,
    }
    return flowers.as_dataset(release, **kwargs)


# Index.


@pytest.mark.parametrize(
    "split, ids",
    [
        ("train", [1, 3, 5]),
        ("val", [2]),
        ("test", [4, 6]),
        ("train_classes", [1, 2, 3, 4]),
        ("test_classes", [5, 6]),
    ],
)
def test_index_lists_each_split(release, split, ids):
    index = flowers.load_index(release, split)
    assert [e.image_id for e in index] == ids
    for example in index:
        assert example.class_id == LABELS[example.image_id - 1]
        assert example.image_path == str(
            release / "jpg" / f"image_{example.image_id:05d}.jpg"
        )
        assert list(example.captions) == captions_of(example.image_id)


def test_default_split_is_the_papers_training_classes(release):
    assert flowers.load_index(release) == flowers.load_index(
        release, "train_classes"
    )


def test_training_classes_are_the_union_of_the_class_files(release):
    (release / "trainclasses.txt").write_text("class_00001\n")
    assert [e.image_id for e in flowers.load_index(release)] == [1, 2]
    (release / "valclasses.txt").write_text("class_00002\n")
    assert [e.image_id for e in flowers.load_index(release)] == [1, 2, 3, 4]
    os.remove(release / "trainclasses.txt")
    os.remove(release / "valclasses.txt")
    (release / "trainvalclasses.txt").write_text("class_00001\n\nclass_00002\n")
    assert [e.image_id for e in flowers.load_index(release)] == [1, 2, 3, 4]


def test_captions_may_live_in_another_folder(release, tmp_path):
    captions = tmp_path / "cvpr2016_flowers"
    captions.mkdir()
    for name in ("text_c10", "trainclasses.txt", "testclasses.txt"):
        shutil.move(release / name, captions / name)
    with pytest.raises(FileNotFoundError, match="text_c10"):
        flowers.load_index(release)
    index = flowers.load_index(release, "test_classes", caption_root=captions)
    assert [e.image_id for e in index] == [5, 6]


# Pipeline.


@pytest.mark.parametrize("drop_remainder, batch", [(False, None), (True, 3)])
def test_element_spec(release, drop_remainder, batch):
    data = dataset(release, batch_size=3, drop_remainder=drop_remainder)
    x_spec, ab_spec = data.element_spec
    assert x_spec["image_l"] == tf.TensorSpec(
        (batch, SIZE, SIZE, 1), tf.float32
    )
    assert x_spec["text"] == tf.TensorSpec((batch,), tf.string)
    assert ab_spec == tf.TensorSpec((batch, SIZE, SIZE, 2), tf.float32)
    image_l, texts, ab = collect(data)
    count = 3 if drop_remainder else 4  # 4 images, batches of 3
    assert image_l.shape == (count, SIZE, SIZE, 1)
    assert texts.shape == (count,) and ab.shape == (count, SIZE, SIZE, 2)


@pytest.mark.parametrize("split", ["test_classes", "train"])
@pytest.mark.parametrize("augment", [False, True])
def test_values_lie_in_the_unit_range(release, split, augment):
    image_l, _, ab = collect(dataset(release, split=split, augment=augment))
    for values in (image_l, ab):
        assert np.all(np.isfinite(values))
        assert values.min() >= -1.0 and values.max() <= 1.0
    assert image_l.std() > 0.05 and ab.std() > 0.05


def expected(colour):
    lightness, a, b = LAB[colour]
    return lightness / 50.0 - 1.0, a / 110.0, b / 110.0


def test_l_and_ab_follow_the_jpeg_colours(release):
    image_l, _, ab = collect(dataset(release))
    red, grey, _, halves = range(4)
    l_red, a_red, b_red = expected(RED)
    assert ab[red, ..., 0].min() > 0 and ab[red, ..., 1].min() > 0
    np.testing.assert_allclose(image_l[red], l_red, atol=0.01)
    np.testing.assert_allclose(ab[red, ..., 0], a_red, atol=0.02)
    np.testing.assert_allclose(ab[red, ..., 1], b_red, atol=0.02)
    np.testing.assert_allclose(image_l[grey], expected(GREY)[0], atol=0.01)
    np.testing.assert_allclose(ab[grey], 0.0, atol=0.01)
    # Not augmented: red stays left, blue (b < 0) right.
    np.testing.assert_allclose(
        ab[halves, :, :4, 1], expected(RED)[2], atol=0.03
    )
    np.testing.assert_allclose(
        ab[halves, :, -4:, 1], expected(BLUE)[2], atol=0.03
    )


def test_grayscale_jpeg_gives_colourless_ab(release):
    image_l, _, ab = collect(dataset(release))
    np.testing.assert_allclose(ab[2], 0.0, atol=1e-4)
    # The ramp brightens to the right: the centre crop keeps it.
    assert np.all(np.diff(image_l[2, SIZE // 2, :, 0]) >= 0)
    assert image_l[2, :, -1].mean() - image_l[2, :, 0].mean() > 0.5


def epochs(data, count):
    return [collect(data) for _ in range(count)]


def test_augmentation_is_reproducible_under_a_seed(release):
    kwargs = {"augment": True, "shuffle": True, "caption": "random"}
    first = epochs(dataset(release, seed=7, **kwargs), 2)
    again = epochs(dataset(release, seed=7, **kwargs), 2)
    other = epochs(dataset(release, seed=8, **kwargs), 1)
    for a, b in zip(first, again, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
    # Each epoch redraws crops, flips, order and captions.
    assert not np.array_equal(first[0][0], first[1][0])
    assert not np.array_equal(first[0][0], other[0][0])


def test_augmentation_flips_some_epochs(release):
    data = dataset(release, augment=True, seed=0)
    left_b = [ab[3, :, :4, 1].mean() for _, _, ab in epochs(data, 10)]
    unflipped = sum(b > 0.3 for b in left_b)  # red on the left
    flipped = sum(b < -0.5 for b in left_b)  # blue on the left
    assert unflipped + flipped == 10
    assert unflipped and flipped


def test_evaluation_splits_are_not_augmented_by_default(release):
    data = flowers.as_dataset(release, "test_classes", image_size=SIZE, seed=0)
    (l_first, _, ab_first), (l_second, _, ab_second) = epochs(data, 2)
    np.testing.assert_array_equal(l_first, l_second)
    np.testing.assert_array_equal(ab_first, ab_second)


# Captions.


def test_all_captions_gives_one_element_per_caption(release):
    _, texts, _ = collect(dataset(release, caption="all"))
    assert [t.decode() for t in texts] == [
        c for image_id in (1, 2, 3, 4) for c in captions_of(image_id)
    ]


def test_first_caption(release):
    _, texts, _ = collect(dataset(release, caption="first"))
    assert [t.decode() for t in texts] == [
        captions_of(image_id)[0] for image_id in (1, 2, 3, 4)
    ]


def test_random_caption_is_one_of_the_images_captions(release):
    data = dataset(release, caption="random", seed=1)
    drawn = [[t.decode() for t in texts] for _, texts, _ in epochs(data, 8)]
    for texts in drawn:
        for image_id, text in zip((1, 2, 3, 4), texts, strict=True):
            assert text in captions_of(image_id)
    assert len({texts[0] for texts in drawn}) > 1
    again = dataset(release, caption="random", seed=1)
    assert [[t.decode() for t in e[1]] for e in epochs(again, 8)] == drawn


# Errors name the file.


def test_missing_root(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        flowers.load_index(tmp_path / "nowhere")


@pytest.mark.parametrize("name", ["jpg", "text_c10"])
def test_missing_folder(release, name):
    shutil.rmtree(release / name)
    with pytest.raises(FileNotFoundError, match=name):
        flowers.load_index(release)


@pytest.mark.parametrize(
    "name, split",
    [
        ("imagelabels.mat", "test_classes"),
        ("setid.mat", "val"),
        ("jpg/image_00003.jpg", "train"),
        ("text_c10/class_00002/image_00004.txt", "test"),
        ("testclasses.txt", "train_classes"),
    ],
)
def test_missing_file(release, name, split):
    os.remove(release / name)
    with pytest.raises(FileNotFoundError, match=os.path.basename(name)):
        flowers.load_index(release, split)


def test_missing_training_class_files(release):
    os.remove(release / "trainclasses.txt")
    with pytest.raises(FileNotFoundError, match="trainvalclasses.txt"):
        flowers.load_index(release, "test_classes")


def test_setid_is_not_needed_for_class_splits(release):
    os.remove(release / "setid.mat")
    assert len(flowers.load_index(release, "test_classes")) == 2


@pytest.mark.parametrize(
    "name, contents, split, match",
    [
        ("imagelabels.mat", {"label": LABELS}, "train", r"no key 'labels'"),
        ("imagelabels.mat", {"labels": [LABELS, LABELS]}, "train", "1×N"),
        (
            "imagelabels.mat",
            {"labels": (1, 1, 2, 103, 3, 3)},
            "train",
            "1..102",
        ),
        ("imagelabels.mat", {"labels": (1, 1, 0, 2, 3, 3)}, "train", "1..102"),
        (
            "imagelabels.mat",
            {"labels": (1, 1.5, 2, 2, 3, 3)},
            "train",
            "integers",
        ),
        ("setid.mat", {"trnid": [1], "tstid": [2]}, "val", r"no key 'valid'"),
        ("setid.mat", {"tstid": [4, 7]}, "test", r"'tstid'.*1\.\.6"),
        ("setid.mat", {"trnid": [1, 1]}, "train", "twice"),
    ],
)
def test_malformed_mat_file(release, name, contents, split, match):
    scipy.io.savemat(
        release / name, {k: np.array(v) for k, v in contents.items()}
    )
    with pytest.raises(ValueError, match=match) as error:
        flowers.load_index(release, split)
    assert name in str(error.value)


def test_unreadable_mat_file(release):
    (release / "imagelabels.mat").write_text("not a mat file")
    with pytest.raises(ValueError, match="imagelabels.mat"):
        flowers.load_index(release)


def test_caption_file_without_a_caption(release):
    path = release / "text_c10" / "class_00002" / "image_00003.txt"
    path.write_text("\n  \n")
    with pytest.raises(ValueError, match="image_00003.txt"):
        flowers.load_index(release, "train")


@pytest.mark.parametrize(
    "line, match",
    [
        ("class_00004", "class_00004 does not exist"),
        ("flowers", "expected a class name"),
        ("class_00103", "expected a class name"),
    ],
)
def test_class_file_naming_a_missing_class(release, line, match):
    (release / "testclasses.txt").write_text(f"class_00003\n{line}\n")
    with pytest.raises(ValueError, match=match) as error:
        flowers.load_index(release, "test_classes")
    assert "testclasses.txt, line 2" in str(error.value)


def test_overlapping_class_splits(release):
    (release / "testclasses.txt").write_text("class_00002\nclass_00003\n")
    with pytest.raises(
        ValueError, match=r"testclasses.txt shares classes \[2\]"
    ):
        flowers.load_index(release, "train_classes")


def test_empty_split_is_rejected_by_the_pipeline(release):
    (release / "text_c10" / "class_00004").mkdir()
    (release / "testclasses.txt").write_text("class_00004\n")
    assert flowers.load_index(release, "test_classes") == ()
    with pytest.raises(ValueError, match="'test_classes'.*holds no image"):
        flowers.as_dataset(release, "test_classes")


# Arguments.


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"split": "training"}, ValueError, "`split`"),
        ({"split": None}, TypeError, "`split`"),
        ({"image_size": 0}, ValueError, "`image_size`"),
        ({"image_size": 16.0}, TypeError, "`image_size`"),
        ({"image_size": True}, TypeError, "`image_size`"),
        ({"batch_size": 0}, ValueError, "`batch_size`"),
        ({"batch_size": "8"}, TypeError, "`batch_size`"),
        ({"caption": "best"}, ValueError, "`caption`"),
        ({"caption": 0}, TypeError, "`caption`"),
        ({"shuffle": "yes"}, TypeError, "`shuffle`"),
        ({"augment": 1}, TypeError, "`augment`"),
        ({"seed": -1}, ValueError, "`seed`"),
        ({"drop_remainder": None}, TypeError, "`drop_remainder`"),
    ],
)
def test_bad_arguments_are_rejected(release, kwargs, error, match):
    with pytest.raises(error, match=match):
        flowers.as_dataset(release, **kwargs)


def test_bad_root_type():
    with pytest.raises(TypeError, match="`root`"):
        flowers.load_index(3)
