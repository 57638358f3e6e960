"""keras_lbie.tokenizers: in-graph text tokenization for raw-string inputs.

`cosal_vocabulary` is `keras_lbie.datasets.cosal.vocabulary`, the words of
the CoSaL generator, kept here by name for existing code; it loads on first
use, so that this package imports nothing above it.
"""

from keras_lbie.tokenizers.caption_tokenizer import CaptionTokenizer
from keras_lbie.tokenizers.caption_tokenizer import build_vocabulary
from keras_lbie.tokenizers.referit_tokenizer import ReferItTokenizer
from keras_lbie.tokenizers.referit_tokenizer import load_vocabulary
from keras_lbie.tokenizers.sentence_tokenizer import SentenceTokenizer

__all__ = [
    "CaptionTokenizer",
    "ReferItTokenizer",
    "SentenceTokenizer",
    "build_vocabulary",
    "cosal_vocabulary",
    "load_vocabulary",
]


def __getattr__(name):
    if name == "cosal_vocabulary":
        from keras_lbie.datasets.cosal import vocabulary

        return vocabulary
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
