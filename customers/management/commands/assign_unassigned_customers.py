"""Give a branch's unassigned customers to its RMs, evening out book size or book AUM.

The same service as the branch head's "Assign unassigned customers" button, so the same
rules hold: the acting user (`--as`) must be a branch head of that branch (or above it) or
head office, every move is a reassignment record with its reason and an audit entry naming
that user, and the RMs are told. Operators run it after a bulk import or an RM's departure:

    manage.py assign_unassigned_customers --as head.zhang --branch SH01 --by aum
    manage.py assign_unassigned_customers --as admin.chen --all-branches --dry-run
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from customers.models import Branch, Customer, User
from customers.services import BALANCE_BY_AUM, BALANCE_BY_COUNT, customers_auto_assign


def _customers(count: int) -> str:
    return f"{count:,} customer" + ("" if count == 1 else "s")


class Command(BaseCommand):
    help = "Assign a branch's unassigned customers to its RMs (book size or book AUM)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--as",
            dest="username",
            required=True,
            help="the branch head or head-office user the assignment is recorded for",
        )
        branches = parser.add_mutually_exclusive_group(required=True)
        branches.add_argument("--branch", action="append", metavar="CODE", help="repeatable")
        branches.add_argument(
            "--all-branches",
            action="store_true",
            help="every branch the user may manage that has unassigned customers",
        )
        parser.add_argument(
            "--by",
            choices=[BALANCE_BY_COUNT, BALANCE_BY_AUM],
            default=BALANCE_BY_COUNT,
            help="even out the number of customers (default) or the AUM of each book",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="print the assignment, then roll it back"
        )

    def handle(self, *args, username, branch, all_branches, by, dry_run, **options):
        try:
            acting_user = User.objects.select_related("branch").get(
                username=username, is_active=True
            )
        except User.DoesNotExist:
            raise CommandError(f"No active user {username!r}.") from None
        branches = self._branches(acting_user, codes=branch, all_branches=all_branches)
        total = 0
        with transaction.atomic():
            for each in branches:
                try:
                    assigned = customers_auto_assign(
                        acting_user=acting_user, branch=each, balance_by=by
                    )
                except PermissionDenied:
                    raise CommandError(
                        f"{username} may not assign the customers of branch {each.code}."
                    ) from None
                except ValidationError as error:
                    if not all_branches:
                        raise CommandError(f"{each.code}: {' '.join(error.messages)}") from None
                    # e.g. a city branch holding no RMs itself: the others still go ahead
                    self.stderr.write(f"{each.code}: skipped: {' '.join(error.messages)}")
                    continue
                managers = User.objects.in_bulk(list(assigned))
                for manager_id, count in sorted(assigned.items()):
                    self.stdout.write(f"{each.code}: {count:,} to {managers[manager_id]}")
                branch_total = sum(assigned.values())
                self.stdout.write(f"{each.code}: {_customers(branch_total)} assigned")
                total += branch_total
            if dry_run:
                transaction.set_rollback(True)
        verb = "would be assigned (dry run, nothing written)" if dry_run else "assigned"
        self.stdout.write(self.style.SUCCESS(f"{_customers(total)} {verb}."))

    def _branches(self, acting_user, *, codes, all_branches) -> list[Branch]:
        if not (acting_user.is_branch_head or acting_user.is_head_office):
            raise CommandError("Only branch heads and head office assign customers.")
        if codes:
            found = {each.code: each for each in Branch.objects.filter(code__in=codes)}
            unknown = sorted(set(codes) - set(found))
            if unknown:
                raise CommandError(f"Unknown branch code: {', '.join(unknown)}")
            return [found[code] for code in dict.fromkeys(codes)]
        with_unassigned = (
            Customer.objects.visible_to(acting_user)
            .filter(relationship_manager__isnull=True)
            .values("branch_id")
        )
        return list(Branch.objects.filter(pk__in=with_unassigned).order_by("path"))
