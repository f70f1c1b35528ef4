"""Route inventory: every URL has an explicit access rule, and the rules hold.

A new route without a rule here fails `test_every_route_has_an_access_rule`. The behaviour
tests then check each kind: anonymous users are sent to sign in, RMs get 403 on branch-head
functions, branch heads get 403 on head-office functions, and every route that takes a
customer answers 404 for a customer outside the caller's scope.
"""

import pytest
from django.urls import URLResolver, get_resolver, reverse

PUBLIC = "public"  # no sign-in needed
STAFF = "staff"  # any signed-in staff member, scoped by visible_to
BRANCH = "branch_manager"  # branch heads and head office
HEAD_OFFICE = "head_office"
API = "api"  # token or session; scoped; write endpoints need a write key

ROUTES = {
    "home": STAFF,
    "health": PUBLIC,
    "login": PUBLIC,
    "logout": STAFF,
    "mfa:verify": STAFF,  # also before the code is entered: the second step of signing in
    "mfa:enrol": STAFF,
    "mfa:step_up": STAFF,
    "set_language": PUBLIC,
    "customers:list": STAFF,
    "customers:detail": STAFF,
    "customers:edit": STAFF,
    "customers:reveal": STAFF,
    "customers:holding_reveal": STAFF,
    "customers:key_contact_reveal": STAFF,
    "customers:change_request_create": STAFF,
    "customers:audit": BRANCH,
    "customers:key_contact_add": STAFF,
    "customers:related_party_link": STAFF,
    "customers:key_contact_edit": STAFF,
    "customers:key_contact_remove": STAFF,
    "customers:related_party_edit": STAFF,
    "customers:related_party_unlink": STAFF,
    "customers:team_member_add": BRANCH,
    "customers:team_member_remove": BRANCH,
    "customers:change_requests": BRANCH,
    "customers:change_request_decide": BRANCH,
    "customers:change_request_reveal": STAFF,  # scoped: another branch's request is a 404
    "customers:reassign": BRANCH,
    "customers:handover": BRANCH,
    "customers:auto_assign": BRANCH,
    "customers:import": BRANCH,
    "customers:import_preview": BRANCH,
    "customers:import_commit": BRANCH,
    "customers:import_template": BRANCH,
    "customers:import_job": BRANCH,
    "customers:export": STAFF,
    "customers:export_unmasked": BRANCH,
    "interactions:today": STAFF,
    "interactions:visit_start": STAFF,
    "interactions:visit_log": STAFF,
    "interactions:reminder_create": STAFF,
    "interactions:reminder_complete": STAFF,
    "interactions:reminder_snooze": STAFF,
    "interactions:reminder_reassign": STAFF,
    "interactions:request_create": STAFF,
    "interactions:request_answer": STAFF,
    "interactions:complaints": STAFF,
    "interactions:complaint_create": STAFF,
    "interactions:complaint_detail": STAFF,
    "interactions:survey_record": STAFF,
    "interactions:survey_link": STAFF,
    "interactions:survey_public": PUBLIC,
    "interactions:service_dashboard": BRANCH,
    "interactions:notifications": STAFF,
    "interactions:notifications_read_all": STAFF,
    "interactions:notification_read": STAFF,
    "segmentation:dashboard": BRANCH,
    "segmentation:dashboard_data": BRANCH,
    "segmentation:dashboard_csv": BRANCH,
    "segmentation:model": HEAD_OFFICE,
    "segmentation:playbook": HEAD_OFFICE,
    "segmentation:runs": HEAD_OFFICE,
    "segmentation:override": BRANCH,
    "campaigns:board": STAFF,
    "campaigns:funnel": BRANCH,
    "campaigns:plan_detail": STAFF,
    "campaigns:plan_advance": STAFF,
    "campaigns:plan_skip": STAFF,  # branch heads skip; RMs send a skip request
    "campaigns:plan_back": STAFF,
    "campaigns:plan_cancel": STAFF,
    "campaigns:plan_record": STAFF,
    "campaigns:proposal": STAFF,
    "campaigns:proposal_outcome": STAFF,
    "campaigns:plan_start": STAFF,
    "campaigns:skip_requests": BRANCH,
    "campaigns:skip_request_decide": BRANCH,
    "campaigns:target_lists": STAFF,
    "campaigns:target_list_create": STAFF,
    "campaigns:target_list": STAFF,
    "campaigns:campaigns": STAFF,
    "campaigns:campaign_create": BRANCH,
    "campaigns:campaign_detail": STAFF,
    "campaigns:campaign_edit": BRANCH,
    "campaigns:campaign_build_list": BRANCH,
    "campaigns:invitations_update": STAFF,
    "campaigns:campaign_complete": BRANCH,
    "campaigns:campaign_cancel": BRANCH,
    "campaigns:campaign_report": STAFF,
    "campaigns:campaign_report_csv": STAFF,
    "campaigns:customer_invite": STAFF,
    "campaigns:campaign_types": HEAD_OFFICE,
    "campaigns:campaign_type_create": HEAD_OFFICE,
    "campaigns:campaign_type_edit": HEAD_OFFICE,
    "bulk-customers": API,
    "bulk-holdings": API,
    "bulk-balance_snapshots": API,
    "bulk-transactions": API,
    "bulk-related_parties": API,
    "bulk-rm_assignments": API,
    "customer-list": API,
    "customer-detail": API,
    "holding-list": API,
    "holding-detail": API,
    "score-list": API,
    "score-detail": API,
    "interaction-list": API,
    "interaction-detail": API,
    "reminder-list": API,
    "reminder-detail": API,
    "import-job-list": API,
    "import-job-detail": API,
    "api-schema": PUBLIC,
    "api-docs": PUBLIC,
    "api-redoc": PUBLIC,
}


def _route_names(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern).startswith("admin/"):
                continue  # Django's admin: staff flag plus per-model permissions
            inner = pattern.namespace or namespace
            yield from _route_names(pattern.url_patterns, inner)
        elif pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_every_route_has_an_access_rule():
    names = set(_route_names(get_resolver().url_patterns))
    assert names - set(ROUTES) == set(), "new routes need an access rule in ROUTES"
    assert set(ROUTES) - names == set(), "ROUTES lists routes that no longer exist"


def _plain(kind):
    """Routes of `kind` that take no argument."""
    for name, rule in ROUTES.items():
        if rule != kind:
            continue
        try:
            yield reverse(name)
        except Exception:  # noqa: S112 - routes with arguments are covered below
            continue


@pytest.mark.django_db
@pytest.mark.parametrize("url", [*_plain(BRANCH), *_plain(HEAD_OFFICE)])
def test_relationship_managers_get_403_on_branch_and_head_office_functions(client_for, rm_a, url):
    assert client_for(rm_a).get(url).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("url", list(_plain(HEAD_OFFICE)))
def test_branch_heads_get_403_on_head_office_functions(client_for, head_x, url):
    assert client_for(head_x).get(url).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("url", [*_plain(STAFF), *_plain(BRANCH), *_plain(HEAD_OFFICE)])
def test_anonymous_users_are_sent_to_sign_in(client, url):
    if url == reverse("logout"):
        pytest.skip("signing out needs no session")
    response = client.get(url)
    assert response.status_code in (302, 401, 403)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("login"))


CUSTOMER_ROUTES = [
    (name, kwarg)
    for name, kwarg in [
        ("customers:detail", "pk"),
        ("customers:edit", "pk"),
        ("customers:change_request_create", "pk"),
        ("customers:key_contact_add", "pk"),
        ("customers:related_party_link", "pk"),
        ("customers:team_member_add", "pk"),
        ("interactions:visit_log", "customer_pk"),
        ("interactions:reminder_create", "customer_pk"),
        ("interactions:request_create", "customer_pk"),
        ("interactions:complaint_create", "customer_pk"),
        ("interactions:survey_record", "customer_pk"),
        ("interactions:survey_link", "customer_pk"),
        ("campaigns:plan_start", "customer_pk"),
    ]
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kwarg"), CUSTOMER_ROUTES, ids=[n for n, _ in CUSTOMER_ROUTES])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_rms_customer_is_404_on_every_customer_route(
    client_for, rm_a, customer_b, name, kwarg, method
):
    url = reverse(name, kwargs={kwarg: customer_b.pk})
    response = getattr(client_for(rm_a), method)(url)
    assert response.status_code in (404, 405)
    assert customer_b.name not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["id_number", "phone"])
def test_reveal_of_another_rms_customer_is_404(client_for, rm_a, customer_b, field):
    url = reverse("customers:reveal", kwargs={"pk": customer_b.pk, "field": field})
    assert client_for(rm_a).post(url).status_code == 404


@pytest.mark.django_db
def test_branch_head_of_another_branch_gets_404_on_override_and_audit(
    client_for, head_y, customer_a
):
    for name in ("segmentation:override", "customers:audit"):
        url = reverse(name, kwargs={"pk": customer_a.pk})
        assert client_for(head_y).get(url).status_code == 404
