import tensorflow as tf
from flops import count_flops
from flops import einsum_flops
from workloads import BENCHMARKS


def _profiler_flops(concrete_function):
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return tf.compat.v1.profiler.profile(
        graph=concrete_function.graph, cmd="op", options=options
    ).total_float_ops


def _concrete(function, *shapes):
    specs = [tf.TensorSpec(shape, tf.float32) for shape in shapes]
    return tf.function(function).get_concrete_function(*specs)


def test_matches_the_profiler_on_a_graph_without_loops():
    def conv_then_matmul(image, kernel, weights):
        features = tf.nn.conv2d(image, kernel, 1, "SAME")
        return tf.matmul(tf.reshape(features, (2, -1)), weights) + 1.0

    function = _concrete(conv_then_matmul, (2, 8, 8, 3), (3, 3, 3, 4), (256, 5))
    flops, uncounted = count_flops(function)
    assert flops == _profiler_flops(function) > 0
    assert uncounted == 0


def test_while_loop_bodies_count_once_per_iteration():
    def five_matmuls(a):
        return tf.while_loop(
            lambda i, x: i < 5,
            lambda i, x: (i + 1, tf.matmul(x, a)),
            (0, a),
            maximum_iterations=5,
        )[1]

    one_matmul = 2 * 16**3
    flops, uncounted = count_flops(_concrete(five_matmuls, (16, 16)))
    # The counter's `i + 1` and `i < 5` add one FLOP each per iteration.
    assert 5 * one_matmul <= flops <= 5 * one_matmul + 10
    assert uncounted == 0


def test_einsum_counts_multiply_adds():
    assert einsum_flops("bhwk,blk->bhwl", [(2, 3, 3, 4), (2, 5, 4)]) == (
        2 * 2 * 3 * 3 * 4 * 5
    )
    assert einsum_flops("...k,kl->...l", [(2, 4), (4, 5)]) == 0


def _segmenter_flops(max_steps):
    workload = BENCHMARKS["cosal_paper"].build(max_steps=max_steps)
    model = workload.model
    x, _ = workload.make_batch(1, 0)
    spec = {
        key: tf.TensorSpec(value.shape, value.dtype) for key, value in x.items()
    }
    logits = tf.function(lambda x: model(x, training=False)["logits"])
    return count_flops(logits.get_concrete_function(spec))


def test_segmenter_flops_grow_with_max_steps():
    one, uncounted_one = _segmenter_flops(1)
    four, uncounted_four = _segmenter_flops(4)
    assert 0 < one < four
    # The text encoder's LSTM loops have static trip counts.
    assert uncounted_one == uncounted_four == 0
