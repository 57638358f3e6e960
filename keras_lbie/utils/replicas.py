"""What a loss needs to know about the other replicas of a training step."""

import tensorflow as tf
from keras import ops


def global_batch_share(batch_size, dtype="float32"):
    """The factor that makes a replica's mean loss its share of the global.

    Keras reduces a replica's loss to the mean over its own examples and
    divides it by the number of replicas: the replicas' summed gradients
    are those of the global batch mean only when every replica holds as
    many examples. A last batch that splits unevenly (3 examples over 2
    replicas: 2 + 1) would weigh the lone example twice. Multiplied by
    this factor, `local * replicas / global`, each replica's loss becomes
    its examples' sum over the global batch size, so any split gives one
    device's step. The global size is summed over the replicas (a scalar
    all-reduce per step). Keras's loss tracker logs the scaled loss, so
    the logged loss of an unevenly split batch is off from the global
    mean (the weights are not).

    Args:
        batch_size: int or scalar tensor, the replica's examples.
        dtype: the dtype of the loss the factor multiplies.

    Returns:
        1.0 outside a multi-replica step, else a scalar tensor.
    """
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    context = tf.distribute.get_replica_context()
    if replicas == 1 or context is None:
        return 1.0
    local = ops.cast(batch_size, dtype)
    total = context.all_reduce("SUM", local)
    return ops.divide_no_nan(local * replicas, total)
