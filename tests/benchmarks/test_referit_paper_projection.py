import pytest
import referit_paper_projection


def test_projection_divides_the_recipe_by_each_peak():
    recipe = {"source": "test", "steps": 100, "batch_size": 10}
    total, hours = referit_paper_projection.project(
        3.6e12, recipe=recipe, peaks={"gpu": 10.0}
    )
    assert total == pytest.approx(3.6e15)
    # 3.6e15 FLOP at 1e13 FLOP/s: 360 s, a tenth of an hour.
    assert hours["gpu"]["100%"] == pytest.approx(0.1)
    assert hours["gpu"]["50%"] == pytest.approx(0.2)


def test_recipe_is_text_objseg_s():
    recipe = referit_paper_projection.RECIPE
    assert recipe["steps"] * recipe["batch_size"] == 480_000
