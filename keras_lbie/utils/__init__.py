"""keras_lbie.utils: helpers shared across the package."""
