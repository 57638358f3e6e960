import json

import cosal_table2
import pytest


@pytest.fixture
def results_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(cosal_table2, "RESULTS_DIR", str(tmp_path))
    return tmp_path


def _result(region_iou, minutes=30, history=None):
    return {
        "metrics": {"cosal_region_iou": region_iou},
        "train_steps": 12496,
        "train_seconds": minutes * 60,
        "batch_size": 32,
        "epochs": 8,
        "history": history or [],
    }


def _write(results_dir, row, num_direct, result):
    path = results_dir / f"{cosal_table2.cell_name(row, num_direct)}.json"
    path.write_text(json.dumps(result))


def test_training_order_holds_every_cell_once():
    cells = [
        (row, n) for row in cosal_table2.ROWS for n in cosal_table2.NUM_DIRECT
    ]
    assert sorted(cosal_table2.TRAINING_ORDER) == sorted(cells)


def test_cells_to_train_skips_cells_with_results(results_dir):
    _write(results_dir, "t4_attention_gumbel", 4, _result(0.6))
    cells = cosal_table2.cells_to_train()
    assert ("t4_attention_gumbel", 4) not in cells
    assert cells == [
        cell
        for cell in cosal_table2.TRAINING_ORDER
        if cell != ("t4_attention_gumbel", 4)
    ]


def test_cells_to_train_keeps_only_named_cells_in_training_order(
    results_dir,
):
    names = [
        "t1_no_attention_nd8",
        "t1_attention_nd4",
        "t4_attention_gumbel_nd4",
    ]
    _write(results_dir, "t4_attention_gumbel", 4, _result(0.6))
    assert cosal_table2.cells_to_train(names) == [
        ("t1_attention", 4),
        ("t1_no_attention", 8),
    ]


def test_cells_to_train_rejects_unknown_cells(results_dir):
    with pytest.raises(ValueError, match="`--cells` must name cells.*nd5"):
        cosal_table2.cells_to_train(["t1_attention_nd5"])


@pytest.mark.parametrize("threads", [None, 1])
@pytest.mark.parametrize("num_direct", [4, 6])
def test_save_cell_result_records_shared_runs_and_nd4_weights(
    results_dir, tmp_path, threads, num_direct
):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "results.json").write_text(json.dumps(_result(0.5)))
    (run_dir / "model.weights.h5").write_bytes(b"weights")
    cosal_table2.save_cell_result(
        str(run_dir), "t1_attention", num_direct, threads
    )
    path = cosal_table2.result_path("t1_attention", num_direct)
    with open(path) as f:
        saved = json.load(f)
    assert saved["metrics"] == {"cosal_region_iou": 0.5}
    assert saved.get("intra_op_threads") == threads
    weights = results_dir / f"t1_attention_nd{num_direct}.weights.h5"
    assert weights.exists() == (num_direct == 4)
    if num_direct == 4:
        assert weights.read_bytes() == b"weights"


def _table(tmp_path, results):
    path = tmp_path / "table.md"
    cosal_table2.write_table(results, str(path), "cosal_paper")
    return path.read_text()


def test_table_shows_ours_beside_the_paper_and_unrun_cells(tmp_path):
    text = _table(tmp_path, {("t1_attention", 4): _result(0.61, minutes=37)})
    row = next(line for line in text.splitlines() if "T=1, attention" in line)
    assert "**0.6100** (0.4030)" in row
    assert "not run (0.5220)" in row
    assert "12496 steps × batch 32; 37 min" in row
    assert "*" not in row.split("|")[-2]


def test_table_marks_minutes_of_shared_runs(tmp_path):
    shared = dict(_result(0.61, minutes=45), intra_op_threads=1)
    text = _table(tmp_path, {("t1_attention", 4): shared})
    assert "; 45* min" in text
    assert "Minutes marked * are of a cell trained beside another" in text


@pytest.mark.parametrize(
    "nd8_iou, verdict",
    [
        (0.71, "every cell: met."),
        (0.70, "**missed** (num_direct=8: 0.7000 < 0.7017)."),
    ],
)
def test_table_verdict_on_the_paper_row(tmp_path, nd8_iou, verdict):
    row = "t4_attention_gumbel"
    results = {
        (row, 4): _result(0.51),
        (row, 6): _result(0.54),
        (row, 8): _result(nd8_iou),
    }
    lines = _table(tmp_path, results).splitlines()
    paper_row = next(
        line for line in lines if line.startswith("- T=4") and "Gumbel" in line
    )
    assert paper_row.endswith(verdict)


def test_table_verdict_names_a_cell_below_the_paper_before_all_ran(tmp_path):
    results = {("t4_attention_expected", 4): _result(0.48)}
    text = _table(tmp_path, results)
    assert (
        "expected loss (released code) at or above the paper's T=4 row in "
        "every cell: **missed** (num_direct=4: 0.4800 < 0.5033)." in text
    )
    assert (
        "Gumbel-softmax (paper) at or above the paper's T=4 row in every "
        "cell: not every cell has run yet." in text
    )


@pytest.mark.parametrize(
    "t1_iou, verdict", [(0.6, "met."), (0.7, "**missed**.")]
)
def test_table_verdict_on_t4_against_t1(tmp_path, t1_iou, verdict):
    results = {
        ("t1_attention", 4): _result(t1_iou),
        ("t4_attention_gumbel", 4): _result(0.65),
    }
    text = _table(tmp_path, results)
    assert f"- T=4 ≥ T=1 on num_direct=4: {verdict}" in text


def test_time_to_paper_is_the_first_epoch_above_it():
    history = [
        {"epoch": 1, "train_seconds": 600, "cosal_region_iou": {"8": 0.5}},
        {"epoch": 2, "train_seconds": 1200, "cosal_region_iou": {"8": 0.72}},
        {"epoch": 3, "train_seconds": 1800, "cosal_region_iou": {"8": 0.9}},
    ]
    line = cosal_table2.time_to_paper_line(_result(0.9, history=history))
    assert ": 20 min, after epoch 2 (3124 steps × batch 32" in line
    missed = cosal_table2.time_to_paper_line(_result(0.5, history=history[:1]))
    assert missed.endswith("not reached in 12496 steps.")
