import numpy as np
import pytest
from PIL import Image

from keras_lbie.visualize import STEP_COLORS
from keras_lbie.visualize import attended_by_region
from keras_lbie.visualize import attended_sentences
from keras_lbie.visualize import attention_figure

# The documented layout (attention_figure docstring), in output pixels.
MARGIN = 16
PANEL_GAP = 24
TITLE_HEIGHT = 36
CAPTION_HEIGHT = 28
SECTION_GAP = 20
LINE_HEIGHT = 24
SWATCH = 14
SWATCH_GAP = 8
SCALE = 4  # default for 48-px images: ceil(192 / 48)
PANEL = 48 * SCALE

RED, YELLOW, GREEN = STEP_COLORS[:3]


def one_hot_attention(chosen, num_sentences):
    """(T, M, N, S) attention with region (t, m, n) all on chosen[t][m][n]."""
    chosen = np.asarray(chosen)
    return np.eye(num_sentences)[chosen]


# attended_sentences -------------------------------------------------------


def test_attended_sentences_takes_argmax_of_region_mean():
    attention = np.zeros((1, 1, 3, 3))
    attention[0, 0, 0] = (0.6, 0.4, 0.0)
    attention[0, 0, 1] = (0.0, 0.5, 0.5)
    attention[0, 0, 2] = (0.1, 0.6, 0.3)
    # Means: 0.233, 0.5, 0.267 -> sentence 1, though region 0 prefers 0.
    assert attended_sentences(attention, np.zeros((1, 3), int)) == [(0, 1)]


def test_attended_sentences_averages_over_regions_not_stopped_yet():
    # Step 1: the two regions that stopped at step 0 read sentence 2, the
    # one still running reads sentence 0. Over all regions sentence 2 would
    # win; over the running regions it is sentence 0.
    attention = one_hot_attention([[[1, 1, 1]], [[2, 2, 0]]], 3)
    stop_step = np.array([[0, 0, 1]])
    assert attended_sentences(attention, stop_step) == [(0, 1), (1, 0)]


def test_attended_sentences_omits_steps_after_every_region_stopped():
    attention = one_hot_attention([[[0, 1]], [[1, 1]], [[2, 2]]], 3)
    assert attended_sentences(attention, np.array([[0, 1]])) == [
        (0, 0),
        (1, 1),
    ]


def test_attended_sentences_can_repeat_a_sentence():
    attention = one_hot_attention([[[2]], [[0]], [[2]]], 3)
    assert attended_sentences(attention, np.array([[2]])) == [
        (0, 2),
        (1, 0),
        (2, 2),
    ]


def test_attended_sentences_skips_masked_sentences_and_breaks_ties_low():
    attention = np.zeros((2, 1, 1, 4))
    attention[0, 0, 0] = (0.1, 0.2, 0.2, 0.5)  # 3 is padding; tie 1 vs 2
    attention[1, 0, 0] = (0.3, 0.3, 0.1, 0.3)  # tie 0 vs 1
    mask = [True, True, True, False]
    pairs = attended_sentences(attention, np.array([[1]]), mask)
    assert pairs == [(0, 1), (1, 0)]
    assert all(isinstance(v, int) for pair in pairs for v in pair)


@pytest.mark.parametrize(
    "attention, stop_step, kwargs, name",
    [
        (np.zeros((2, 1, 1, 3), int), np.zeros((1, 1), int), {}, "attention"),
        (np.zeros((2, 1, 3)), np.zeros((1, 1), int), {}, "attention"),
        (np.zeros((0, 1, 1, 3)), np.zeros((1, 1), int), {}, "attention"),
        (np.full((2, 1, 1, 3), np.nan), np.zeros((1, 1), int), {}, "attention"),
        (np.zeros((2, 1, 1, 3)), np.zeros((1, 1)), {}, "stop_step"),
        (np.zeros((2, 1, 1, 3)), np.zeros((1, 2), int), {}, "stop_step"),
        (np.zeros((2, 1, 1, 3)), np.full((1, 1), 2), {}, "stop_step"),
        (np.zeros((2, 1, 1, 3)), np.full((1, 1), -1), {}, "stop_step"),
        (
            np.zeros((2, 1, 1, 3)),
            np.zeros((1, 1), int),
            {"sentence_mask": [True, False]},
            "sentence_mask",
        ),
        (
            np.zeros((2, 1, 1, 3)),
            np.zeros((1, 1), int),
            {"sentence_mask": [False] * 3},
            "sentence_mask",
        ),
    ],
)
def test_attended_sentences_bad_inputs(attention, stop_step, kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        attended_sentences(attention, stop_step, **kwargs)


def test_attended_by_region_is_the_per_region_argmax_while_running():
    rng = np.random.default_rng(0)
    attention = rng.random((3, 2, 4, 5))
    stop_step = rng.integers(0, 3, size=(2, 4))
    attended = attended_by_region(attention, stop_step)
    assert attended.dtype == np.int32 and attended.shape == (3, 2, 4)
    for t, m, n in np.ndindex(3, 2, 4):
        expected = np.argmax(attention[t, m, n]) if stop_step[m, n] >= t else -1
        assert attended[t, m, n] == expected


def test_attended_by_region_checks_like_attended_sentences():
    with pytest.raises(ValueError, match="`stop_step`"):
        attended_by_region(np.zeros((2, 1, 1, 3)), np.full((1, 1), 2))


# attention_figure ---------------------------------------------------------


def cosal_like_example(seed=0):
    """A 48-px image, 4 sentences + 1 padding, T = 3 on a 3 x 3 grid."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)
    edited = rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)
    sentences = [
        "The circle is red.",
        "The diamond is blue.",
        "The shape left of the circle is blue.",
        "The triangle is red.",
        "",
    ]
    # Step 0 -> sentence 3, step 1 -> sentence 0, step 2 -> sentence 2;
    # sentence 1 is never attended to.
    chosen = np.array([3, 0, 2])[:, None, None] * np.ones((3, 3), int)
    attention = 0.5 * one_hot_attention(chosen, 5) + 0.1
    stop_step = np.array([[0, 1, 2], [2, 1, 0], [1, 1, 2]])
    return image, edited, sentences, attention, stop_step


def panel_left(index):
    return MARGIN + index * (PANEL + PANEL_GAP)


def expected_size(num_panels, num_sentences, title=False):
    width = 2 * MARGIN + num_panels * PANEL + (num_panels - 1) * PANEL_GAP
    top = MARGIN + (TITLE_HEIGHT if title else 0) + CAPTION_HEIGHT
    # Heading, one legend row, one line per non-empty sentence.
    text_lines = 2 + num_sentences
    height = top + PANEL + SECTION_GAP + text_lines * LINE_HEIGHT + MARGIN
    return width, height


def test_figure_is_an_rgb_image_of_the_documented_size():
    figure = attention_figure(*cosal_like_example())
    assert isinstance(figure, Image.Image)
    assert figure.mode == "RGB"
    # Source, edited, stop map; 4 non-empty sentences.
    assert figure.size == expected_size(3, 4)


def test_target_and_title_add_a_panel_and_a_band():
    image, *rest = cosal_like_example()
    target = np.zeros_like(image)
    figure = attention_figure(image, *rest, title="Example", target=target)
    assert figure.size == expected_size(4, 4, title=True)
    pixels = np.asarray(figure)
    top = MARGIN + TITLE_HEIGHT + CAPTION_HEIGHT
    x = panel_left(2)
    np.testing.assert_array_equal(pixels[top : top + PANEL, x : x + PANEL], 0)


def test_png_is_written_and_rereadable(tmp_path):
    path = tmp_path / "figure.png"
    figure = attention_figure(*cosal_like_example(), path=path)
    with Image.open(path) as reread:
        assert reread.format == "PNG"
        np.testing.assert_array_equal(
            np.asarray(reread.convert("RGB")), np.asarray(figure)
        )


def test_image_panels_are_nearest_neighbour_upscaled():
    image, edited, *rest = cosal_like_example()
    pixels = np.asarray(attention_figure(image, edited, *rest))
    top = MARGIN + CAPTION_HEIGHT
    for index, array in enumerate((image, edited)):
        x = panel_left(index)
        panel = pixels[top : top + PANEL, x : x + PANEL]
        np.testing.assert_array_equal(
            panel, np.repeat(np.repeat(array, SCALE, 0), SCALE, 1)
        )


@pytest.mark.parametrize("with_target", [False, True])
@pytest.mark.parametrize("title", [None, "A title"])
def test_stop_map_cell_centres_have_the_step_colours(with_target, title):
    image, edited, sentences, attention, stop_step = cosal_like_example()
    target = image if with_target else None
    figure = attention_figure(
        image,
        edited,
        sentences,
        attention,
        stop_step,
        title=title,
        target=target,
    )
    pixels = np.asarray(figure)
    # The map comes after the image panels; 3 x 3 cells of 192 // 3 px.
    left = panel_left(3 if with_target else 2)
    top = MARGIN + (TITLE_HEIGHT if title else 0) + CAPTION_HEIGHT
    cell = PANEL // 3
    for r in range(3):
        for c in range(3):
            y = top + r * cell + cell // 2
            x = left + c * cell + cell // 2
            expected = STEP_COLORS[stop_step[r, c]]
            assert tuple(pixels[y, x]) == expected, (r, c)


def test_stop_map_with_many_steps_uses_distinct_colours():
    rng = np.random.default_rng(0)
    image = np.zeros((48, 48, 3), np.uint8)
    num_steps = 14
    attention = rng.random((num_steps, 2, 7, 2))
    stop_step = np.arange(14).reshape(2, 7)
    pixels = np.asarray(
        attention_figure(image, image, ["a.", "b."], attention, stop_step)
    )
    # min(192 // 2, 192 // 7) = 27 px cells, enlarged to 40 px (the map,
    # 7 * 40 px wide, stays under 320 px); numbers "1".."14" in the corners.
    top, left, cell = MARGIN + CAPTION_HEIGHT, panel_left(2), 40
    colours = {
        tuple(pixels[top + r * cell + cell // 2, left + c * cell + cell // 2])
        for r in range(2)
        for c in range(7)
    }
    assert len(colours) == num_steps
    assert set(STEP_COLORS) <= colours


def sentence_line(pixels, line, title=False):
    """Pixels of the `line`-th sentence line (0 = first non-empty one)."""
    top = MARGIN + (TITLE_HEIGHT if title else 0) + CAPTION_HEIGHT + PANEL
    y = top + SECTION_GAP + (2 + line) * LINE_HEIGHT
    return pixels[y : y + LINE_HEIGHT]


def colour_count(region, colour):
    return int(np.all(region == colour, axis=-1).sum())


def test_sentences_are_drawn_in_the_colour_of_their_first_step():
    pixels = np.asarray(attention_figure(*cosal_like_example()))
    text_x = MARGIN + SWATCH + SWATCH_GAP
    lines = [sentence_line(pixels, i) for i in range(4)]
    # Sentence 3 at step 1 (red), 0 at step 2 (yellow), 2 at step 3 (green):
    # the text itself is in the colour, the swatch is filled with it.
    for line, colour in (
        (lines[3], RED),
        (lines[0], YELLOW),
        (lines[2], GREEN),
    ):
        assert colour_count(line[:, text_x:], colour) > 20
        assert colour_count(line[:, MARGIN : MARGIN + SWATCH], colour) == (
            SWATCH * SWATCH
        )
    # Sentence 1 is never attended to: no step colour on its line.
    for colour in STEP_COLORS:
        assert colour_count(lines[1], colour) == 0


def test_earliest_step_colours_a_sentence_attended_twice():
    image, edited, sentences, _, stop_step = cosal_like_example()
    chosen = np.array([1, 0, 1])[:, None, None] * np.ones((3, 3), int)
    attention = one_hot_attention(chosen, 5)
    pixels = np.asarray(
        attention_figure(image, edited, sentences, attention, stop_step)
    )
    assert colour_count(sentence_line(pixels, 1), RED) > 20
    assert colour_count(sentence_line(pixels, 1), GREEN) == 0
    assert colour_count(sentence_line(pixels, 0), YELLOW) > 20


def test_padding_sentence_is_never_drawn_nor_attended():
    image, edited, sentences, attention, stop_step = cosal_like_example()
    attention = attention.copy()
    attention[..., 4] = 10.0  # padding sentence has the largest score
    figure = attention_figure(image, edited, sentences, attention, stop_step)
    assert figure.size == expected_size(3, 4)
    pixels = np.asarray(figure)
    assert colour_count(sentence_line(pixels, 3), RED) > 20


def test_long_sentences_wrap():
    image, edited, sentences, attention, stop_step = cosal_like_example()
    sentences = list(sentences)
    sentences[1] = " ".join(["word"] * 150)
    figure = attention_figure(image, edited, sentences, attention, stop_step)
    width, height = expected_size(3, 4)
    assert figure.width < 1000
    assert figure.height > height + 2 * LINE_HEIGHT


def bad(**changes):
    image, edited, sentences, attention, stop_step = cosal_like_example()
    kwargs = dict(
        image=image,
        edited=edited,
        sentences=sentences,
        attention=attention,
        stop_step=stop_step,
    )
    kwargs.update(changes)
    return kwargs


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (bad(image=np.zeros((48, 48, 3), np.float32)), "image"),
        (bad(image=np.zeros((48, 48), np.uint8)), "image"),
        (bad(image=[[[0, 0, 0]]]), "image"),
        (bad(edited=np.zeros((48, 48, 4), np.uint8)), "edited"),
        (bad(edited=np.zeros((24, 24, 3), np.uint8)), "edited"),
        (bad(target=np.zeros((24, 24, 3), np.uint8)), "target"),
        (bad(target=np.zeros((48, 48, 3), np.int32)), "target"),
        (bad(sentences="The circle is red."), "sentences"),
        (bad(sentences=["a.", 3, "b.", "c.", ""]), "sentences"),
        (bad(sentences=["", " ", "", "", ""]), "sentences"),
        (bad(sentences=["a.", "b."]), "attention"),
        (bad(attention=np.ones((3, 3, 3, 5), int)), "attention"),
        (bad(attention=np.ones((1, 3, 3, 3, 5))), "attention"),
        (bad(stop_step=np.zeros((2, 3), int)), "stop_step"),
        (bad(stop_step=np.full((3, 3), 3)), "stop_step"),
        (bad(stop_step=np.zeros((3, 3))), "stop_step"),
        (bad(title=3), "title"),
        (bad(path=3), "path"),
        (bad(scale=0), "scale"),
    ],
)
def test_figure_bad_inputs_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        attention_figure(**kwargs)
