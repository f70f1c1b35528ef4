"""Head office can use the admin for every model; the records of decisions stay read-only."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

APPS = ("customers", "interactions", "segmentation", "campaigns")
MODELS = [model for app in APPS for model in apps.get_app_config(app).get_models()]


def test_every_model_of_the_product_is_in_the_admin():
    missing = [model._meta.label for model in MODELS if model not in admin.site._registry]
    assert missing == []


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_head_office_opens_every_changelist(client_for, head_office, customer_a, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client_for(head_office).get(url).status_code == 200


@pytest.mark.django_db
def test_audit_trail_cannot_be_changed_in_the_admin(client_for, head_office):
    client = client_for(head_office)
    assert client.get(reverse("admin:customers_auditentry_add")).status_code == 403
