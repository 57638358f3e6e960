"""The expressions of `write_referring_scenes` that name one object alone.

`referring_expressions(scene, k)` lists, by kind (`KINDS`), every
expression of the grammar in `referring_scenes`' module docstring that
picks out object k of a scene and no other. A scene is any object with
`objects` (dicts with "category" and "colour"), `areas` and `centroids`
(indexed by label: object k has label k + 1), `width` and `height`.
"""

import numpy as np

SIZE_RATIO = 1.5
MARGIN = 0.1
KINDS = ("exact", "size", "position", "relation")

# (word, axis: 0 = x, 1 = y, sign: -1 = towards smaller coordinates).
_SIDES = (("left", 0, -1), ("right", 0, 1), ("top", 1, -1), ("bottom", 1, 1))
_POSITION_TEMPLATES = {
    "left": ("left {}", "the {} on the left", "{} left"),
    "right": ("right {}", "the {} on the right", "{} right"),
    "top": ("top {}", "the {} on top", "{} top"),
    "bottom": ("bottom {}", "the {} at the bottom", "{} bottom"),
}
_RELATIONS = {
    "left": "left of",
    "right": "right of",
    "top": "above",
    "bottom": "below",
}
WORDS = "the one big small on at of above below left right top bottom".split()


def _nouns(scene, k):
    """(noun phrase, indices of the other objects it also fits) of object k."""
    me = scene.objects[k]
    others = [j for j in range(len(scene.objects)) if j != k]

    def fitting(*keys):
        return [
            j
            for j in others
            if all(scene.objects[j][key] == me[key] for key in keys)
        ]

    return [
        (me["category"], fitting("category")),
        (f"{me['colour']} {me['category']}", fitting("category", "colour")),
        (f"{me['colour']} one", fitting("colour")),
        ("one", others),
    ]


def referring_expressions(scene, k):
    """kind → every expression of that kind that picks out object k alone."""
    candidates = {kind: [] for kind in KINDS}
    for noun, group in _nouns(scene, k):
        if not group:
            if noun != "one":
                candidates["exact"] += [noun, f"the {noun}"]
            continue
        candidates["size"] += _size_expressions(scene, k, noun, group)
        for side, axis, sign in _SIDES:
            if _beyond(scene, k, group, axis, sign):
                candidates["position"] += [
                    template.format(noun)
                    for template in _POSITION_TEMPLATES[side]
                ]
        candidates["relation"] += _relations(scene, k, noun, group)
    return candidates


def _size_expressions(scene, k, noun, group):
    area = scene.areas[k + 1]
    rest = scene.areas[[j + 1 for j in group]]
    if np.all(area >= SIZE_RATIO * rest):
        return [f"big {noun}", f"the big {noun}"]
    if np.all(SIZE_RATIO * area <= rest):
        return [f"small {noun}", f"the small {noun}"]
    return []


def _beyond(scene, k, group, axis, sign):
    """Whether object k is past every object of `group` by the margin."""
    margin = MARGIN * (scene.width, scene.height)[axis]
    mine = sign * scene.centroids[k + 1, axis]
    theirs = sign * scene.centroids[[j + 1 for j in group], axis]
    return bool(np.all(mine >= theirs + margin))


def _relations(scene, k, noun, group):
    expressions = []
    for anchor in range(len(scene.objects)):
        if anchor == k:
            continue
        names = [
            name
            for name, fits in _nouns(scene, anchor)
            if not fits and name != "one"
        ]
        rivals = [j for j in group if j != anchor]
        if not names or not rivals:
            continue
        for side, axis, sign in _SIDES:
            margin = MARGIN * (scene.width, scene.height)[axis]
            at = sign * scene.centroids[anchor + 1, axis]
            mine = sign * scene.centroids[k + 1, axis]
            theirs = sign * scene.centroids[[j + 1 for j in rivals], axis]
            if mine >= at + margin and np.all(theirs <= at):
                expressions += [
                    f"{the}{noun} {_RELATIONS[side]} the {name}"
                    for name in names
                    for the in ("", "the ")
                ]
    return expressions
