"""Named configurations of `ReferItSegmenter`, in one place.

Each preset maps a name to:

- `"description"`: one line for `ReferItSegmenter.available_presets()`;
- `"encoder"`: None for the default VGG-16 encoder of
  `ReferItSegmenterBackbone`, or the arguments of `conv_image_encoder`
  (besides `image_size`, which comes from the config);
- `"config"`: `ReferItSegmenterBackbone` arguments except
  `vocabulary_size` and `image_encoder`; the vocabulary is the caller's
  (`ReferItSegmenter.from_preset(name, vocabulary=...)`), as it belongs to
  the data set;
- `"weights"`: None: no preset ships trained weights yet.

Every preset builds a randomly initialised model (the VGG-16 encoder of
`referit_paper` can start from ImageNet with `encoder_weights="imagenet"`).
"""

# The paper's ReferIt model (Chen et al., CVPR 2018, Section 4.2): VGG-16 on
# 512 × 512 images (pool5, stride 32: a 16 × 16 × 512 map), an LSTM of 1024
# units, attention 512, C-GRU 1024, T = 3, classifier and bilinear
# upsampling, L2 on the parameters. Unstated by the paper, taken from
# text_objseg (Hu et al., ECCV 2016), the ReferIt code the paper compares
# with: word embeddings of 1000, a 500-unit hidden classifier layer, 20
# words per expression and a weight decay of 5e-4.
_REFERIT_PAPER = {
    "image_size": 512,
    "encoder_weights": None,
    "vgg_output_layer": "block5_pool",
    "embedding_dim": 1000,
    "text_units": 1024,
    "fusion_units": 1024,
    "attention_units": 512,
    "max_steps": 3,
    "use_attention": True,
    "termination_mode": "gumbel",
    "temperature": 1.0,
    "classifier_units": 500,
    "l2_weight": 5e-4,
    "sequence_length": 20,
    "seed": None,
    "early_exit": False,
    "relation_kernel_size": None,
}

# A CPU-sized model of the same design for the CoSaL-derived ReferIt folder
# of `keras_lbie.datasets.referit.write_referit_format`: 128-px images, the
# CoSaL encoder doubled (8-8-16-16-32-32, stride 8: a 16 × 16 × 32 map),
# words embedded in 32 dimensions, LSTM 64, attention 32, C-GRU 32, T = 3,
# L2 1e-4 (our guess, not tuned: a lighter penalty than the paper model's
# for a model with far fewer weights). Encoder 16-16-32-32-64-64 and C-GRU
# 64 took 2-3 times longer per training step on 2 CPU cores (3.4-6.0 s
# against 0.9-2.0 s at batch 32, on a busy machine).
_REFERIT_SMALL = {
    "image_size": 128,
    "embedding_dim": 32,
    "text_units": 64,
    "fusion_units": 32,
    "attention_units": 32,
    "max_steps": 3,
    "use_attention": True,
    "termination_mode": "gumbel",
    "temperature": 1.0,
    "classifier_units": 32,
    "l2_weight": 1e-4,
    "sequence_length": 20,
    "seed": None,
    "early_exit": False,
    "relation_kernel_size": None,
}

PRESETS = {
    "referit_paper": {
        "description": (
            "The paper's ReferIt model (Section 4.2): VGG-16 at 512x512, "
            "LSTM 1024, attention 512, C-GRU 1024, T=3, L2 5e-4."
        ),
        "encoder": None,
        "config": _REFERIT_PAPER,
        "weights": None,
    },
    "referit_small": {
        "description": (
            "A CPU-sized ReferIt model: 6-conv encoder at 128x128 (stride "
            "8), LSTM 64, attention 32, C-GRU 32, T=3."
        ),
        "encoder": {
            "encoder_filters": (8, 8, 16, 16, 32, 32),
            "pool_every": 2,
            "spatial_features": False,
        },
        "config": _REFERIT_SMALL,
        "weights": None,
    },
}
