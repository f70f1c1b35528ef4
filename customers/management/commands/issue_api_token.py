"""Issue an API token for an integration account. The token is shown once; only its hash
is stored."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from knox.models import AuthToken

from customers.models import User

DEFAULT_VALIDITY_DAYS = 90


class Command(BaseCommand):
    help = "Issue an expiring API token for an integration account and print it once."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The integration account (role 'integration').")
        parser.add_argument(
            "--days",
            type=int,
            default=DEFAULT_VALIDITY_DAYS,
            help=f"Days until the token expires (default {DEFAULT_VALIDITY_DAYS}).",
        )

    def handle(self, *args, username: str, days: int, **options):
        try:
            account = User.objects.get(username=username, is_active=True)
        except User.DoesNotExist as error:
            raise CommandError(f"No active user named {username!r}.") from error
        if not account.is_integration:
            raise CommandError(f"{username!r} is not an integration account.")
        if days < 1:
            raise CommandError("--days must be at least 1.")
        instance, token = AuthToken.objects.create(user=account, expiry=dt.timedelta(days=days))
        self.stdout.write(f"Token for {username} (expires {instance.expiry:%Y-%m-%d %H:%M %Z}):")
        self.stdout.write(token)
        self.stdout.write("It is shown only this once; store it in the calling system's vault.")
