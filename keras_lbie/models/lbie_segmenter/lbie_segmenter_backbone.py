import keras
from keras import ops

from keras_lbie.layers.hierarchical_text_encoder import HierarchicalTextEncoder
from keras_lbie.models.image_segmenter_backbone import ImageSegmenterBackbone
from keras_lbie.models.image_segmenter_backbone import conv_encoder_layers
from keras_lbie.utils.validation import check_positive_int
from keras_lbie.utils.validation import check_positive_ints


@keras.saving.register_keras_serializable(package="keras_lbie")
class LBIESegmenterBackbone(ImageSegmenterBackbone):
    """The paper's language-based segmentation network, on token ids.

    Chen et al., "Language-Based Image Editing with Recurrent Attentive
    Models", CVPR 2018, Sections 3 and 4.1. A functional model:

    1. image encoder: the image is rescaled by 1/255 in the graph, then
       `len(encoder_filters)` 3x3 "same" convolutions with ReLU, a 2x2 max
       pooling after every `pool_every` of them (48 px → 6×6×16 for the
       paper), giving V `(batch, M, N, D)`;
    2. text encoder: `HierarchicalTextEncoder` (shared word BiLSTM per
       sentence, then an LSTM over the sentences), giving U
       `(batch, max_sentences, sentence_units)`;
    3. fusion: `ConvGRUFusion` (Algorithm 1: attention, C-GRU and
       termination gates, `max_steps` steps) over V and U, attending only to
       sentences with at least one non-padding token;
    4. decoder: a 1x1 convolution with `classifier_units` and ReLU, a 1x1
       convolution to `num_classes`, and `BilinearUpsampling` by the encoder
       stride `2 ** (len(encoder_filters) // pool_every)` (kernel twice the
       stride: the paper's kernel-16 stride-8 deconvolution).

    With `use_attention=False` (and `max_steps=1`) it is the paper's
    concatenation baseline: the classifier reads [V, u_L].

    Training: `compile` without a `loss` (or `loss=None`) to train the
    model's own objective, chosen by `termination_mode`:

    - `"gumbel"` (the paper; also any one-step model): the mean pixel-wise
      softmax cross-entropy of `"logits"`, where training mixes the steps
      with a Gumbel-softmax sample;
    - `"expected"` (the authors' released code): the mean over pixels of
      `keras_lbie.losses.expected_step_cross_entropy` on `"step_logits"` and
      `"log_stop_probabilities"`, -log sum_t beta_t p_t(y).

    Both are reduced by `keras.losses.Loss`, so they are scaled correctly
    under `tf.distribute` strategies, and honour `sample_weight` (a scalar,
    `(batch,)` or `(batch, H, W)`). A loss passed to `compile` replaces the
    objective and is applied to `"logits"` and the class map. Compiled
    metrics also receive `"logits"`, with `y` as given (so
    `CoSaLRegionIoU` gets the packed target). `y` may be the class map
    `(batch, H, W)` or the packed `(batch, H, W, 2)` `[label, shape_map]`
    of `cosal.as_dataset(..., with_shape_map=True)`; losses use channel 0.

    Args:
        vocabulary_size: positive int, the number of token ids (the
            tokenizer's `vocabulary_size`; id 0 is padding).
        image_size: positive int, the height and width of input images;
            must be divisible by the encoder stride.
        encoder_filters: sequence of positive ints, the channels of each
            3x3 convolution of the image encoder.
        pool_every: positive int, a 2x2 max pooling follows every
            `pool_every` convolutions.
        embedding_dim: positive int, the word embedding size.
        word_units: positive int, units per direction of the word BiLSTM.
        sentence_units: positive int, units of the sentence LSTM.
        fusion_units: positive int, channels of the C-GRU state ("GRU
            units"). A 1x1 convolution projects V when it has a different
            channel count.
        attention_units: positive int, rank of the attention's bilinear form.
        max_steps: positive int, the number of fusion steps T.
        use_attention: bool, False gives the concatenation baseline (needs
            `max_steps=1`).
        termination_mode: `"gumbel"` or `"expected"`, see above and
            `TerminationGate`.
        temperature: positive float, the initial Gumbel-softmax temperature
            (anneal it with `GumbelTemperatureScheduler`).
        classifier_units: positive int, channels of the hidden 1x1
            convolution of the classifier.
        num_classes: positive int, the number of classes (7 for CoSaL).
        max_sentences: positive int, sentences per example in `token_ids`.
        max_words: positive int, words per sentence in `token_ids`.
        seed: optional int, seeds the Gumbel noise.
        early_exit: bool, an inference option: stop the fusion loop once
            every region has decided its stopping step (see
            `ConvGRUFusion`); `"logits"` and `"stop_step"` are unchanged,
            the per-step outputs of steps that did not run are zero (their
            `"log_stop_probabilities"` are `-inf`).
        relation_kernel_size: None for the paper's attention, or an odd
            int: attend with `RelationalTextAttention` of that reach in
            regions, its `word_features` each sentence's sum of word
            embeddings (a separate `embedding_dim` table,
            "word_bag_embedding").
        **kwargs: standard model arguments (`name`, ...).

    Inputs:
        A dict with `"image"` float32 `(batch, image_size, image_size, 3)`
        with values in [0, 255] (uint8 arrays are converted), and
        `"token_ids"` int32 `(batch, max_sentences, max_words)` from a
        `SentenceTokenizer`, 0 for padding.

    Outputs:
        A dict with `"logits"` `(batch, H, W, num_classes)`;
        `"step_logits"` `(batch, T, H, W, num_classes)`, the decoder applied
        to each step's output; `"log_stop_probabilities"` float32
        `(batch, T, H, W)`, log beta of each region repeated over its pixels
        (nearest-neighbour); `"attention"` `(batch, T, M, N,
        max_sentences)`, each region's attention over the sentences per
        step (zero on padding sentences); `"stop_step"` int32
        `(batch, M, N)`, the 0-based argmax stop step of each region. With
        `training=False` `"logits"` comes from each region's argmax step;
        in training from the Gumbel sample (`"gumbel"`) or the beta-weighted
        mean of the steps' outputs (`"expected"`).

    Example:
    >>> backbone = LBIESegmenterBackbone(vocabulary_size=26)
    >>> outputs = backbone({
    ...     "image": np.zeros((2, 48, 48, 3), "uint8"),
    ...     "token_ids": np.ones((2, 9, 11), "int32"),
    ... })
    >>> outputs["logits"].shape
    TensorShape([2, 48, 48, 7])
    """

    def __init__(
        self,
        vocabulary_size,
        image_size=48,
        encoder_filters=(4, 4, 8, 8, 16, 16),
        pool_every=2,
        embedding_dim=16,
        word_units=16,
        sentence_units=16,
        fusion_units=16,
        attention_units=16,
        max_steps=4,
        use_attention=True,
        termination_mode="gumbel",
        temperature=1.0,
        classifier_units=16,
        num_classes=7,
        max_sentences=9,
        max_words=11,
        seed=None,
        early_exit=False,
        relation_kernel_size=None,
        **kwargs,
    ):
        use_attention, early_exit = (
            ImageSegmenterBackbone.check_shared_arguments(locals())
        )
        for name, value in (
            ("pool_every", pool_every),
            ("embedding_dim", embedding_dim),
            ("word_units", word_units),
            ("sentence_units", sentence_units),
            ("num_classes", num_classes),
            ("max_sentences", max_sentences),
            ("max_words", max_words),
        ):
            check_positive_int(value, name)
        encoder_filters = check_positive_ints(
            encoder_filters, "encoder_filters"
        )
        num_pools = len(encoder_filters) // pool_every
        factor = 2**num_pools
        if image_size % factor:
            raise ValueError(
                f"`image_size` must be divisible by the encoder stride "
                f"{factor} (2 ** {num_pools} poolings). Received: {image_size}"
            )

        rescaling = keras.layers.Rescaling(1 / 255.0, name="image_rescaling")
        encoder = conv_encoder_layers(encoder_filters, pool_every)
        text_encoder = HierarchicalTextEncoder(
            vocabulary_size,
            embedding_dim=embedding_dim,
            word_units=word_units,
            sentence_units=sentence_units,
            name="text_encoder",
        )

        def encode_image(image):
            x = rescaling(image)
            for layer in encoder:
                x = layer(x)
            return x, factor

        # The relational attention matches regions against the words a
        # sentence holds, read one at a time (see RelationalTextAttention).
        word_embedding = None
        if relation_kernel_size is not None:
            word_embedding = keras.layers.Embedding(
                vocabulary_size, embedding_dim, name="word_bag_embedding"
            )

        def encode_text(token_ids):
            sentences = text_encoder(token_ids)
            # A sentence is attended to when it holds a word.
            words = ops.not_equal(token_ids, 0)
            mask = ops.any(words, axis=-1)
            if word_embedding is None:
                return sentences, mask
            bags = ops.sum(
                word_embedding(token_ids)
                * ops.cast(words, word_embedding.compute_dtype)[..., None],
                axis=2,
            )
            return sentences, mask, bags

        super().__init__(
            token_ids_shape=(max_sentences, max_words),
            encode_image=encode_image,
            encode_text=encode_text,
            num_classes=num_classes,
            **self.shared_arguments(locals()),
            **kwargs,
        )
        self.store_arguments(locals())

    def token_id_sizes(self):
        sizes = {
            "max_sentences": self.max_sentences,
            "max_words": self.max_words,
        }
        return sizes, "token ids from a SentenceTokenizer"
