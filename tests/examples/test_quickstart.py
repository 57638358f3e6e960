"""examples/quickstart.py: the README's first command."""

import numpy as np
import quickstart
from PIL import Image


def test_quickstart_edits_with_both_shipped_models(tmp_path, capsys):
    output = tmp_path / "quickstart.png"
    quickstart.main(["--output", str(output)])
    printed = capsys.readouterr().out
    assert 'LBIESegmenter.from_preset("cosal")' in printed
    assert 'LBIEColorizer.from_preset("cosal_colorizer")' in printed
    assert printed.count("description: The ") == 2
    assert f"Wrote {output}" in printed
    with Image.open(output) as image:
        assert image.format == "PNG"
        pixels = np.asarray(image.convert("RGB"))
    # Two rows of three 192 px panels.
    assert pixels.shape[1] >= 3 * 192
    assert pixels.shape[0] >= 2 * 192
    # Colours, not only the black, gray and white of the inputs.
    assert (np.ptp(pixels.astype(int), axis=-1) > 60).mean() > 0.02
