import numpy as np
import pytest
import throughput
import workloads

from keras_lbie.models import available_colorizer_presets
from keras_lbie.models import available_presets
from keras_lbie.models import available_referit_presets


def test_every_preset_of_every_family_is_registered():
    assert set(workloads.BENCHMARKS) == {
        *available_presets(),
        *available_colorizer_presets(),
        *available_referit_presets(),
    }


@pytest.mark.parametrize(
    "preset, x_keys, y_shape",
    [
        ("cosal_colorizer", {"image_l", "token_ids"}, (3, 48, 48, 2)),
        ("referit_small", {"image", "token_ids"}, (3, 128, 128)),
    ],
)
def test_batches_fit_the_model(preset, x_keys, y_shape):
    workload = workloads.BENCHMARKS[preset].build()
    x, y = workload.make_batch(3, 0)
    assert set(x) == x_keys
    assert y.shape == y_shape
    output = workload.inference_model(x, training=False)[workload.output]
    assert output.shape[0] == 3
    assert np.all(np.isfinite(np.asarray(output)))


@pytest.mark.large
def test_colorizer_trains_its_gan_and_infers_with_its_generator():
    workload = workloads.BENCHMARKS["cosal_colorizer"].build()
    assert workload.trained
    assert workload.inference_model is workload.model.generator.backbone
    result = throughput.measure(
        "cosal_colorizer", "train", 2, steps=1, repeats=1, warmup=1
    )
    assert result["trained_weights"] is True
    # The GAN step updates the discriminator and the generator: more
    # arithmetic than the generator's forward pass alone.
    forward = throughput.measure(
        "cosal_colorizer", "infer", 2, steps=1, repeats=1, warmup=1
    )
    assert result["flops_per_example"] > 2 * forward["flops_per_example"]


def test_referit_uses_a_vocabulary_of_referit_size():
    workload = workloads.BENCHMARKS["referit_small"].build(max_steps=1)
    assert workload.settings["max_steps"] == 1
    assert not workload.trained
    assert workload.model.vocabulary_size == workloads.REFERIT_VOCABULARY_SIZE
