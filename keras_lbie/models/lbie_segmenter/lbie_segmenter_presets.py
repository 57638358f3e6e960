"""Named configurations of `LBIESegmenter`, in one place.

Each preset maps a name to:

- `"description"`: one line for `LBIESegmenter.available_presets()`;
- `"config"`: `LBIESegmenterBackbone` arguments except `vocabulary_size`,
  which comes from the tokenizer (`SentenceTokenizer(vocabulary(),
  max_sentences, max_words)`);
- `"vocabulary"`: a function returning the tokenizer's words (the CoSaL
  generator's for every preset here);
- `"weights"`: None (random initialisation), or the file name of the
  backbone's weights inside `keras_lbie/models/weights/`, written with
  `segmenter.backbone.save_weights(
  "keras_lbie/models/weights/<name>.weights.h5")`.
  Weights ship inside the package: loading never touches the network.
"""

from keras_lbie.datasets import cosal

# The paper's CoSaL model (Chen et al., CVPR 2018, Section 4.1): six 3x3
# convolutions 4,4,8,8,16,16 with a 2x2 max pooling after every two (48 px →
# 6×6×16), a shared BiLSTM (16) per sentence and an LSTM (16) over the
# sentences, attention 16, C-GRU 16, a linear termination gate, 1x1
# classifier convolutions 16 then 7, and a kernel-16 stride-8 bilinear
# deconvolution back to 48×48; T = 4 steps with attention, trained with the
# Gumbel-softmax gates.
_COSAL_PAPER = {
    "image_size": 48,
    "encoder_filters": (4, 4, 8, 8, 16, 16),
    "pool_every": 2,
    "embedding_dim": 16,
    "word_units": 16,
    "sentence_units": 16,
    "fusion_units": 16,
    "attention_units": 16,
    "max_steps": 4,
    "use_attention": True,
    "termination_mode": "gumbel",
    "temperature": 1.0,
    "classifier_units": 16,
    "num_classes": 7,
    "max_sentences": 9,
    "max_words": 11,
    "seed": None,
    "early_exit": False,
    "relation_kernel_size": None,
}

PRESETS = {
    "cosal_paper": {
        "description": (
            "The paper's CoSaL model (Section 4.1): 4-4-8-8-16-16 encoder, "
            "16-unit text encoder, attention and C-GRU, T=4, Gumbel gates."
        ),
        "config": _COSAL_PAPER,
        "vocabulary": cosal.vocabulary,
        "weights": None,
    },
    "cosal": {
        "description": (
            "A wider CoSaL model with relational attention: "
            "8-8-16-16-32-32 encoder, 32-unit text encoder, "
            "RelationalTextAttention (reach 5), C-GRU and classifier, T=4, "
            "Gumbel gates; trained weights (num_direct 4, 6 and 8 "
            "together, augmented)."
        ),
        "config": {
            **_COSAL_PAPER,
            "encoder_filters": (8, 8, 16, 16, 32, 32),
            "embedding_dim": 32,
            "word_units": 32,
            "sentence_units": 32,
            "fusion_units": 32,
            "attention_units": 32,
            "classifier_units": 32,
            "relation_kernel_size": 5,
        },
        "vocabulary": cosal.vocabulary,
        "weights": "cosal.weights.h5",
    },
}
