"""The one scoping rule: an RM sees their own book, a branch head their branch, head office all.

Out-of-scope customers are a 404 (never a 403, never the data), in the pages and the API.
"""

import pytest
from django.urls import reverse

from customers.models import Customer
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_rm_sees_only_own_book(rm_a, customer_a, customer_b, customer_y):
    # when
    visible = set(Customer.objects.visible_to(rm_a))
    # then
    assert visible == {customer_a}


def test_branch_head_sees_branch_and_not_other_branches(head_x, customer_a, customer_b, customer_y):
    assert set(Customer.objects.visible_to(head_x)) == {customer_a, customer_b}


def test_city_branch_head_sees_sub_branches(head_city, customer_a, branch_x2, customer_y):
    # given
    customer_x2 = CustomerFactory(relationship_manager=None, branch=branch_x2)
    # then
    assert set(Customer.objects.visible_to(head_city)) == {customer_a, customer_x2}


def test_head_office_sees_everything(head_office, customer_a, customer_b, customer_y):
    assert set(Customer.objects.visible_to(head_office)) == {customer_a, customer_b, customer_y}


def test_inactive_and_anonymous_users_see_nothing(rm_a, customer_a):
    from django.contrib.auth.models import AnonymousUser

    rm_a.is_active = False
    assert not Customer.objects.visible_to(rm_a).exists()
    assert not Customer.objects.visible_to(AnonymousUser()).exists()


@pytest.mark.parametrize(
    "url_name", ["customers:detail", "interactions:visit_log"], ids=["detail", "log-visit"]
)
def test_other_rms_customer_is_404_in_the_ui(client_for, rm_a, customer_b, url_name):
    # given
    kwargs = (
        {"pk": customer_b.pk} if url_name == "customers:detail" else {"customer_pk": customer_b.pk}
    )
    # when
    response = client_for(rm_a).get(reverse(url_name, kwargs=kwargs))
    # then
    assert response.status_code == 404
    assert customer_b.name not in response.content.decode()


def test_other_rms_customer_is_404_in_the_api(api_client_for, rm_a, customer_b):
    response = api_client_for(rm_a).get(f"/api/v1/customers/{customer_b.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert customer_b.name not in response.content.decode()


def test_list_pages_and_api_never_show_out_of_scope_customers(
    client_for, api_client_for, rm_a, customer_a, customer_b, customer_y
):
    page = client_for(rm_a).get(reverse("customers:list")).content.decode()
    api = api_client_for(rm_a).get("/api/v1/customers/").json()
    assert customer_a.name in page and customer_b.name not in page and customer_y.name not in page
    assert [row["customer_number"] for row in api["results"]] == [customer_a.customer_number]


def test_own_customer_and_branch_heads_get_200(client_for, rm_a, head_x, head_y, customer_a):
    url = reverse("customers:detail", kwargs={"pk": customer_a.pk})
    assert client_for(rm_a).get(url).status_code == 200
    assert client_for(head_x).get(url).status_code == 200
    assert client_for(head_y).get(url).status_code == 404


def test_anonymous_is_sent_to_login(client, customer_a):
    response = client.get(reverse("customers:detail", kwargs={"pk": customer_a.pk}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
