import early_exit
import numpy as np
import pytest


@pytest.mark.large
def test_early_exit_outputs_are_identical_on_a_tiny_model():
    fixed, early = early_exit.build_pair("cosal_paper", 4)
    batches = early_exit.make_batches(fixed, 4, 2)
    assert [len(x["image"]) for x in batches] == [2, 2]
    comparison = early_exit.compare_outputs(fixed.model, early.model, batches)
    assert comparison["identical"] is True
    assert 1 <= comparison["mean_steps_run"] <= 4
    assert early_exit.outputs_identical(fixed.model, early.model, batches)


def test_steps_that_ran_counts_steps_with_a_finite_value():
    log_stop = np.full((2, 4, 3, 3), -np.inf)
    log_stop[:, :2] = -0.5
    log_stop[1, 2, 0, 0] = -3.0
    assert early_exit.steps_that_ran(log_stop) == 3
