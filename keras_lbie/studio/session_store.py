"""The studio's dialogues, one per browser tab, behind random ids."""

import collections
import secrets

from keras_lbie.utils.validation import check_positive_int

MAX_SESSIONS = 64


class SessionStore:
    """Holds dialogues by unguessable ids, the least recently used dropped.

    Each browser tab asks for its own id (kept in the page's memory, not a
    cookie, which the tabs of a browser share), so two tabs have separate
    dialogues, and a request can reach only the dialogue of an id it
    holds: ids are 128-bit random tokens (`secrets.token_urlsafe`).
    Nothing is written to disk.

    Not thread-safe: the studio calls it under its lock.

    Args:
        max_sessions: positive int; opening one more drops the dialogue
            used least recently.

    Example:
    >>> store = SessionStore(max_sessions=2)
    >>> key = store.add(EditSession(model, image))
    >>> store.get(key).say("The circle is red.")
    """

    def __init__(self, max_sessions=MAX_SESSIONS):
        check_positive_int(max_sessions, "max_sessions")
        self.max_sessions = max_sessions
        self._sessions = collections.OrderedDict()

    def __len__(self):
        return len(self._sessions)

    def add(self, session):
        """Stores `session` (any object) and returns its new id (str)."""
        key = secrets.token_urlsafe(16)
        self._sessions[key] = session
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)
        return key

    def get(self, key):
        """The session of id `key`, now the most recently used.

        Raises:
            KeyError: no session has that id (never made, or dropped); the
                message says so.
        """
        if key not in self._sessions:
            raise KeyError(
                "this dialogue has ended (the studio keeps the "
                f"{self.max_sessions} most recent): reload the page."
            )
        self._sessions.move_to_end(key)
        return self._sessions[key]
