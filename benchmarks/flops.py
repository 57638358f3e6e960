"""Counts the floating-point operations of a traced TensorFlow function.

`count_flops(concrete_function)` sums, over every op of the function's
graph, the FLOP statistic TensorFlow registers for it: the registry that
`tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()` reads
(MatMul, Conv2D and its gradients, BiasAdd, element-wise arithmetic,
reductions, pooling, Softmax: 2 FLOPs per multiply-add). Unlike the
profiler it also

- walks into `while_loop` bodies (the Keras LSTMs, the early-exit fusion
  loop and their gradients) and multiplies them by the loop's static
  `maximum_iterations`: the profiler sees a `While` op as one op with no
  FLOPs, so it misses every recurrent step;
- counts `tf.cond` branches (the larger one) and nested function calls;
- counts `Einsum` (the attention; no registered statistic) as 2 FLOPs per
  multiply-add over its index space.

Caveats: ops without a registered statistic count zero (activations such
as Sigmoid, Tanh, Relu, Exp; casts, gathers, slicing), so the figure is
the arithmetic of the matrix products, convolutions and element-wise
arithmetic, a slight undercount of all work. A loop with a data-dependent
exit (early exit) is counted as if it ran `maximum_iterations` times: an
upper bound. XLA may fuse or simplify ops; the count is of the TF graph
before compilation.
"""

import math

import numpy as np
from tensorflow.python.framework import ops as tf_ops
from tensorflow.python.framework import tensor_util

# Importing the registry module registers the profiler's FLOP statistics.
from tensorflow.python.profiler.internal import flops_registry  # noqa: F401
from tensorflow.python.util import deprecation

_WHILE_OPS = ("While", "StatelessWhile")
_IF_OPS = ("If", "StatelessIf")
_CALL_OPS = ("PartitionedCall", "StatefulPartitionedCall")
# Ops whose static value `tensor_util.constant_value` cannot fold but
# Keras uses to compute a loop bound (`tf.reduce_max(time_steps)`).
_FOLDABLE_REDUCTIONS = {"Max": np.max, "Min": np.min}


def count_flops(concrete_function):
    """Returns `(flops, uncounted_loops)` of a concrete function.

    Args:
        concrete_function: a `tf.function`'s concrete function, traced
            with fully static input shapes (unknown sizes make the
            registered statistics fail; those ops count zero).

    Returns:
        A pair: the FLOP count (int) and the number of `while_loop` bodies
        whose trip count was not static (counted once each).
    """
    counter = _Counter()
    # The registry calls a deprecated v1 shape helper: a warning per run.
    with deprecation.silence():
        flops = counter.graph_flops(concrete_function.graph)
    return int(flops), counter.uncounted


class _Counter:
    def __init__(self):
        self.uncounted = 0

    def graph_flops(self, graph):
        return sum(self.op_flops(op) for op in graph.get_operations())

    def op_flops(self, op):
        if op.type in _WHILE_OPS:
            return self.loop_trips(op) * self.graph_flops(op._body_graph)
        if op.type in _IF_OPS:
            return max(
                self.graph_flops(op._true_graph),
                self.graph_flops(op._false_graph),
            )
        if op.type in _CALL_OPS:
            return self.graph_flops(_called_graph(op))
        if op.type == "Einsum":
            return einsum_flops(
                op.get_attr("equation").decode(),
                [tuple(tensor.shape) for tensor in op.inputs],
            )
        return registered_flops(op)

    def loop_trips(self, op):
        # `while_v2` passes (loop counter, maximum_iterations, *loop vars).
        trips = _static_value(op.inputs[1])
        if trips is None or trips < 0:
            self.uncounted += 1
            return 1
        return int(trips)


def registered_flops(op):
    """The FLOPs TensorFlow's registry gives `op` (0 if none or unknown)."""
    try:
        stats = tf_ops.get_stats_for_node_def(op.graph, op.node_def, "flops")
    except ValueError:
        # Incomplete shapes: the profiler skips these ops the same way.
        return 0
    return int(stats.value or 0)


def einsum_flops(equation, shapes):
    """2 FLOPs per multiply-add over an einsum's index space.

    Args:
        equation: e.g. `"bhwk,blk->bhwl"` (no ellipsis).
        shapes: the operands' static shapes.
    """
    inputs = equation.replace(" ", "").split("->")[0].split(",")
    sizes = {}
    for letters, shape in zip(inputs, shapes, strict=True):
        if "." in letters or len(letters) != len(shape):
            return 0
        sizes.update(zip(letters, shape, strict=True))
    if any(size is None for size in sizes.values()):
        return 0
    # One operand is a reduction or a copy: one op per element.
    per_element = 2 if len(inputs) > 1 else 1
    return per_element * math.prod(sizes.values())


def _called_graph(op):
    name = op.get_attr("f").name
    function = op.graph._get_function(name)
    return function.graph


def _static_value(tensor):
    value = tensor_util.constant_value(tensor)
    if value is not None:
        return int(np.asarray(value))
    reduce = _FOLDABLE_REDUCTIONS.get(tensor.op.type)
    if reduce is None:
        return None
    value = tensor_util.constant_value(tensor.op.inputs[0])
    return None if value is None else int(reduce(value))
