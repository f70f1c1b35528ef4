"""Queries compiled once per process (crm_site.db.CompiledQuery) give what their querysets
give: the same objects, related objects, deferred fields and order, for each new value.

And what reads through them on every page (the session, the signed-in user) keeps Django's
rules: an expired session or an inactive user is not signed in.
"""

import datetime as dt
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models import Value
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm_site.db import CompiledQuery
from customers.backends import StaffBackend
from customers.choices import Role
from customers.models import User
from customers.models.organisation import _team_customer_ids, scope_branch_ids
from interactions.models import Notification
from interactions.selectors import unread_notifications
from segmentation.choices import RunTrigger
from segmentation.models import ScoringRun
from tests.customers.factories import BranchFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

USER_WITH_BRANCH = CompiledQuery(
    lambda pk: User.objects.select_related("branch").filter(pk=pk), int
)


def test_objects_are_the_querysets_objects_with_their_related_objects():
    # given: two users in different branches
    first, second = UserFactory(branch=BranchFactory()), UserFactory(branch=BranchFactory())

    for user in (first, second):
        # when: each is read through the compiled query
        with CaptureQueriesContext(connection) as queries:
            (loaded,) = USER_WITH_BRANCH.objects(user.pk)
            branch_name = loaded.branch.name
        # then: one query, the same row as the ORM's, the branch already loaded
        assert len(queries) == 1
        expected = User.objects.select_related("branch").get(pk=user.pk)
        assert loaded == expected
        assert loaded.username == expected.username
        assert loaded.last_login == expected.last_login
        assert loaded.is_active is True
        assert branch_name == user.branch.name
        assert loaded._state.db == "default" and not loaded._state.adding


def test_no_row_is_an_empty_list():
    assert USER_WITH_BRANCH.objects(10**9) == []


def test_a_user_without_a_branch_has_none():
    user = UserFactory(branch=None, role=Role.HEAD_OFFICE)
    (loaded,) = USER_WITH_BRANCH.objects(user.pk)
    assert loaded.branch is None


def test_rows_of_a_values_list_query_and_a_string_value():
    users = UserFactory.create_batch(3)
    usernames = CompiledQuery(
        lambda name: User.objects.filter(username=name).values_list("id", "username"), str
    )
    for user in users:
        assert [tuple(row) for row in usernames.rows(user.username)] == [(user.pk, user.username)]
    assert usernames.rows("nobody-by-that-name") == []


def test_columns_that_need_converting_come_back_converted():
    # A JSON column reaches Python as text: the field's converter must run, as in the ORM.
    run = ScoringRun.objects.create(
        business_date=dt.date(2026, 11, 20),
        trigger=RunTrigger.MANUAL,
        timings={"load": 1.5, "write": 0.25},
        customers_scored=3,
    )
    by_pk = CompiledQuery(lambda pk: ScoringRun.objects.filter(pk=pk), int)
    (loaded,) = by_pk.objects(run.pk)
    assert loaded.timings == {"load": 1.5, "write": 0.25}
    assert loaded.created_at == ScoringRun.objects.get(pk=run.pk).created_at


def test_deferred_fields_ordering_and_limit_follow_the_queryset():
    # given: an RM with twelve unread notifications and one read one
    manager = UserFactory()
    customer = CustomerFactory(relationship_manager=manager, branch=manager.branch)
    now = timezone.now()
    for minutes in range(12):
        notification = Notification.objects.create(
            recipient=manager, customer=customer, message=f"due {minutes}"
        )
        Notification.objects.filter(pk=notification.pk).update(
            created_at=now - dt.timedelta(minutes=minutes)
        )
    Notification.objects.create(recipient=manager, message="seen", read_at=now)
    Notification.objects.create(recipient=UserFactory(), message="someone else's")

    # when: the header reads them
    with CaptureQueriesContext(connection) as queries:
        badge, latest = unread_notifications(user=manager)
        names = [notification.customer.name for notification in latest]

    # then: one query; newest first; the badge caps at 9+; only the columns shown were loaded
    assert len(queries) == 1
    assert badge == "9+"
    assert [notification.message for notification in latest] == [f"due {m}" for m in range(5)]
    assert names == [customer.name] * 5
    assert latest[0].get_deferred_fields() >= {"reminder_id", "read_at"}


def test_team_customer_ids_for_each_user():
    manager, colleague = UserFactory(), UserFactory()
    customers = CustomerFactory.create_batch(2)
    for customer in customers:
        customer.team.create(member=colleague)
    assert _team_customer_ids(manager) == []
    assert sorted(_team_customer_ids(colleague)) == sorted(c.pk for c in customers)


def test_values_other_than_int_or_str_are_refused():
    with pytest.raises(TypeError):
        CompiledQuery(lambda when: User.objects.filter(last_login=when), dt.datetime).rows(
            timezone.now()
        )


def test_a_value_used_twice_is_refused():
    twice = CompiledQuery(lambda pk: User.objects.filter(pk=pk) | User.objects.filter(pk=pk), int)
    with pytest.raises(ValueError):
        twice.rows(1)


# --- What reads through it on every page ------------------------------------------------------


def _store(key=None):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)


def test_a_live_session_loads_and_an_expired_one_does_not():
    live = _store()
    live["teller"] = "window 3"
    live.save()
    expired = _store()
    expired["teller"] = "window 4"
    expired.save()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )

    assert _store(live.session_key)["teller"] == "window 3"
    stale = _store(expired.session_key)
    assert "teller" not in stale
    assert stale.session_key is None  # a new session is made, never the expired one revived
    assert "teller" not in _store("no-such-session-key-at-all")


def test_the_signed_in_user_is_loaded_with_the_branch_and_must_be_active():
    backend = StaffBackend()
    user = UserFactory()
    with CaptureQueriesContext(connection) as queries:
        loaded = backend.get_user(str(user.pk))
        assert loaded.branch == user.branch
    assert len(queries) == 1

    User.objects.filter(pk=user.pk).update(is_active=False)
    assert backend.get_user(user.pk) is None
    assert backend.get_user(10**9) is None
    assert backend.get_user("not-a-number") is None


def test_a_branch_heads_branches_are_theirs_and_below_wildcards_matching_only_themselves():
    under_score = BranchFactory(code="A_1", name="A_1 branch", parent=None)
    below = BranchFactory(code="A_1-1", name="below", parent=under_score)
    lookalike = BranchFactory(code="AB1", name="look-alike", parent=None)
    percent = BranchFactory(code="A%", name="percent", parent=None)
    head = UserFactory(role=Role.BRANCH_HEAD, branch=under_score)
    assert sorted(scope_branch_ids(head)) == sorted([under_score.pk, below.pk])
    assert lookalike.pk not in scope_branch_ids(head)
    other_head = UserFactory(role=Role.BRANCH_HEAD, branch=percent)
    assert scope_branch_ids(other_head) == [percent.pk]


def test_a_branch_heads_rms_are_the_assignable_ones_by_name_with_their_branch():
    from customers.selectors import assignable_managers, branch_head_managers

    # given: RMs of the head's branch and of the one below it, an inactive RM, another branch
    city = BranchFactory(code="C1", name="City", parent=None)
    below = BranchFactory(code="C1-1", name="Below", parent=city)
    other = BranchFactory(code="C2", name="Other", parent=None)
    head = UserFactory(role=Role.BRANCH_HEAD, branch=city)
    for first_name, branch in (("Zhou", city), ("Li", below), ("Chen", city), ("Wu", other)):
        UserFactory(first_name=first_name, last_name="", branch=branch)
    UserFactory(first_name="Former", branch=city, is_active=False)
    UserFactory(first_name="Another head", role=Role.BRANCH_HEAD, branch=below)
    # when
    with CaptureQueriesContext(connection) as queries:
        managers = branch_head_managers(head)
        labels = [(str(manager), manager.branch.name) for manager in managers]
    # then: the same RMs as the queryset, in name order, with their branch, in one query
    assert managers == list(assignable_managers(head))
    assert labels == [("Chen", "City"), ("Li", "Below"), ("Zhou", "City")]
    assert len(queries) == 1
    assert branch_head_managers(UserFactory(role=Role.RELATIONSHIP_MANAGER, branch=city)) == []


def test_each_value_must_be_of_its_kind_and_none_is_refused():
    # the SQL was compiled for "= %s": None would silently match nothing, not "IS NULL"
    with pytest.raises(TypeError):
        USER_WITH_BRANCH.objects(None)
    with pytest.raises(TypeError):
        USER_WITH_BRANCH.objects("12")
    with pytest.raises(TypeError):
        USER_WITH_BRANCH.objects(True)
    with pytest.raises(TypeError):
        USER_WITH_BRANCH.objects(1, 2)


@pytest.mark.parametrize(
    "build",
    [
        lambda pk: User.objects.filter(pk=pk).annotate(tag=Value("x")),
        lambda pk: User.objects.filter(pk=pk).extra(select={"one": "1"}),  # noqa: S610
        lambda pk: User.objects.filter(pk=pk).prefetch_related("team_memberships"),
        lambda pk: User.objects.filter(pk=pk).values("id"),
    ],
)
def test_what_it_would_silently_drop_is_refused(build):
    with pytest.raises(TypeError):
        CompiledQuery(build, int).objects(1)


def test_a_32_bit_key_column_works():
    content_type = ContentType.objects.get_for_model(User)
    by_pk = CompiledQuery(lambda pk: ContentType.objects.filter(pk=pk), int)
    assert by_pk.objects(content_type.pk) == [content_type]
