"""A dialogue of language-based edits of one image."""

import re

import numpy as np

from keras_lbie.studio.edit_image import edit_image
from keras_lbie.studio.turn import Turn
from keras_lbie.visualize import attended_by_region

# Longer turns are refused: no CoSaL sentence is longer than 60
# characters, and the model reads at most its `max_words` words anyway.
MAX_TURN_CHARACTERS = 300
# As the tokenizers split text: '.', '!' and '?' end sentences; words are
# runs of letters and digits.
_SENTENCE_END = re.compile(r"(?<=[.!?])")
_WORD = re.compile(r"[^\W_]+")
_COPULAS = ("is", "are")
_PRONOUN = re.compile(r"\bit\b", re.IGNORECASE)


class EditSession:
    """A dialogue that edits one image turn by turn, for page or notebook.

    Chen et al., "Language-Based Image Editing with Recurrent Attentive
    Models", CVPR 2018, close with "a dialogue-based image editing system
    that allows users to edit images interactively". Here a dialogue keeps
    a *description*, the sentences said so far, and each turn
    (`say(text)`) adds its sentences and edits the **source** image anew
    with the whole description (never the previous result), so that:

    - a later sentence may refer to a shape an earlier one named:
      "The circle is red." then "The shape below the circle is blue.";
    - "it" refers to the subject of the sentence before it and is replaced
      by it before the model reads the sentence: "The circle is red." then
      "The shape below it is blue." reads "The shape below the circle is
      blue.";
    - **a later sentence about the same shape wins**: a sentence's
      subject is its words before the first "is" or "are" ("the circle",
      "the shape below the circle"), compared lower-case; a new sentence
      removes every earlier sentence with its subject and is appended at
      the end. "The circle is red." then "The circle is yellow." leaves
      "The circle is yellow." alone in the description, so the model never
      reads two colours for one shape (what it would do with both is
      undefined). Sentences without "is"/"are" ("This flower has white
      petals.") replace nothing.

    A turn that breaks a rule raises `ValueError` and leaves the dialogue
    as it was: an empty or wordless text, one longer than
    `MAX_TURN_CHARACTERS`, an "it" with nothing before it, or a description
    beyond what the model reads (a segmenter's `max_sentences` sentences of
    `max_words` words; a colorizer's `max_words` words), which the
    tokenizer would otherwise truncate silently. Words outside the model's
    vocabulary are allowed and listed in `Turn.unknown_words`.

    Works the same for segmenters and colorizers (each turn is
    `keras_lbie.studio.edit_image.edit_image`, as `lbie edit` does it: the
    source at its own size, resized for the model and back).

    Args:
        model: an `LBIESegmenter` or an `LBIEColorizer`.
        image: uint8 numpy array, RGB `(height, width, 3)` or gray
            `(height, width)` or `(height, width, 1)`, of any size.

    Example:
    >>> session = EditSession(LBIESegmenter.from_preset("cosal"), image)
    >>> turn = session.say("The circle is red.")
    >>> turn = session.say("The shape below it is blue.")
    >>> session.description
    'The circle is red. The shape below the circle is blue.'
    >>> session.say("The circle is yellow.").replaced
    ('The circle is red.',)
    >>> session.undo()  # back to the second turn
    >>> session.image.shape == image.shape
    True
    """

    def __init__(self, model, image):
        self.model = _check_model(model)
        self.source = _check_image(image)
        self._turns = []

    @property
    def history(self):
        """tuple of `Turn`, oldest first."""
        return tuple(self._turns)

    @property
    def image(self):
        """The current image: the last turn's, or the source before any."""
        return self._turns[-1].image if self._turns else self.source

    @property
    def sentences(self):
        """tuple of str, the description's sentences after the last turn."""
        return self._turns[-1].sentences if self._turns else ()

    @property
    def description(self):
        """str, the description the model reads."""
        return " ".join(self.sentences)

    def say(self, text):
        """Adds the sentences of `text` and edits the source image.

        Args:
            text: str, one or more sentences.

        Returns:
            The new `Turn`, also the last of `history`.

        Raises:
            TypeError: `text` is not a str.
            ValueError: a rule of the class docstring is broken; the
                dialogue is unchanged.
        """
        added, replaced, sentences = self._next_description(text)
        result = edit_image(self.model, self.source, " ".join(sentences))
        turn = Turn(
            text=text,
            added=tuple(added),
            replaced=tuple(replaced),
            sentences=tuple(sentences),
            unknown_words=self._unknown_words(added),
            image=result["image"],
            units=tuple(result["units"]),
            attention=result["attention"],
            stop_step=result["stop_step"],
            attended=attended_by_region(
                result["attention"], result["stop_step"]
            ),
            seconds=result["seconds"],
        )
        self._turns.append(turn)
        return turn

    def undo(self):
        """Removes the last turn and returns it.

        Raises:
            ValueError: there is no turn.
        """
        if not self._turns:
            raise ValueError("there is no turn to undo.")
        return self._turns.pop()

    def reset(self, image=None):
        """Forgets every turn; with `image`, edits that image from now on."""
        if image is not None:
            self.source = _check_image(image)
        self._turns = []

    def _next_description(self, text):
        """`(added, replaced, sentences)` after `text`; see the class."""
        sentences = list(self.sentences)
        added, replaced = [], []
        for sentence in split_sentences(_check_text(text)):
            sentence = _resolve_pronoun(sentence, sentences)
            subject = _subject(sentence)
            if subject is not None:
                replaced += [s for s in sentences if _subject(s) == subject]
                sentences = [s for s in sentences if _subject(s) != subject]
            sentences.append(sentence)
            added.append(sentence)
        self._check_length(sentences)
        return added, [s for s in replaced if s not in added], sentences

    def _check_length(self, sentences):
        from keras_lbie.models import LBIEColorizer

        max_words = self.model.tokenizer.max_words
        if isinstance(self.model, LBIEColorizer):
            num_words = sum(len(_words(s)) for s in sentences)
            if num_words > max_words:
                raise ValueError(
                    f"the description would have {num_words} words; the "
                    f"model reads at most {max_words}: undo or reset."
                )
            return
        max_sentences = self.model.tokenizer.max_sentences
        if len(sentences) > max_sentences:
            raise ValueError(
                f"the description would have {len(sentences)} sentences; "
                f"the model reads at most {max_sentences}: undo a turn, "
                "reset, or say a shape's colour again (the later sentence "
                "replaces the earlier one)."
            )
        for sentence in sentences:
            if len(_words(sentence)) > max_words:
                raise ValueError(
                    f'"{sentence}" has {len(_words(sentence))} words; the '
                    f"model reads at most {max_words} a sentence."
                )

    def _unknown_words(self, sentences):
        vocabulary = set(self.model.tokenizer.vocabulary)
        words = (w for s in sentences for w in _words(s))
        return tuple(dict.fromkeys(w for w in words if w not in vocabulary))


def split_sentences(text):
    """The sentences of `text`: ended by '.', '!' or '?' (or the text's
    end), stripped, spaces collapsed, capitalised, with a full stop added
    where none ends them; wordless ones are dropped."""
    sentences = []
    for part in _SENTENCE_END.split(text):
        sentence = " ".join(part.split())
        if not _words(sentence):
            continue
        if sentence[-1] not in ".!?":
            sentence += "."
        sentences.append(sentence[0].upper() + sentence[1:])
    return sentences


def _check_text(text):
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a str. Received: {type(text)}")
    if not text.strip():
        raise ValueError(
            'the sentence is empty: say how to colour the image, e.g. "The '
            'circle is red."'
        )
    if len(text) > MAX_TURN_CHARACTERS:
        raise ValueError(
            f"the text is {len(text)} characters long; a turn takes at most "
            f"{MAX_TURN_CHARACTERS}: say it in several turns."
        )
    if not _words(text):
        raise ValueError(f"{text!r} has no words.")
    return text


def _words(sentence):
    return _WORD.findall(sentence.lower())


def _subject(sentence):
    """The words before the first "is"/"are", as a tuple; None if none."""
    words = _words(sentence)
    for index, word in enumerate(words):
        if word in _COPULAS:
            return tuple(words[:index]) or None
    return None


def _resolve_pronoun(sentence, earlier):
    """`sentence` with "it" replaced by the subject of the last sentence."""
    if not _PRONOUN.search(sentence):
        return sentence
    antecedent = _subject(earlier[-1]) if earlier else None
    if antecedent is None:
        raise ValueError(
            f'"it" in "{sentence}" refers to nothing said before: name the '
            'shape, e.g. "The shape below the circle is blue."'
        )
    sentence = _PRONOUN.sub(" ".join(antecedent), sentence)
    return sentence[0].upper() + sentence[1:]


def _check_model(model):
    from keras_lbie.models import LBIEColorizer
    from keras_lbie.models import LBIESegmenter

    if not isinstance(model, (LBIESegmenter, LBIEColorizer)):
        raise TypeError(
            "`model` must be an LBIESegmenter or an LBIEColorizer. "
            f"Received: {type(model).__name__}"
        )
    return model


def _check_image(image):
    """`image` as uint8 RGB `(height, width, 3)`."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TypeError(
            f"`image` must be a uint8 array. Received dtype: {image.dtype}"
        )
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.ndim != 3 or image.shape[-1] != 3 or 0 in image.shape:
        raise ValueError(
            "`image` must be RGB (height, width, 3) or gray (height, width) "
            f"or (height, width, 1). Received shape: {image.shape}"
        )
    return image
