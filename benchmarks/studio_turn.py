"""Times one `lbie studio` turn on the server, as the page asks for it.

Usage: python benchmarks/studio_turn.py [--model cosal] [--turns 100]
    [--quick] [--readme PATH] [--json]

Loads `--model` as `lbie studio` does (segmenter presets with early exit),
warms it up as the studio does before it serves, then runs `--turns`
turns of dialogues over generated CoSaL examples: each example's nine
sentences said one per turn (so the description grows from one to nine
sentences), then the next example. A turn's server-side time is what the
studio's `say` handler does between reading the request and writing the
response: `EditSession.say` (description, model, per-region attention)
plus the turn's JSON payload (PNG data URL) serialised. Reports the median
and the 95th percentile of that and of the model's part, with the CPU's
vector flags and the load average (other jobs on the machine slow it).
Needs the studio extra (`pip install ".[studio]"`).
"""

import argparse
import json
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from report import add_report_arguments  # noqa: E402
from report import publish  # noqa: E402
from report import table  # noqa: E402

from keras_lbie.cli.common import load_model  # noqa: E402
from keras_lbie.studio import EditSession  # noqa: E402
from keras_lbie.studio.app import generated_example  # noqa: E402
from keras_lbie.studio.app import turn_payload  # noqa: E402
from keras_lbie.studio.app import warm_up  # noqa: E402
from keras_lbie.studio.edit_session import split_sentences  # noqa: E402
from keras_lbie.utils.hardware import vector_flags  # noqa: E402

SECTION = "studio-turn"
TARGET_MS = 150


def time_turns(model, num_turns):
    """`(server_ms, model_ms)` lists over `num_turns` dialogue turns."""
    server_ms, model_ms = [], []
    index = 0
    while len(server_ms) < num_turns:
        image, text = generated_example(model, index)
        session = EditSession(model, image)
        for sentence in split_sentences(text)[: num_turns - len(server_ms)]:
            start = time.perf_counter()
            turn = session.say(sentence)
            json.dumps(turn_payload(turn, len(session.history)))
            server_ms.append(1000 * (time.perf_counter() - start))
            model_ms.append(1000 * turn.seconds)
        index += 1
    return server_ms, model_ms


def summary(name, server_ms, model_ms):
    """Median and 95th percentile of both timings, with the machine."""
    return {
        "model": name,
        "turns": len(server_ms),
        "server_median_ms": float(np.median(server_ms)),
        "server_p95_ms": float(np.percentile(server_ms, 95)),
        "model_median_ms": float(np.median(model_ms)),
        "model_p95_ms": float(np.percentile(model_ms, 95)),
        "cpu_flags": vector_flags(),
        "cores": os.cpu_count(),
        "load_average": os.getloadavg()[0],
    }


def markdown(result):
    row = [
        f"`{result['model']}`",
        result["turns"],
        f"{result['server_median_ms']:.1f}",
        f"{result['server_p95_ms']:.1f}",
        f"{result['model_median_ms']:.1f}",
        f"{result['model_p95_ms']:.1f}",
        f"{TARGET_MS}, {'met' if result['server_p95_ms'] < TARGET_MS else 'missed'}",  # noqa: E501
    ]
    header = [
        "model",
        "turns",
        "server median ms",
        "server p95 ms",
        "model median ms",
        "model p95 ms",
        "target ms",
    ]
    return (
        table(header, [row])
        + f"\n\n{result['cores']} logical cores, load average "
        f"{result['load_average']:.1f} at the end of the run; CPU flags: "
        f"{' '.join(result['cpu_flags'])}."
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cosal")
    parser.add_argument("--turns", type=int, default=100)
    add_report_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.turns = 5
    model = load_model(args.model, early_exit=True)
    warm_up({args.model: model})
    result = summary(args.model, *time_turns(model, args.turns))
    publish(args, SECTION, markdown(result), result)


if __name__ == "__main__":
    main()
