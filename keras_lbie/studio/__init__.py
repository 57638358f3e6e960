"""keras_lbie.studio: dialogue-based editing, in Python and in a browser.

`EditSession` is the dialogue (no web dependency); `lbie studio` serves it
as a page (`pip install "keras_lbie[studio]"`, see `keras_lbie.studio.app`).
"""

from keras_lbie.studio.edit_session import EditSession
from keras_lbie.studio.turn import Turn

__all__ = ["EditSession", "Turn"]
