"""accounts.sessions: Django's database sessions, an existing session saved in one statement."""

import pytest
from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.sessions import SessionStore

pytestmark = pytest.mark.django_db(transaction=True)  # outside a transaction, as in production


def stored():
    session = SessionStore()
    session["cart"] = {"lines": [1]}
    session.create()
    return SessionStore(session.session_key)


def test_a_changed_session_is_saved_by_one_update_and_read_back():
    session = stored()
    session["cart"] = {"lines": [1, 2]}

    with CaptureQueriesContext(connection) as saved:
        session.save()

    assert [q["sql"].split()[0] for q in saved.captured_queries] == ["UPDATE"]
    assert SessionStore(session.session_key)["cart"] == {"lines": [1, 2]}


def test_a_session_deleted_meanwhile_is_not_brought_back():
    session = stored()
    session["cart"] = {"lines": []}
    SessionStore(session.session_key).delete()

    with pytest.raises(UpdateError):  # Django's own answer: the middleware says so with a 400
        session.save()
    assert not SessionStore().exists(session.session_key)


def test_creating_and_saving_inside_a_transaction_stay_djangos():
    session = stored()
    with pytest.raises(CreateError):
        SessionStore(session.session_key).save(must_create=True)  # the key is taken
    with transaction.atomic():
        session["cart"] = {"lines": [3]}
        session.save()
    assert SessionStore(session.session_key)["cart"] == {"lines": [3]}


def test_an_expired_session_reads_as_none_and_gets_a_new_key():
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    session = stored()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    assert "cart" not in session
    assert session.session_key is None
