import pytest
import xla_parts
from workloads import BENCHMARKS


def test_encoder_parts_are_the_backbone_encoders():
    backbone = BENCHMARKS["cosal_paper"].build(max_steps=1).model
    parts = xla_parts.part_models(backbone)
    image_model, image_key = parts["image encoder"]
    text_model, text_key = parts["text encoder"]
    assert (image_key, text_key) == ("image", "token_ids")
    # cosal_paper: three 2x2 poolings of 48 px, 16 channels last.
    assert tuple(image_model.output.shape) == (None, 6, 6, 16)
    assert text_model.get_layer("text_encoder") is backbone.get_layer(
        "text_encoder"
    )


@pytest.mark.large
def test_measure_times_each_part_with_and_without_xla():
    rows = xla_parts.measure("cosal_paper", 2, [1, 2], repeats=1, warmup=1)
    parts = [row["part"] for row in rows]
    assert parts == [
        "whole, T=1",
        "image encoder",
        "text encoder",
        "whole, T=2",
    ]
    for row in rows:
        assert row["xla_off_ms"] > 0 and row["xla_on_ms"] > 0
    body = xla_parts.markdown(rows, "cosal_paper", 2, "xla_parts.py")
    assert "| part | XLA off | XLA on | XLA speed-up |" in body
    assert body.count("\n| whole, T=") == 2
