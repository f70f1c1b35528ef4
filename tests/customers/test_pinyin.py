"""Finding Chinese names typed in pinyin: the search tokens, the list filter, and every way a
name gets into the book (page, approval, file import, API, the migration's backfill)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from customers.imports import customers_import, import_file_read
from customers.models import Customer
from customers.pinyin import name_pinyin, pinyin_search_key
from customers.services import change_request_decide, change_request_submit
from tests.customers.factories import CustomerFactory
from tests.customers.test_api_bulk import customer_record, key_client, post

pytestmark = pytest.mark.django_db


# --- The tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("王小明", " wangxiaoming xiaoming wxm"),
        ("王伟", " wangwei wei ww"),
        ("欧阳娜娜", " ouyangnana yangnana oynn"),
        ("曾小贤", " cengxiaoxian xiaoxian cxx zengxiaoxian zxx"),  # 曾 is "zeng" as a surname
        ("上海示例贸易有限公司", " shanghaishilimaoyiyouxiangongsi shslmyyxgs"),
        ("ABC科技有限公司", " abckejiyouxiangongsi abckjyxgs"),
        ("Alice Customer-of-A", ""),  # searched as written
        ("", ""),
    ],
)
def test_name_pinyin_tokens(name, tokens):
    assert name_pinyin(name) == tokens


def test_tokens_fit_the_column_however_long_the_name():
    tokens = name_pinyin("中" * 200)
    assert len(tokens) <= Customer._meta.get_field("name_pinyin").max_length
    assert tokens.startswith(" zhongzhong")


@pytest.mark.parametrize(
    ("term", "key"),
    [("wxm", "wxm"), ("Wang Xiaoming", "wangxiaoming"), ("xi'an", "xian"), ("w", None)],
)
def test_search_key(term, key):
    assert pinyin_search_key(term) == key


@pytest.mark.parametrize("term", ["139", "小明", "C0001", "a1"])
def test_terms_that_are_not_pinyin_are_not_searched_as_pinyin(term):
    assert pinyin_search_key(term) is None


# --- The customer list ---------------------------------------------------------------------


@pytest.fixture
def wang(rm_a):
    return CustomerFactory(relationship_manager=rm_a, name="王小明")


def _found(client, term) -> list[str]:
    response = client.get(reverse("customers:list"), {"q": term})
    assert response.status_code == 200
    return [customer.name for customer in response.context["customers"]]


@pytest.mark.parametrize(
    "term", ["wxm", "wangxiaoming", "Wang Xiaoming", "WANGXIAO", "xiaoming", "wx", "小明"]
)
def test_list_finds_a_chinese_name_typed_in_pinyin(client_for, rm_a, wang, term):
    # given
    CustomerFactory(relationship_manager=rm_a, name="王伟")
    CustomerFactory(relationship_manager=rm_a, name="Wang Xiao Co.")
    # when
    found = _found(client_for(rm_a), term)
    # then
    assert "王小明" in found, term
    assert "王伟" not in found, term


@pytest.mark.parametrize("term", ["wxn", "ming", "xm"])
def test_a_key_must_start_a_token(client_for, rm_a, wang, term):
    assert _found(client_for(rm_a), term) == []


def test_pinyin_search_keeps_the_scope(client_for, rm_a, rm_b, wang, customer_b):
    # given: RM B also has a 王小明
    CustomerFactory(relationship_manager=rm_b, name="王小明")
    # then
    assert _found(client_for(rm_a), "wxm") == ["王小明"]
    assert [
        c.pk for c in client_for(rm_a).get("/customers/", {"q": "wxm"}).context["customers"]
    ] == [wang.pk]


def test_api_list_searches_pinyin_too(api_client_for, rm_a, rm_b, wang):
    CustomerFactory(relationship_manager=rm_b, name="王小明")
    body = api_client_for(rm_a).get("/api/v1/customers/", {"q": "wxm"}).json()
    assert [row["customer_number"] for row in body["results"]] == [wang.customer_number]


def test_pinyin_search_uses_the_trigram_index():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL index")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'customer_name_pinyin_trgm'"
        )
        (definition,) = cursor.fetchone()
    assert "gin" in definition and "name_pinyin gin_trgm_ops" in definition


# --- Every way in --------------------------------------------------------------------------


def test_tokens_follow_an_approved_name_change(rm_a, head_x, wang):
    # given
    request = change_request_submit(
        acting_user=rm_a,
        customer=wang,
        changes={"name": "李小龙", "id_number": wang.id_number},
        reason="New ID card",
    )
    # when
    change_request_decide(acting_user=head_x, change_request=request, approve=True)
    # then
    wang.refresh_from_db()
    assert wang.name_pinyin == " lixiaolong xiaolong lxl"


def test_file_import_fills_the_tokens(head_x, settings, tmp_path):
    settings.CUSTOMER_IMPORT_DIR = str(tmp_path)
    data = "customer_number,customer_type,name,branch_code\nPY1,individual,张伟,SH01\n".encode()
    customers_import(acting_user=head_x, parsed=import_file_read(data, filename="x.csv"))
    assert Customer.objects.get(customer_number="PY1").name_pinyin == " zhangwei wei zw"


def test_api_ingest_fills_the_tokens_on_create_and_on_rename(integration_user, branch_x):
    # given
    writer = key_client(integration_user)
    # when
    created = post(writer, "customers", [customer_record("PY2", name="王芳")])
    renamed = post(writer, "customers", [customer_record("PY2", name="王小芳")])
    # then
    assert created.status_code == 200 and renamed.status_code == 200
    assert Customer.objects.get(customer_number="PY2").name_pinyin == (" wangxiaofang xiaofang wxf")


def test_migration_backfills_existing_customers_in_batches(rm_a, monkeypatch):
    # given: customers stored before the column existed
    migration = importlib.import_module("customers.migrations.0005_name_pinyin_and_import_jobs")
    monkeypatch.setattr(migration, "BACKFILL_BATCH", 2)
    customers = [
        CustomerFactory(relationship_manager=rm_a, name=name)
        for name in ["王小明", "Li Lei", "张伟", "陈静", "刘洋"]
    ]
    Customer.objects.update(name_pinyin="")
    # when
    migration.backfill_name_pinyin(apps, type("Editor", (), {"connection": connection})())
    # then
    stored = dict(Customer.objects.values_list("name", "name_pinyin"))
    assert stored == {customer.name: name_pinyin(customer.name) for customer in customers}
    assert stored["Li Lei"] == "" and stored["刘洋"] == " liuyang yang ly"
