"""The customer filter form is built once per process (FormOncePerProcessMixin), yet every
request gets its own branch and RM choices: a branch head never sees, nor can filter by,
another branch's RMs, whoever used the form before them.
"""

import re

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.api.filtersets import CustomerApiFilterSet
from customers.choices import Role
from customers.filtersets import CustomerFilterSet
from customers.models import Branch, Customer
from tests.customers.factories import BranchFactory, UserFactory

pytestmark = pytest.mark.django_db


def filterset_for(user, data=None, filterset_class=CustomerFilterSet):
    """The list page's FilterSet, as built for a request of `user` (GET `data`)."""
    request = RequestFactory().get(reverse("customers:list"), data or {})
    request.user = user
    return filterset_class(
        request.GET or None, queryset=Customer.objects.visible_to(user), request=request
    )


def choice_pks(filterset, field: str) -> set[int]:
    return set(filterset.form.fields[field].queryset.values_list("pk", flat=True))


def option_values(html: str) -> set[str]:
    return set(re.findall(r'<option value="([^"]*)"', html)) - {""}


def select_html(page: str, name: str) -> str:
    match = re.search(rf'<select name="{name}".*?</select>', page, re.DOTALL)
    assert match, f"no <select name={name!r}> on the page"
    return match.group()


@pytest.fixture
def rm_x2(branch_x2):
    return UserFactory(username="rm_x2", branch=branch_x2, role=Role.RELATIONSHIP_MANAGER)


def test_the_form_class_is_built_once_and_shared(head_x, head_y):
    first, second = filterset_for(head_x), filterset_for(head_y)
    assert first.get_form_class() is second.get_form_class()
    assert type(first.form) is type(second.form)
    assert first.form is not second.form
    assert (
        first.form.fields["relationship_manager"] is not second.form.fields["relationship_manager"]
    )


def test_the_shared_form_class_offers_nobody(rm_a, rm_y, branch_x, branch_y):
    """Built without a request, the shared class carries no one's RMs or branches."""
    form = CustomerFilterSet(request=None).get_form_class()()
    assert not form.fields["relationship_manager"].queryset.exists()
    assert not form.fields["branch"].queryset.exists()
    assert CustomerFilterSet(request=None).form.fields["relationship_manager"].queryset.count() == 0


def test_branch_heads_in_turn_each_get_their_own_branch_choices(
    head_x, head_y, rm_a, rm_b, rm_y, branch_x, branch_y
):
    # when: X's head, then Y's head, then X's head again, in the same process
    for _ in range(2):
        for_x, for_y = filterset_for(head_x), filterset_for(head_y)
        # then
        assert choice_pks(for_x, "relationship_manager") == {rm_a.pk, rm_b.pk}
        assert choice_pks(for_y, "relationship_manager") == {rm_y.pk}
        assert choice_pks(for_x, "branch") == {branch_x.pk}
        assert choice_pks(for_y, "branch") == {branch_y.pk}
        # and the rendered selects offer the same, nothing more
        assert option_values(str(for_x.form["relationship_manager"])) == {
            str(rm_a.pk),
            str(rm_b.pk),
        }
        assert option_values(str(for_y.form["relationship_manager"])) == {str(rm_y.pk)}
        assert option_values(str(for_x.form["branch"])) == {str(branch_x.pk)}
        assert option_values(str(for_y.form["branch"])) == {str(branch_y.pk)}


def test_a_city_branch_head_gets_the_rms_of_every_sub_branch(
    head_city, head_x, rm_a, rm_b, rm_x2, rm_y, branch_x, branch_x2, city_branch
):
    for_city, for_x = filterset_for(head_city), filterset_for(head_x)
    assert choice_pks(for_city, "relationship_manager") == {rm_a.pk, rm_b.pk, rm_x2.pk}
    assert choice_pks(for_city, "branch") == {city_branch.pk, branch_x.pk, branch_x2.pk}
    assert choice_pks(for_x, "relationship_manager") == {rm_a.pk, rm_b.pk}


def test_inactive_rms_and_other_roles_are_not_offered(head_x, rm_a, branch_x):
    UserFactory(username="gone", branch=branch_x, role=Role.RELATIONSHIP_MANAGER, is_active=False)
    assert choice_pks(filterset_for(head_x), "relationship_manager") == {rm_a.pk}


@pytest.mark.parametrize("field", ["relationship_manager", "branch"])
def test_naming_another_branchs_rm_or_branch_is_a_validation_error(
    head_x, head_y, rm_a, rm_y, customer_a, customer_y, branch_y, field
):
    # given: Y's head filtered first, in the same process
    assert filterset_for(
        head_y, {field: rm_y.pk if field == "relationship_manager" else branch_y.pk}
    ).is_valid()
    # when: X's head names Y's RM (or Y's branch)
    value = rm_y.pk if field == "relationship_manager" else branch_y.pk
    filterset = filterset_for(head_x, {field: value})
    # then: refused, not silently applied or ignored as if valid
    assert not filterset.is_valid()
    assert "Select a valid choice" in str(filterset.errors[field])
    assert customer_y not in filterset.qs


def test_naming_an_own_rm_filters_by_them(head_x, rm_a, rm_b, customer_a, customer_b):
    filterset = filterset_for(head_x, {"relationship_manager": rm_b.pk})
    assert filterset.is_valid()
    assert list(filterset.qs) == [customer_b]


def test_an_rm_is_offered_no_rm_of_another_branch(rm_a, rm_b, rm_y, head_y):
    # given: Y's head used the form first
    filterset_for(head_y).form  # noqa: B018 - builds the form
    # when
    offered = choice_pks(filterset_for(rm_a), "relationship_manager")
    # then: their own branch's RMs at most (the page does not even show the select)
    assert rm_y.pk not in offered
    assert offered <= {rm_a.pk, rm_b.pk}
    assert not filterset_for(rm_a, {"relationship_manager": rm_y.pk}).is_valid()


def test_an_rm_without_a_branch_is_offered_only_themselves(rm_a, rm_y):
    loner = UserFactory(username="loner", branch=None, role=Role.RELATIONSHIP_MANAGER)
    assert choice_pks(filterset_for(loner), "relationship_manager") == {loner.pk}
    assert choice_pks(filterset_for(loner), "branch") == set()


def test_head_office_is_offered_every_rm_and_branch(
    head_office, head_x, rm_a, rm_b, rm_y, branch_x, branch_y, city_branch
):
    filterset_for(head_x).form  # noqa: B018 - a branch head first
    filterset = filterset_for(head_office)
    assert choice_pks(filterset, "relationship_manager") == {rm_a.pk, rm_b.pk, rm_y.pk}
    assert choice_pks(filterset, "branch") == {branch_x.pk, branch_y.pk, city_branch.pk}
    assert filterset_for(head_office, {"relationship_manager": rm_y.pk}).is_valid()


def test_the_api_filterset_keeps_its_own_shared_form_and_the_same_scoping(head_x, rm_a, rm_b, rm_y):
    page, api = filterset_for(head_x), filterset_for(head_x, filterset_class=CustomerApiFilterSet)
    assert api.get_form_class() is not page.get_form_class()
    assert choice_pks(api, "relationship_manager") == {rm_a.pk, rm_b.pk}
    assert not filterset_for(
        head_x, {"relationship_manager": rm_y.pk}, filterset_class=CustomerApiFilterSet
    ).is_valid()


def test_the_list_page_offers_each_branch_head_only_their_own_rms(
    client_for, head_x, head_y, rm_a, rm_b, rm_y, customer_a, customer_y
):
    """Two branch heads open the customer list one after the other."""
    url = reverse("customers:list")
    # when
    page_x = client_for(head_x).get(url).content.decode()
    page_y = client_for(head_y).get(url).content.decode()
    page_x_again = client_for(head_x).get(url).content.decode()
    # then
    assert option_values(select_html(page_x, "relationship_manager")) == {
        str(rm_a.pk),
        str(rm_b.pk),
    }
    options_y = option_values(select_html(page_y, "relationship_manager"))
    assert options_y == {str(rm_y.pk)}
    assert not options_y & {str(rm_a.pk), str(rm_b.pk)}
    assert str(rm_a) not in select_html(page_y, "relationship_manager")
    assert option_values(select_html(page_x_again, "relationship_manager")) == {
        str(rm_a.pk),
        str(rm_b.pk),
    }


def test_the_list_page_refuses_another_branchs_rm(client_for, head_x, head_y, rm_y, customer_a):
    url = reverse("customers:list")
    assert client_for(head_y).get(url, {"relationship_manager": rm_y.pk}).status_code == 200
    # when
    response = client_for(head_x).get(url, {"relationship_manager": rm_y.pk})
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice" in page
    assert f'value="{rm_y.pk}" selected' not in select_html(page, "relationship_manager")


def test_each_filterset_has_its_own_filters_bound_to_it(head_x, head_y):
    """Filters are copied one by one, not deep-copied: each FilterSet still gets its own,
    pointing back at it, and a request's querysets stay in that request's copies."""
    first, second = filterset_for(head_x, {"q": "王"}), filterset_for(head_y, {"q": "李"})
    for name, filter_ in first.filters.items():
        other = second.filters[name]
        assert filter_ is not other and filter_.extra is not other.extra
        assert filter_.parent is first and other.parent is second
    # a filter by method runs the method of its own FilterSet
    assert first.filters["q"].filter.f is first.filters["q"]
    assert second.filters["q"].filter.f is second.filters["q"]
    # building a model-choice field writes the request's queryset into that copy only
    first.filters["relationship_manager"].field  # noqa: B018 - builds the field
    declared = CustomerFilterSet.base_filters["relationship_manager"]
    assert callable(declared.extra["queryset"])
    assert "_field" not in declared.__dict__


def test_an_invalid_field_marks_only_its_own_form(head_x):
    """Form fields share their choices between forms, never their widgets' attributes."""
    invalid = filterset_for(head_x, {"completeness_below": "lots"})
    assert not invalid.form.is_valid()
    assert "is-invalid" in invalid.form.fields["completeness_below"].widget.attrs["class"]

    valid = filterset_for(head_x, {"completeness_below": "40"})
    assert valid.form.is_valid()
    assert "is-invalid" not in valid.form.fields["completeness_below"].widget.attrs["class"]
    assert list(valid.form.fields["value_tier"].choices) == list(
        invalid.form.fields["value_tier"].choices
    )
    assert valid.form.fields["value_tier"].widget is not invalid.form.fields["value_tier"].widget


def test_a_branch_heads_two_rm_dropdowns_offer_the_same_rms_read_once(
    client_for, head_city, head_x, rm_a, rm_b, rm_x2, rm_y, city_branch
):
    """The list's RM filter and its bulk-reassign dropdown offer one list of RMs (the active
    RMs of the head's branches), read with one query; naming another RM is still refused."""
    UserFactory(
        username="gone", branch=city_branch, role=Role.RELATIONSHIP_MANAGER, is_active=False
    )
    client = client_for(head_city)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("customers:list")).content.decode()
    expected = {str(rm_a.pk), str(rm_b.pk), str(rm_x2.pk)}
    assert option_values(select_html(page, "relationship_manager")) == expected
    assert option_values(select_html(page, "to_manager")) == expected
    staff_reads = [q["sql"] for q in queries if '"customers_user"."role" = ' in q["sql"]]
    assert len(staff_reads) == 1
    refused = client.get(reverse("customers:list"), {"relationship_manager": rm_y.pk})
    assert "Select a valid choice" in refused.content.decode()


def test_head_offices_branch_dropdown_offers_every_branch_in_path_order(
    client_for, head_office, city_branch, branch_x, branch_x2, branch_y, customer_y
):
    client = client_for(head_office)
    page = client.get(reverse("customers:list")).content.decode()
    offered = re.findall(r'<option value="(\d+)"', select_html(page, "branch"))
    paths = list(Branch.objects.order_by("path").values_list("pk", flat=True))
    assert offered == [str(pk) for pk in paths]
    # a branch opened a moment ago is offered on the next page, and filtering by it works
    opened = BranchFactory(code="SH99", name="New Sub-branch", parent=city_branch)
    page = client.get(reverse("customers:list")).content.decode()
    assert str(opened.pk) in option_values(select_html(page, "branch"))
    listed = client.get(reverse("customers:list"), {"branch": branch_y.pk}).context["customers"]
    assert [customer.pk for customer in listed] == [customer_y.pk]


def test_a_branch_head_filtering_by_a_branch_keeps_every_rm_to_filter_by(
    client_for, head_city, rm_a, rm_b, rm_x2, branch_x2, customer_a
):
    """Filtered to one sub-branch, the reassign dropdown offers that branch's RMs; the RM
    filter still offers all of the head's, so the RM already chosen stays chosen."""
    page = (
        client_for(head_city)
        .get(reverse("customers:list"), {"branch": branch_x2.pk, "relationship_manager": rm_a.pk})
        .content.decode()
    )
    rm_filter = select_html(page, "relationship_manager")
    assert option_values(rm_filter) == {str(rm_a.pk), str(rm_b.pk), str(rm_x2.pk)}
    assert re.search(rf'<option value="{rm_a.pk}" selected>', rm_filter)
    assert option_values(select_html(page, "to_manager")) == {str(rm_x2.pk)}


def test_a_forms_choice_field_changes_stay_in_that_form(head_x):
    """Choice lists are shared between forms, but each field reads its own settings."""
    changed = filterset_for(head_x).form
    changed.fields["customer_type"].empty_label = None
    assert "" not in [value for value, _ in changed.fields["customer_type"].choices]
    untouched = filterset_for(head_x).form
    assert "" in [value for value, _ in untouched.fields["customer_type"].choices]
