"""One turn of an `EditSession` dialogue."""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class Turn:
    """What one `EditSession.say` said and what the model made of it.

    Attributes:
        text: str, what the user said (one or more sentences).
        added: tuple of str, the sentences the turn added to the
            description, as the model read them ("it" resolved, see
            `EditSession`).
        replaced: tuple of str, earlier sentences about the same shapes,
            which the turn removed.
        sentences: tuple of str, the whole description after the turn.
        unknown_words: tuple of str, words of `added` outside the model's
            vocabulary (the model reads each as one unknown-word token).
        image: uint8 numpy array `(height, width, 3)`, the source image
            edited by the whole description, at the source's size.
        units: tuple of str, what the model's attention is over, as its
            tokenizer read them: the sentences (segmenter) or the words
            (colorizer) of the description.
        attention: float32 numpy array `(T, M, N, len(units))`, each
            region's attention over the units at each step.
        stop_step: int32 numpy array `(M, N)`, the 0-based step at which
            each region stopped.
        attended: int32 numpy array `(T, M, N)`, the unit each region
            attended to most at each step, -1 once it had stopped
            (`keras_lbie.visualize.attended_by_region`).
        seconds: float, the time the model took for the turn.
    """

    text: str
    added: tuple
    replaced: tuple
    sentences: tuple
    unknown_words: tuple
    image: np.ndarray
    units: tuple
    attention: np.ndarray
    stop_step: np.ndarray
    attended: np.ndarray
    seconds: float

    @property
    def description(self):
        """str, the description the model read: the sentences joined."""
        return " ".join(self.sentences)
