"""Preset tables and their shipped weights: resolution and loading.

Every model family keeps a preset table in its `<family>_presets.py`: a
dict from a preset's name to an entry with `"description"`, `"config"` (the
backbone's arguments) and `"weights"` (None, or a file name in
`WEIGHTS_DIR`), plus what the family needs besides (e.g. a default
`"vocabulary"`). These functions resolve a name and the caller's overrides
against such a table and load the weights; `keras_lbie.models.Task`'s
`from_preset` is built on them. The error messages are those users see.
"""

import copy
import os

from keras_lbie.utils.validation import check_bool

# The package folder of shipped preset weights (never the network).
WEIGHTS_DIR = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "models", "weights"
)


def preset_descriptions(presets):
    """Returns `{name: description}` of every entry of a preset table."""
    return {name: entry["description"] for name, entry in presets.items()}


def check_preset_name(preset, presets, kind="preset"):
    """Raises unless `preset` names an entry of `presets`."""
    if preset not in presets:
        raise ValueError(
            f"Unknown {kind} {preset!r}. Available presets: {sorted(presets)}"
        )


def preset_config(preset, entry, overrides, allowed=None):
    """A deep copy of a preset's backbone config, overrides checked.

    Args:
        preset: str, the preset's name (for the error).
        entry: the preset's table entry, with a `"config"` dict.
        overrides: dict of the caller's overrides (not applied here).
        allowed: the names that may be overridden; the config's keys if
            None.

    Raises:
        ValueError: an override name outside `allowed`.
    """
    config = copy.deepcopy(entry["config"])
    allowed = set(config) if allowed is None else allowed
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise ValueError(
            f"Unknown override(s) {unknown} for preset {preset!r}. "
            f"Allowed: {sorted(allowed)}"
        )
    return config


def resolve_preset(
    preset,
    presets,
    load_weights,
    overrides,
    weight_preserving,
    kind="preset",
    changes="the architecture",
    other_changes=(),
    allowed=None,
):
    """`(entry, backbone config, has_weights)` of a preset, validated.

    Args:
        preset: str, the preset's name.
        presets: the preset table, entries with `"config"` and `"weights"`.
        load_weights: bool, whether to load the preset's weights.
        overrides: dict of backbone arguments replacing the preset's.
        weight_preserving: the override names that keep the weights valid.
        kind: what a preset is called in the unknown-name error.
        changes: what other overrides change, for the error.
        other_changes: names of further changes the weights do not fit,
            e.g. `["vocabulary"]`.
        allowed: the override names allowed; the config's keys if None.
            Allowed names outside the config are set in it all the same.

    Raises:
        ValueError: unknown preset or override name, or an override (or
            one of `other_changes`) while loading weights.
    """
    check_preset_name(preset, presets, kind)
    check_bool(load_weights, "load_weights")
    entry = presets[preset]
    config = preset_config(preset, entry, overrides, allowed)
    has_weights = load_weights and entry["weights"] is not None
    changed = sorted(set(overrides) - weight_preserving) + list(other_changes)
    if has_weights and changed:
        raise ValueError(
            f"Override(s) {changed} change {changes}, which the weights of "
            f"preset {preset!r} were not trained for. Pass "
            "`load_weights=False` to build it randomly initialised; with "
            f"weights only {sorted(weight_preserving)} can be overridden."
        )
    config.update(overrides)
    return entry, config, has_weights


def load_preset_weights(backbone, preset, file_name):
    """Loads a preset's shipped weights from `WEIGHTS_DIR` into `backbone`.

    Raises:
        FileNotFoundError: the file is missing (an incomplete install).
        ValueError: the file does not fit the backbone.
    """
    path = os.path.join(WEIGHTS_DIR, file_name)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"The weights of preset {preset!r} are missing: no file {path}. "
            "The package install is incomplete; reinstall keras_lbie, or "
            "pass `load_weights=False` for a randomly initialised model."
        )
    try:
        backbone.load_weights(path)
    except ValueError as error:
        raise ValueError(
            f"The weights file of preset {preset!r} ({path}) does not fit "
            f"the preset's model. Cause: {error}"
        ) from error
