"""keras_lbie.tokenizers: in-graph text tokenization for raw-string inputs."""

from keras_lbie.tokenizers.sentence_tokenizer import SentenceTokenizer
from keras_lbie.tokenizers.sentence_tokenizer import cosal_vocabulary

__all__ = ["SentenceTokenizer", "cosal_vocabulary"]
