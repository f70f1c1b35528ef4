"""Database sessions, read with SQL compiled once per process."""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from .db import CompiledQuery

__all__ = ["SessionStore"]

_SESSION_BY_KEY = CompiledQuery(lambda key: Session.objects.filter(session_key=key), str)


class SessionStore(db.SessionStore):
    """Django's database session store; every page reads its session, so that read skips
    compiling the query each time (`CompiledQuery`). Expired sessions are refused as
    Django refuses them (an expiry at or before now); writes are Django's own."""

    @classmethod
    def get_model_class(cls):
        return Session

    def _get_session_from_db(self):
        sessions = _SESSION_BY_KEY.objects(self.session_key)
        if sessions and sessions[0].expire_date > timezone.now():
            return sessions[0]
        self._session_key = None
        return None
