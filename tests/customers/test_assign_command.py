"""`manage.py assign_unassigned_customers`: the auto-assignment button, for operators."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from customers.models import AuditEntry, Customer, Reassignment
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = io.StringIO()
    call_command("assign_unassigned_customers", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_assigns_a_branchs_unassigned_customers_evening_out_book_sizes(
    head_x, branch_x, rm_a, rm_b
):
    # given: rm_a has 3 customers, rm_b none; 5 are unassigned
    CustomerFactory.create_batch(3, relationship_manager=rm_a)
    CustomerFactory.create_batch(5, relationship_manager=None, branch=branch_x)
    # when
    output = _run("--as", "head_x", "--branch", "SH01")
    # then: 4 to rm_b, 1 to rm_a, recorded for the branch head with the reason
    assert Customer.objects.filter(relationship_manager=rm_a).count() == 4
    assert Customer.objects.filter(relationship_manager=rm_b).count() == 4
    assert "SH01: 5 customers assigned" in output
    assert "5 customers assigned." in output
    moves = Reassignment.objects.all()
    assert moves.count() == 5
    assert {move.reassigned_by for move in moves} == {head_x}
    assert AuditEntry.objects.filter(actor=head_x, changes__has_key="relationship_manager").count()


def test_dry_run_prints_the_assignment_and_writes_nothing(head_x, branch_x, rm_a):
    CustomerFactory.create_batch(2, relationship_manager=None, branch=branch_x)
    output = _run("--as", "head_x", "--branch", "SH01", "--dry-run")
    assert "SH01: 2 to" in output
    assert "2 customers would be assigned (dry run, nothing written)." in output
    assert Customer.objects.filter(relationship_manager__isnull=True).count() == 2
    assert not Reassignment.objects.exists()


def test_all_branches_covers_what_head_office_may_manage_and_skips_branches_without_rms(
    head_office, branch_x, branch_y, rm_a, rm_y, city_branch
):
    # given: unassigned customers in SH01 and BJ, and in the city branch, which has no RMs
    CustomerFactory(relationship_manager=None, branch=branch_x)
    CustomerFactory(relationship_manager=None, branch=branch_y)
    stranded = CustomerFactory(relationship_manager=None, branch=city_branch)
    # when
    output = _run("--as", "head_office", "--all-branches", "--by", "aum")
    # then
    assert "SH01: 1 customer assigned" in output and "BJ: 1 customer assigned" in output
    assert Customer.objects.filter(relationship_manager__isnull=True).get() == stranded


def test_a_branch_head_cannot_assign_another_branchs_customers(head_x, branch_y, rm_y):
    CustomerFactory(relationship_manager=None, branch=branch_y)
    with pytest.raises(CommandError, match="may not assign the customers of branch BJ"):
        _run("--as", "head_x", "--branch", "BJ")
    assert Customer.objects.filter(relationship_manager__isnull=True).count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as", "rm_a", "--branch", "SH01"], "Only branch heads and head office"),
        (["--as", "nobody", "--branch", "SH01"], "No active user 'nobody'"),
        (["--as", "head_x", "--branch", "XX99"], "Unknown branch code: XX99"),
    ],
)
def test_bad_arguments_are_clear_errors(head_x, rm_a, args, message):
    with pytest.raises(CommandError, match=message):
        _run(*args)
