"""Named configurations of `LBIEColorizer` and its GAN, in one place.

Each preset maps a name to:

- `"description"`: one line for `LBIEColorizer.available_presets()`;
- `"config"`: `LBIEColorizerBackbone` arguments except `vocabulary_size`,
  which comes from the tokenizer;
- `"discriminator"`: `TextConditionedDiscriminator` arguments except
  `vocabulary_size`, `image_size` and `max_words`, which are the
  generator's (`LBIEColorizerGAN.from_preset` builds both);
- `"vocabulary"`: a function returning the default vocabulary of the
  preset's `CaptionTokenizer` (pass `vocabulary=` to `from_preset` to
  replace it, e.g. `build_vocabulary(training_captions)`);
- `"weights"`: None (random initialisation), or the file name of the
  backbone's weights inside `keras_lbie/models/weights/`.
"""

from keras_lbie.datasets import cosal
from keras_lbie.models.lbie_colorizer.lbie_colorizer_backbone import (
    PAPER_ENCODER_FILTERS,
)
from keras_lbie.models.lbie_colorizer.lbie_colorizer_backbone import (
    PAPER_ENCODER_STRIDES,
)

# A stand-in vocabulary for flower captions (Reed et al.'s `text_c10`
# captions of Oxford-102): colours, flower parts, shapes and the function
# words of such captions, so the preset builds and colourises "The flower
# is red in color" without the data set. Train with the vocabulary of the
# training captions instead: `build_vocabulary(captions, max_size=...)`.
_FLOWER_WORD_GROUPS = (
    # Colours and colour modifiers.
    "white yellow orange red pink purple violet lavender blue green black "
    "brown maroon magenta burgundy crimson lilac cream gold golden silver "
    "grey gray peach salmon tan lime fuchsia scarlet dark light pale bright "
    "deep vibrant pastel colored coloured color colour colors colours "
    "multicolored",
    # Flower parts.
    "flower flowers petal petals stamen stamens pistil pistils anther "
    "anthers filament filaments stigma stigmas style ovary sepal sepals "
    "center centre middle leaf leaves stem stems receptacle pollen tube bud "
    "buds",
    # Shapes, textures and patterns.
    "round rounded oval pointed pointy long short wide thin thick large "
    "small big tiny ruffled wavy smooth curled curved flat layered lines "
    "line stripes striped spots spotted dots dotted veins patches edges "
    "edge tips tip shaped shape bell star trumpet heart cup ball cluster "
    "clustered bunch densely many several few layer layers rows row",
    # Function words of the captions.
    "a an the this that these those it its is are has have with and or of "
    "in on at to from as by which very some all each other one two three "
    "four five six more most inner outer top bottom base near around along "
    "toward towards into over under there",
)
FLOWER_WORDS = tuple(sorted(set(" ".join(_FLOWER_WORD_GROUPS).split())))


def flower_vocabulary():
    """Returns `FLOWER_WORDS` as a list: the `flowers_paper` default."""
    return list(FLOWER_WORDS)


# The paper's Oxford-102 model (Chen et al., CVPR 2018, Section 4.3): a
# 15-layer encoder for 256×256 (similar to Zhang et al.'s colorization
# network; 16×16×512), a BiLSTM of 512 units, attention 128, GRU 128,
# T = 1, and a decoder of 2 deconvolutions each followed by 2 convolutions
# back to 256×256×2. The embedding size and the caption length are ours.
_FLOWERS_PAPER = {
    "image_size": 256,
    "encoder_filters": PAPER_ENCODER_FILTERS,
    "encoder_strides": PAPER_ENCODER_STRIDES,
    "embedding_dim": 300,
    "text_units": 512,
    "fusion_units": 128,
    "attention_units": 128,
    "max_steps": 1,
    "termination_mode": "gumbel",
    "temperature": 1.0,
    "decoder_filters": (128, 64),
    "decoder_strides": (4, 4),
    "max_words": 32,
    "seed": None,
}

PRESETS = {
    "flowers_paper": {
        "description": (
            "The paper's Oxford-102 colorizer (Section 4.3): 15-layer "
            "encoder at 256 px, BiLSTM 512, attention 128, GRU 128, T=1, "
            "2 deconvolution + 2 convolution blocks; 5-layer stride-2 "
            "discriminator 256-128-64-32-1 with caption attention."
        ),
        "config": _FLOWERS_PAPER,
        # Section 4.3's five stride-2 layers; text sizes are ours.
        "discriminator": {
            "filters": (256, 128, 64, 32, 1),
            "kernel_size": 4,
            "embedding_dim": 128,
            "text_units": 128,
            "attention_units": 128,
        },
        "vocabulary": flower_vocabulary,
        "weights": None,
    },
    "cosal_colorizer": {
        "description": (
            "A small colorizer for CoSaL at 48 px (CPU demos and tests): "
            "16-16-32-32-64-64 encoder (stride 8), BiLSTM 32 over the "
            "paragraph's words, attention and GRU 32, T=1; discriminator "
            "64-32-16-16-1. Ships weights trained on CoSaL colorization "
            "(results/cosal_colorization.md)."
        ),
        "config": {
            "image_size": 48,
            "encoder_filters": (16, 16, 32, 32, 64, 64),
            "encoder_strides": (1, 2, 1, 2, 1, 2),
            "embedding_dim": 32,
            "text_units": 32,
            "fusion_units": 32,
            "attention_units": 32,
            "max_steps": 1,
            "termination_mode": "gumbel",
            "temperature": 1.0,
            "decoder_filters": (32, 16),
            "decoder_strides": (2, 4),
            # CoSaL paragraphs have at most 72 words.
            "max_words": 80,
            "seed": None,
        },
        "discriminator": {
            "filters": (64, 32, 16, 16, 1),
            "kernel_size": 4,
            "embedding_dim": 16,
            "text_units": 16,
            "attention_units": 16,
        },
        "vocabulary": cosal.vocabulary,
        # examples/cosal_colorization_report.py --ship; trained with
        # max_words 56, which changes nothing here (padding is masked).
        "weights": "cosal_colorizer.weights.h5",
    },
}
