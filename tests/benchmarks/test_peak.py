import peak


def test_measure_peak_returns_positive_figures():
    result = peak.measure_peak(size=256, repeats=1)
    for dtype in peak.DTYPES:
        assert result["gflops"][dtype]["xla"] > 0
        assert result["gflops"][dtype]["no_xla"] > 0
        assert result["peak_gflops"][dtype] == max(
            result["gflops"][dtype].values()
        )
    assert isinstance(result["bf16_native"], bool)
    assert result["machine"]["cores"] >= 1
    assert result["machine"]["cpu"]
