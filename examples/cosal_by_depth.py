"""How well trained CoSaL models follow relational sentences, by depth.

    python examples/cosal_by_depth.py

A tile's depth is 0 when a direct sentence ("The circle is red.") gives its
colour, and d + 1 when a relational one ("The shape below the circle is
blue.") names it from a tile of depth d. For the first `--examples` test
examples of each setting (the test split `train_cosal` scores), the script
reports, per depth, the share of each shape's pixels given the right colour.
Beside it is what a model gets by knowing which colours the relational
sentences mention but not which tile each one is about: the chance that a
colour drawn from those sentences is the tile's.

Scored models: the shipped `cosal` preset on every setting, and each Table 2
cell whose weights are committed beside its results
(`results/cosal_table2/<cell>.weights.h5`, the num_direct=4 cells, where
most tiles are described relationally). Writes `results/cosal_by_depth.md`.

Any `examples/train_cosal.py` run, or one of its epoch checkpoints, can be
scored instead (each `--run` is `label=output_dir` or
`label=output_dir@epoch`; the run's `results.json` gives the model):

    python examples/cosal_by_depth.py \
        --run "paper encoder=runs/table2/t1_attention_nd4@4" \
        --run "9-conv encoder=runs/rf_t1_nd4" \
        --output results/cosal_receptive_field.md
"""

import sys

from keras_lbie.utils.tensorflow_logs import add_verbose_argument
from keras_lbie.utils.tensorflow_logs import quiet_tensorflow_logs

if __name__ == "__main__":
    # Before TensorFlow loads: hide its log lines unless --verbose.
    quiet_tensorflow_logs(sys.argv[1:])

import argparse
import json
import os
import re
import shlex

import cosal_table2
import numpy as np
import tensorflow as tf

from keras_lbie.datasets import cosal
from keras_lbie.models import LBIESegmenter
from keras_lbie.training import cosal_test_splits

_OFFSETS = {
    "above": (-1, 0),
    "below": (1, 0),
    "left of": (0, -1),
    "right of": (0, 1),
}
_SENTENCE = re.compile(
    r"The (?:shape (above|below|left of|right of) the )?(.+?) is (.+?)\."
)


def tile_depths(text, tile_shapes):
    """Each tile's depth and stated colour, from an example's text.

    Args:
        text: str, the example's sentences as `cosal.generate` writes them,
            in any order.
        tile_shapes: the example's 9 shape ids, row-major.

    Returns:
        `(depths, colours)`: dicts from tile index (row-major) to depth
        and to the colour name its sentence states. Tiles no sentence
        describes are absent.
    """
    grid = cosal.GRID_SIZE
    position = {
        cosal.SHAPE_NAMES[shape - 1]: divmod(tile, grid)
        for tile, shape in enumerate(tile_shapes)
    }
    depths, colours = {}, {}
    pending = _SENTENCE.findall(text)
    # Shuffled sentences may name a tile before its own sentence: resolve
    # in rounds, each placing the sentences whose named tile is known.
    while pending:
        waiting = []
        for relation, shape, colour in pending:
            row, col = position[shape]
            depth = 0
            if relation:
                if row * grid + col not in depths:
                    waiting.append((relation, shape, colour))
                    continue
                depth = depths[row * grid + col] + 1
                row += _OFFSETS[relation][0]
                col += _OFFSETS[relation][1]
            depths[row * grid + col] = depth
            colours[row * grid + col] = colour
        if len(waiting) == len(pending):
            raise ValueError(f"Sentences name undescribed tiles: {text!r}")
        pending = waiting
    return depths, colours


def score_by_depth(predictions, data, stop_steps=None):
    """Per depth: tiles, pixel accuracy, relational-colour chance, steps.

    Args:
        predictions: int array `(N, H, W)` of predicted class ids.
        data: the `cosal.generate` dict the predictions are for.
        stop_steps: optional int array `(N, M, M)`, each region's 1-based
            stop step (`M` divisible by the grid).

    Returns:
        A dict from depth to `(tiles, accuracy, chance, steps)`; `chance`
        is None at depth 0; `steps` is None without `stop_steps`, else the
        share of the depth's tile regions that stopped at step 1, 2, ...
    """
    grid = cosal.GRID_SIZE
    accuracy, chance, steps = {}, {}, {}
    for k, text in enumerate(data["text"]):
        depths, colours = tile_depths(text, data["tile_shapes"][k])
        relational = [c for t, c in colours.items() if depths[t] > 0]
        for tile, shape in enumerate(data["tile_shapes"][k]):
            pixels = data["shape_map"][k] == shape
            right = predictions[k][pixels] == data["label"][k][pixels]
            depth = depths[tile]
            accuracy.setdefault(depth, []).append(right.mean())
            if depth:
                stated = colours[tile]
                chance.setdefault(depth, []).append(
                    relational.count(stated) / len(relational)
                )
            if stop_steps is not None:
                cells = stop_steps.shape[1] // grid
                row, col = divmod(tile, grid)
                steps.setdefault(depth, []).extend(
                    stop_steps[
                        k,
                        row * cells : (row + 1) * cells,
                        col * cells : (col + 1) * cells,
                    ].ravel()
                )
    return {
        depth: (
            len(values),
            float(np.mean(values)),
            float(np.mean(chance[depth])) if depth else None,
            _shares(steps[depth]) if stop_steps is not None else None,
        )
        for depth, values in sorted(accuracy.items())
    }


def _shares(steps):
    """The share of each step 1 .. max(steps) among `steps`."""
    counts = np.bincount(np.asarray(steps) - 1)
    return tuple(float(c) for c in counts / counts.sum())


def predict(segmenter, data, batch_size=100):
    """`(classes (N, H, W), stop_step (N, M, M), 1-based)` of examples."""
    backbone = tf.function(
        lambda x: {
            key: value
            for key, value in segmenter.backbone(x, training=False).items()
            if key in ("logits", "stop_step")
        }
    )
    classes, stops = [], []
    for start in range(0, len(data["text"]), batch_size):
        stop = start + batch_size
        outputs = backbone(
            {
                "image": tf.constant(data["image"][start:stop], "float32"),
                "token_ids": segmenter.tokenizer(
                    tf.constant(list(data["text"][start:stop]))
                ),
            }
        )
        classes.append(np.argmax(outputs["logits"], axis=-1))
        stops.append(outputs["stop_step"].numpy() + 1)
    return np.concatenate(classes), np.concatenate(stops)


def scored_models():
    """`{label: (segmenter, settings)}`: the shipped preset, then every
    Table 2 cell whose weights are committed beside its results."""
    shipped = LBIESegmenter.from_preset("cosal")
    models = {"`cosal` (shipped)": (shipped, cosal_table2.NUM_DIRECT)}
    for row, num_direct in cosal_table2.TRAINING_ORDER:
        path = cosal_table2.result_path(row, num_direct)
        weights = path.replace(".json", ".weights.h5")
        if not os.path.exists(weights):
            continue
        with open(path) as f:
            cell = json.load(f)
        segmenter = LBIESegmenter.from_preset(
            cell["preset"], load_weights=False, **cell["overrides"]
        )
        segmenter.backbone.load_weights(weights)
        label = f"Table 2: {cosal_table2.ROWS[row][0]}"
        models[label] = (segmenter, (num_direct,))
    return models


def run_models(runs):
    """`{label: (segmenter, settings)}` of `--run` values (see module doc).

    Raises:
        ValueError: a value is not `label=output_dir[@epoch]`, or names no
            `results.json` or weights file.
    """
    models = {}
    for value in runs:
        label, _, run = value.rpartition("=")
        output_dir, _, epoch = run.partition("@")
        weights = os.path.join(output_dir, "model.weights.h5")
        if epoch:
            weights = os.path.join(
                output_dir, "checkpoints", f"epoch_{epoch}.weights.h5"
            )
        results = os.path.join(output_dir, "results.json")
        if not label or not all(map(os.path.exists, (results, weights))):
            raise ValueError(
                "`--run` must be label=output_dir or label=output_dir@epoch "
                "of a finished `train_cosal.py` run, with its results.json "
                f"and {os.path.basename(weights)}. Received: {value!r}"
            )
        with open(results) as f:
            run_results = json.load(f)
        segmenter = LBIESegmenter.from_preset(
            run_results["preset"],
            load_weights=False,
            **run_results["overrides"],
        )
        segmenter.backbone.load_weights(weights)
        # One setting is written as an int, several as a list.
        settings = np.atleast_1d(run_results["num_direct"]).tolist()
        models[label] = (segmenter, tuple(settings))
    return models


def table(rows):
    lines = [
        "| model | num_direct | depth | tiles | pixels right | "
        "chance among relational colours | regions stopping at step "
        "1 / 2 / ... |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (label, num_direct), by_depth in rows.items():
        for depth, (tiles, accuracy, chance, steps) in by_depth.items():
            chance = "—" if chance is None else f"{chance:.3f}"
            steps = " / ".join(f"{share:.0%}" for share in steps)
            lines.append(
                f"| {label} | {num_direct} | {depth} | {tiles} | "
                f"{accuracy:.3f} | {chance} | {steps} |"
            )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="results/cosal_by_depth.md")
    parser.add_argument(
        "--run",
        action="append",
        default=[],
        help="label=output_dir[@epoch] of a train_cosal.py run to score "
        "instead of the shipped and Table 2 models (repeatable)",
    )
    add_verbose_argument(parser)
    args = parser.parse_args(argv)
    models = run_models(args.run) if args.run else scored_models()
    rows = {}
    for label, (segmenter, settings) in models.items():
        for split in cosal_test_splits(settings, args.examples, args.seed):
            data = split.generate()
            classes, stop_steps = predict(segmenter, data)
            rows[label, split.num_direct] = score_by_depth(
                classes, data, stop_steps
            )
    text = (
        "# CoSaL: pixels given the right colour, by sentence depth\n\n"
        f"Written by `{_command(argv)}` on the first "
        f"{args.examples} test examples of each setting (seed "
        f"{args.seed + 1}). Depth 0: a direct sentence gives the tile's "
        "colour; depth d + 1: a relational sentence names it from a tile "
        "of depth d. The last column is the score of a model that knows "
        "which colours the relational sentences mention but not which "
        "tile each is about; the last, how many of the depth's tile "
        "regions each termination gate stopped at each step (1 for a "
        "one-step model).\n\n" + table(rows)
    )
    with open(args.output, "w") as f:
        f.write(text)
    print(text)


def _command(argv):
    argv = sys.argv[1:] if argv is None else argv
    return shlex.join(["python", "examples/cosal_by_depth.py", *argv])


if __name__ == "__main__":
    main()
