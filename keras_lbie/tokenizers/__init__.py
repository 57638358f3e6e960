"""keras_lbie.tokenizers: in-graph text tokenization for raw-string inputs."""

from keras_lbie.tokenizers.caption_tokenizer import CaptionTokenizer
from keras_lbie.tokenizers.caption_tokenizer import build_vocabulary
from keras_lbie.tokenizers.referit_tokenizer import ReferItTokenizer
from keras_lbie.tokenizers.referit_tokenizer import load_vocabulary
from keras_lbie.tokenizers.sentence_tokenizer import SentenceTokenizer
from keras_lbie.tokenizers.sentence_tokenizer import cosal_vocabulary

__all__ = [
    "CaptionTokenizer",
    "ReferItTokenizer",
    "SentenceTokenizer",
    "build_vocabulary",
    "cosal_vocabulary",
    "load_vocabulary",
]
