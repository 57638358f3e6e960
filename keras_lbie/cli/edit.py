"""`lbie edit`: colour an image file from a description.

A segmenter colours the image's regions with its classes' colours; a
colorizer keeps the image's lightness and predicts its colours.
"""

import os

from PIL import Image
from PIL import UnidentifiedImageError

from keras_lbie.cli.common import OUTPUT_FORMATS
from keras_lbie.cli.common import CLIError
from keras_lbie.cli.common import add_model_argument
from keras_lbie.cli.common import load_model
from keras_lbie.cli.common import note
from keras_lbie.cli.common import output_file
from keras_lbie.cli.common import output_format
from keras_lbie.cli.common import save_image
from keras_lbie.cli.common import write_attention_figure
from keras_lbie.studio.edit_image import edit_image
from keras_lbie.studio.edit_image import resized
from keras_lbie.studio.image_io import rgb_pixels


def add_parsers(commands):
    """Adds the `edit` command."""
    parser = commands.add_parser(
        "edit",
        help="edit an image file from a description",
        description=(
            "Colours IMAGE as DESCRIPTION says and writes the result at the "
            "image's size, as a PNG (or the format OUT's suffix names). "
            "Transparent pixels are read as white, the background CoSaL "
            "draws on. Images of another size than the "
            "model's input are resized to it, and the edit back. A "
            "segmenter (the default) paints each region in its predicted "
            "class colour; a colorizer (--model cosal_colorizer) keeps the "
            "image's own lightness at full size and predicts its colours."
        ),
    )
    parser.add_argument("image", metavar="IMAGE", help="a PNG or JPEG file")
    parser.add_argument(
        "description",
        metavar="DESCRIPTION",
        help='e.g. "The circle is red. The shape below it is blue."',
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="the edited image, in the format its suffix names: "
        f"{', '.join(OUTPUT_FORMATS)}",
    )
    add_model_argument(parser, colorizers=True)
    parser.add_argument(
        "--steps",
        action="store_true",
        help="also write the attended sentences and stopping-step map to "
        "OUT_steps.png (segmenters only)",
    )
    parser.set_defaults(run=run)


def run(args):
    """Edits `args.image` and writes the image (and the --steps panel)."""
    description = check_description(args.description)
    output = output_file(args.output)
    image_format = output_format(output)
    pixels = read_image(args.image)
    model = load_model(args.model)
    from keras_lbie.models import LBIEColorizer

    if isinstance(model, LBIEColorizer):
        if args.steps:
            raise CLIError(
                f"--steps is not supported for colorizers ({args.model} is "
                "one): it draws a segmenter's attention and stopping steps."
            )
        _note_resize(
            pixels,
            model.image_size,
            args.image,
            "the predicted colours are scaled back to {} and laid over the "
            "image's own lightness.",
        )
        write_image(
            edit_image(model, pixels, description)["image"],
            output,
            image_format,
        )
        print(f"Wrote the colorized image to {output}")
        return
    _note_resize(
        pixels, model.image_size, args.image, "the edit is scaled back to {}."
    )
    model_input = resized(pixels, (model.image_size, model.image_size))
    edited, details = model.edit(model_input, description, return_details=True)
    write_image(
        resized(edited[0], pixels.shape[:2], nearest=True),
        output,
        image_format,
    )
    print(f"Wrote the edited image to {output}")
    if args.steps:
        steps = f"{os.path.splitext(output)[0]}_steps.png"
        write_attention_figure(
            model_input,
            edited[0],
            details,
            steps,
            title=f"{os.path.basename(args.image)}, model {args.model}",
        )
        print(f"Wrote the attention and stopping-step panel to {steps}")


def _note_resize(pixels, size, path, scaled_back):
    """Notes that `pixels` go to the model resized to `size`, if they do.

    `scaled_back` ends the note; `{}` in it becomes the image's size.
    """
    if pixels.shape[:2] != (size, size):
        note(
            f"resized {path} from {_size_text(pixels.shape)} to the model's "
            f"{_size_text((size, size))}; "
            + scaled_back.format(_size_text(pixels.shape))
        )


def check_description(description):
    """`description`, unless it has no word to edit by."""
    if not description.strip():
        raise CLIError(
            "the description is empty: say how to colour the image, e.g. "
            '"The circle is red."'
        )
    if not any(character.isalnum() for character in description):
        raise CLIError(f"the description {description!r} has no words.")
    return description


def write_image(pixels, path, image_format):
    """Writes uint8 RGB `pixels` to `path` as `image_format` (Pillow's)."""
    save_image(Image.fromarray(pixels), path, image_format)


def read_image(path):
    """The pixels of an image file as uint8 RGB `(height, width, 3)`.

    Transparent pixels are read as white (`rgb_pixels`).
    """
    if not os.path.exists(path):
        raise CLIError(f"no such image file: {path}")
    if os.path.isdir(path):
        raise CLIError(f"{path} is a folder, not an image file.")
    try:
        with Image.open(path) as image:
            return rgb_pixels(image)
    except UnidentifiedImageError:
        raise CLIError(
            f"cannot read {path}: not an image file (PNG or JPEG)."
        ) from None
    except OSError as error:
        raise CLIError(f"cannot read {path}: {error}") from error


def _size_text(shape):
    height, width = shape[:2]
    return f"{width}x{height} px"
