"""`lbie train` (`keras_lbie.cli.train`)."""

import json


def test_train_writes_a_keras_model_and_results(trained_run):
    run, result = trained_run
    assert "num_direct=4: region IoU " in result.stdout
    assert f"Wrote {run / 'model.keras'}" in result.stdout
    with open(run / "results.json") as f:
        results = json.load(f)
    assert results["train_steps"] == 4
    assert results["batch_size"] == 16
