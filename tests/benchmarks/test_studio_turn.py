import pytest

pytest.importorskip("starlette")
import studio_turn  # noqa: E402

from keras_lbie.models import LBIESegmenter  # noqa: E402


def test_turns_are_timed_over_dialogues_of_generated_examples():
    model = LBIESegmenter.from_preset("cosal_paper")
    server_ms, model_ms = studio_turn.time_turns(model, 11)
    assert len(server_ms) == len(model_ms) == 11
    assert all(s >= m > 0 for s, m in zip(server_ms, model_ms, strict=True))
    result = studio_turn.summary("cosal_paper", server_ms, model_ms)
    assert result["server_median_ms"] <= result["server_p95_ms"]
    assert "| `cosal_paper` | 11 |" in studio_turn.markdown(result)
