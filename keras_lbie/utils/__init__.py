"""keras_lbie.utils."""
