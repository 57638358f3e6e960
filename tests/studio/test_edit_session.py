"""`EditSession`: the dialogue semantics, checked against `edit` itself.

Every image is compared with the model's own `edit`/`colorize` of the
description the dialogue should have composed, never with fixed colours:
the shipped weights may be retrained.
"""

import numpy as np
import pytest
from PIL import Image

from keras_lbie.datasets import cosal
from keras_lbie.models import LBIEColorizer
from keras_lbie.models import LBIESegmenter
from keras_lbie.studio import EditSession
from keras_lbie.studio.edit_session import MAX_TURN_CHARACTERS
from keras_lbie.studio.edit_session import split_sentences


@pytest.fixture(scope="module")
def segmenter():
    return LBIESegmenter.from_preset("cosal")


@pytest.fixture(scope="module")
def image():
    return cosal.generate(1, num_direct=4, seed=1)["image"][0]


def assert_edit_of(session, description):
    """The session's image is `edit` of the source by `description`."""
    assert session.description == description
    expected = session.model.edit(session.source, description)[0]
    np.testing.assert_array_equal(session.image, expected)


def test_each_turn_edits_the_source_by_the_whole_description(segmenter, image):
    session = EditSession(segmenter, image)
    np.testing.assert_array_equal(session.image, image)
    first = session.say("The circle is red.")
    assert first.added == ("The circle is red.",)
    assert_edit_of(session, "The circle is red.")
    session.say("The shape below the circle is blue.")
    assert_edit_of(
        session, "The circle is red. The shape below the circle is blue."
    )
    assert session.history[0] is first and len(session.history) == 2


def test_it_refers_to_the_previous_sentences_subject(segmenter, image):
    session = EditSession(segmenter, image)
    session.say("The circle is red.")
    turn = session.say("The shape below it is blue.")
    assert turn.added == ("The shape below the circle is blue.",)
    assert_edit_of(
        session, "The circle is red. The shape below the circle is blue."
    )


def test_a_later_sentence_about_the_same_shape_wins(segmenter, image):
    session = EditSession(segmenter, image)
    session.say("The circle is red. The diamond is blue.")
    turn = session.say("the circle is yellow")
    assert turn.replaced == ("The circle is red.",)
    assert_edit_of(session, "The diamond is blue. The circle is yellow.")
    # Within one turn too, and for relational subjects.
    session.reset()
    session.say(
        "The shape below the circle is red. The shape below the circle is grey."
    )
    assert_edit_of(session, "The shape below the circle is grey.")


def test_undo_and_reset(segmenter, image):
    session = EditSession(segmenter, image)
    first = session.say("The circle is red.").image
    session.say("The diamond is blue.")
    session.undo()
    np.testing.assert_array_equal(session.image, first)
    assert session.description == "The circle is red."
    session.undo()
    np.testing.assert_array_equal(session.image, image)
    with pytest.raises(ValueError, match="no turn to undo"):
        session.undo()
    session.say("The circle is red.")
    other = np.full((30, 40, 3), 255, np.uint8)
    session.reset(other)
    assert session.history == () and session.image is session.source
    turn = session.say("The circle is red.")
    assert turn.image.shape == (30, 40, 3)


def test_turn_details_are_the_models(segmenter, image):
    session = EditSession(segmenter, image)
    turn = session.say("The circle is red. The blob is pink.")
    _, details = segmenter.edit(image, turn.description, return_details=True)
    assert turn.units == tuple(details["sentences"][0])
    np.testing.assert_array_equal(
        turn.attention, details["attention"][0][..., :2]
    )
    np.testing.assert_array_equal(turn.stop_step, details["stop_step"][0])
    assert turn.attended.shape == turn.attention.shape[:3]
    assert turn.unknown_words == ("blob", "pink")
    assert turn.seconds > 0


def test_images_of_another_size_are_edited_as_lbie_edit_does(segmenter, image):
    # Bilinear down to the model's size, nearest neighbour back up.
    big = np.kron(image, np.ones((2, 3, 1), np.uint8))  # 96 x 144
    session = EditSession(segmenter, big)
    turn = session.say("The circle is red.")
    model_input = Image.fromarray(big).resize((48, 48), Image.BILINEAR)
    small = segmenter.edit(np.asarray(model_input), "The circle is red.")[0]
    expected = np.kron(small, np.ones((2, 3, 1), np.uint8))
    np.testing.assert_array_equal(turn.image, expected)


def test_colorizer_dialogue(image):
    colorizer = LBIEColorizer.from_preset("cosal_colorizer")
    gray = np.full((48, 48), 145, np.uint8)
    session = EditSession(colorizer, gray)
    session.say("The circle is red.")
    turn = session.say("The circle is blue. The diamond is green.")
    assert turn.description == "The circle is blue. The diamond is green."
    expected = colorizer.colorize(gray, turn.description)[0]
    np.testing.assert_array_equal(turn.image, expected)
    assert turn.units == (
        "the", "circle", "is", "blue", "the", "diamond", "is", "green",
    )  # fmt: skip
    assert turn.attention.shape[-1] == 8


def test_two_sessions_are_independent(segmenter, image):
    one, two = EditSession(segmenter, image), EditSession(segmenter, image)
    one.say("The circle is red.")
    assert two.history == () and two.description == ""


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("?!", "no words"),
        ("a" * (MAX_TURN_CHARACTERS + 1), "at most 300"),
        ("The circle is red. " + "x " * 12, "at most 11"),
        (" ".join(f"The s{k} is red." for k in range(10)), "at most 9"),
    ],
)
def test_bad_turns_leave_the_dialogue_unchanged(
    segmenter, image, text, message
):
    session = EditSession(segmenter, image)
    session.say("The diamond is blue.")
    with pytest.raises(ValueError, match=message):
        session.say(text)
    assert session.description == "The diamond is blue."
    assert len(session.history) == 1


def test_colorizer_word_limit(image):
    colorizer = LBIEColorizer.from_preset("cosal_colorizer")
    session = EditSession(colorizer, image)
    session.say(" ".join(f"The s{k} is red." for k in range(11)))
    with pytest.raises(ValueError, match="at most 80"):
        session.say(" ".join(f"The s{k} is red." for k in range(11, 22)))


def test_it_needs_a_sentence_before_it(segmenter, image):
    session = EditSession(segmenter, image)
    with pytest.raises(ValueError, match='"it" in "It is red."'):
        session.say("It is red.")
    session.say("The diamond is blue.")
    assert session.say("It is red.").added == ("The diamond is red.",)
    assert session.description == "The diamond is red."


def test_bad_arguments_name_them(segmenter, image):
    with pytest.raises(TypeError, match="`model`"):
        EditSession("cosal", image)
    with pytest.raises(TypeError, match="`image`"):
        EditSession(segmenter, image.astype(np.float32))
    with pytest.raises(ValueError, match="`image`"):
        EditSession(segmenter, np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(TypeError, match="`text`"):
        EditSession(segmenter, image).say(["The circle is red."])


def test_split_sentences():
    assert split_sentences("the circle is red.  The DIAMOND is blue! x?") == [
        "The circle is red.",
        "The DIAMOND is blue!",
        "X?",
    ]
    assert split_sentences("no full stop") == ["No full stop."]
    assert split_sentences("..") == []
