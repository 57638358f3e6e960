"""keras_lbie.datasets: data generators and input pipelines.

- `cosal`: the synthetic CoSaL shapes-and-sentences task (paper Section 4.1).
- `cosal_colorization`: CoSaL silhouettes in one gray with their
  paragraphs, a colorization task only the caption can solve.
- `referit`: the ReferIt release (text_objseg layout), and two synthetic
  sets written in that layout (Section 4.2): `write_referit_format`
  (CoSaL scenes) and `write_referring_scenes` (scenes of overlapping
  shapes with unambiguous referring expressions).
- `flowers`: Oxford-102 with Reed et al.'s captions, for colorization
  (Section 4.3).
"""

from keras_lbie.datasets import cosal
from keras_lbie.datasets import cosal_colorization
from keras_lbie.datasets import flowers
from keras_lbie.datasets import referit

__all__ = ["cosal", "cosal_colorization", "flowers", "referit"]
