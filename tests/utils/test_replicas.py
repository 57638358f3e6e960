"""Tests for a replica's share of the global batch."""

import numpy as np
import tensorflow as tf

from keras_lbie.utils.replicas import global_batch_share
from tests.test_case import two_replica_strategy


def test_one_replica_keeps_the_loss():
    assert global_batch_share(3) == 1.0


def test_each_replica_gets_its_share_of_an_uneven_batch():
    # 2 + 1 examples: local * replicas / global = 4/3 and 2/3, so that
    # Keras's mean / replicas becomes each replica's sum / 3.
    strategy = two_replica_strategy()
    sizes = strategy.experimental_distribute_values_from_function(
        lambda context: tf.constant(2 - context.replica_id_in_sync_group)
    )

    @tf.function
    def shares():
        return strategy.run(global_batch_share, args=(sizes,))

    local = strategy.experimental_local_results(shares())
    np.testing.assert_allclose(np.array(local), [4 / 3, 2 / 3], rtol=1e-6)
