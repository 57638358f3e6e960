import pytest

from keras_lbie.studio.session_store import SessionStore


def test_ids_are_distinct_and_unguessable():
    store = SessionStore()
    keys = {store.add(object()) for _ in range(20)}
    assert len(keys) == 20 and all(len(key) >= 22 for key in keys)


def test_least_recently_used_is_dropped():
    store = SessionStore(max_sessions=2)
    first, second = store.add("a"), store.add("b")
    assert store.get(first) == "a"  # now the most recent
    store.add("c")
    assert len(store) == 2 and store.get(first) == "a"
    with pytest.raises(KeyError, match="reload the page"):
        store.get(second)


def test_bad_max_sessions():
    with pytest.raises(ValueError, match="max_sessions"):
        SessionStore(max_sessions=0)
