import pytest
import scaling


def _rows():
    rows = []
    for value in (1, 2, 4):
        for mode, per_step in (("train", 3.0), ("infer", 1.0)):
            cost = 2.0 + per_step * value
            rows.append(
                {
                    "sweep": "max_steps",
                    "value": value,
                    "mode": mode,
                    "preset": "cosal",
                    "jit_compile": False,
                    "precision": "float32",
                    "batch_size": 4,
                    "step_ms": 4 * cost,
                    "examples_per_s": 1000 / cost,
                    "flops_per_example": 1e6 * value,
                }
            )
    return rows


def test_linear_fit_recovers_an_affine_cost():
    fixed, slope, deviation = scaling.linear_fit(
        scaling._select(_rows(), "max_steps", "train"), "max_steps"
    )
    assert fixed == pytest.approx(2.0)
    assert slope == pytest.approx(3.0)
    assert deviation == pytest.approx(0.0, abs=1e-9)


def test_markdown_and_plot(tmp_path):
    base = {**scaling.BASE, "max_steps": 2}
    text = scaling.markdown(_rows(), base)
    assert "| 4 | train | 71.4 | 14.000 | 1.75 | 4.00 | 2.00 |" in text
    assert "Linear fit, infer: ms/example ≈ 2 + 1 · T" in text
    path = tmp_path / "scaling.png"
    scaling.plot(_rows(), str(path))
    assert path.read_bytes().startswith(b"\x89PNG")
