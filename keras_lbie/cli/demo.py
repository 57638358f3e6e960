"""`lbie demo`: edit a generated CoSaL example and draw what happened."""

from keras_lbie.cli.common import OUTPUT_FORMATS
from keras_lbie.cli.common import add_model_argument
from keras_lbie.cli.common import load_segmenter
from keras_lbie.cli.common import output_file
from keras_lbie.cli.common import output_format
from keras_lbie.cli.common import write_attention_figure

DEFAULT_OUTPUT = "lbie_demo.png"


def add_parsers(commands):
    """Adds the `demo` command."""
    parser = commands.add_parser(
        "demo",
        help="edit a CoSaL example and write a picture of it",
        description=(
            "Generates a CoSaL test example (black shapes and nine "
            "sentences), colours it with the model and writes one image "
            "(PNG, or the format OUT's suffix names): the "
            "input, the edit, the target, the stopping step of each region "
            "and the sentence each step attended to (the paper's Figure 5). "
            "Needs no network."
        ),
    )
    add_model_argument(parser)
    parser.add_argument(
        "--num-direct",
        type=int,
        choices=range(1, 10),
        default=4,
        metavar="{1..9}",
        help="sentences naming a shape's colour directly (default: 4)",
    )
    parser.add_argument(
        "--index", type=int, default=0, help="which example (default: 0)"
    )
    parser.add_argument(
        "-o",
        "--output",
        default=DEFAULT_OUTPUT,
        metavar="OUT",
        help=f"the figure (default: {DEFAULT_OUTPUT}), in the format its "
        f"suffix names: {', '.join(OUTPUT_FORMATS)}",
    )
    parser.set_defaults(run=run)


def run(args):
    """Edits the example and writes the figure."""
    output = output_file(args.output)
    image_format = output_format(output)
    segmenter = load_segmenter(args.model)
    from keras_lbie.datasets import cosal

    # Seed 1 draws CoSaL test examples (training uses seed 0).
    example = cosal.generate(
        1,
        num_direct=args.num_direct,
        image_size=segmenter.image_size,
        seed=1,
        start_index=args.index,
    )
    description = str(example["text"][0])
    edited, details = segmenter.edit(
        example["image"], [description], return_details=True
    )
    write_attention_figure(
        example["image"][0],
        edited[0],
        details,
        output,
        title=f"CoSaL test example {args.index}, model {args.model}",
        target=example["target"][0],
        image_format=image_format,
    )
    print(f"Description: {description}")
    print(f"Wrote {output}")
