"""Quickstart: build an LBIE segmenter from keras_lbie layers and train it.

Generates CoSaL data (paper Section 4.1), builds the paper's CoSaL model
(six-conv image encoder, hierarchical sentence encoder, recurrent attentive
fusion with termination gates, 1x1 classifier, bilinear upsampling) from the
package's layers, trains it briefly, and prints the paper's region IoU and
which sentence each fusion step attends to.

    python examples/quickstart.py [--train 5000] [--epochs 4] [--steps 2]

A few minutes on 2 CPU cores. The text is tokenised in Python here; the
packaged segmenter does it in-graph.
"""

import argparse
import re

import keras
import numpy as np
from keras import ops

from keras_lbie import layers
from keras_lbie.callbacks.gumbel_temperature_scheduler import (
    GumbelTemperatureScheduler,
)
from keras_lbie.datasets import cosal
from keras_lbie.metrics import ColorMeanIoU
from keras_lbie.metrics import CoSaLRegionIoU

MAX_WORDS = 8


def build_vocabulary():
    words = set("the shape is above below left right of".split())
    for name in cosal.SHAPE_NAMES + cosal.COLOR_NAMES:
        words.update(name.split())
    # 0 is padding, 1 an unknown word.
    return {word: i + 2 for i, word in enumerate(sorted(words))}


def tokenize(texts, vocabulary, max_sentences=9):
    ids = np.zeros((len(texts), max_sentences, MAX_WORDS), "int32")
    for i, text in enumerate(texts):
        sentences = [s for s in re.split(r"[.!?]", text.lower()) if s.strip()]
        for j, sentence in enumerate(sentences[:max_sentences]):
            words = sentence.split()[:MAX_WORDS]
            ids[i, j, : len(words)] = [vocabulary.get(w, 1) for w in words]
    return ids


def build_model(vocabulary_size, image_size, max_steps):
    image = keras.Input((image_size, image_size, 3), name="image")
    tokens = keras.Input((None, MAX_WORDS), dtype="int32", name="text")
    x = keras.layers.Rescaling(1 / 255.0)(image)
    for i, filters in enumerate((4, 4, 8, 8, 16, 16)):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(
            x
        )
        if i % 2:
            x = keras.layers.MaxPooling2D()(x)
    sentences = layers.HierarchicalTextEncoder(
        vocabulary_size, embedding_dim=16, word_units=16, sentence_units=16
    )(tokens)
    sentence_mask = ops.any(ops.not_equal(tokens, 0), axis=-1)
    details = layers.ConvGRUFusion(
        16, max_steps=max_steps, attention_units=16, seed=0
    )(x, sentences, text_mask=sentence_mask, return_details=True)
    x = keras.layers.Conv2D(16, 1, activation="relu")(details["fusion"])
    x = keras.layers.Conv2D(cosal.NUM_CLASSES, 1)(x)
    logits = layers.BilinearUpsampling(8)(x)
    inputs = {"image": image, "text": tokens}
    # Shares every layer with the segmenter: shows what it attends to.
    probe = keras.Model(inputs, [details["attention"], details["stop_step"]])
    return keras.Model(inputs, logits), probe


def print_attention(probe, inputs, text):
    """Per step, the sentence with the most attention over all regions."""
    attention, stop_step = probe.predict(inputs, verbose=0)
    sentences = [s.strip() + "." for s in text.split(".") if s.strip()]
    print(f"\nDescription: {text}")
    for step, weights in enumerate(attention[0]):
        per_sentence = weights.mean(axis=(0, 1))
        best = int(np.argmax(per_sentence))
        print(
            f"  step {step + 1}: attends most to sentence {best + 1} "
            f"({per_sentence[best]:.2f}): {sentences[best]!r}"
        )
    steps, counts = np.unique(stop_step[0] + 1, return_counts=True)
    print(
        "  regions stopping at each step: "
        + ", ".join(
            f"step {s}: {c}" for s, c in zip(steps, counts, strict=True)
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", type=int, default=5000)
    parser.add_argument("--test", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=2, help="max steps T")
    parser.add_argument("--num-direct", type=int, default=8)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)

    train = cosal.generate(args.train, num_direct=args.num_direct, seed=0)
    test = cosal.generate(args.test, num_direct=args.num_direct, seed=1)
    vocabulary = build_vocabulary()
    model, probe = build_model(len(vocabulary) + 2, 48, args.steps)
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(
        {"image": train["image"], "text": tokenize(train["text"], vocabulary)},
        train["label"],
        batch_size=32,
        epochs=args.epochs,
        callbacks=[GumbelTemperatureScheduler()],
    )

    test_inputs = {
        "image": test["image"],
        "text": tokenize(test["text"], vocabulary),
    }
    logits = model.predict(test_inputs, batch_size=64, verbose=0)
    packed = np.stack([test["label"], test["shape_map"]], axis=-1)
    region_iou, color_iou = CoSaLRegionIoU(), ColorMeanIoU()
    region_iou.update_state(packed, logits)
    color_iou.update_state(test["label"], logits)
    mean_region_iou = float(region_iou.result()["cosal_region_iou"])
    print(f"\nRegion IoU (paper's metric): {mean_region_iou:.4f}")
    print(f"Colour mean IoU:             {float(color_iou.result()):.4f}")
    first = {name: value[:1] for name, value in test_inputs.items()}
    print_attention(probe, first, str(test["text"][0]))


if __name__ == "__main__":
    main()
