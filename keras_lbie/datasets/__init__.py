"""keras_lbie.datasets: data generators and input pipelines.

- `cosal`: the synthetic CoSaL shapes-and-sentences task (paper Section 4.1).
"""

from keras_lbie.datasets import cosal

__all__ = ["cosal"]
