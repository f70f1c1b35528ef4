"""Issue an API key for an integration account. The token is shown once; only its hash is
stored."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from customers.api.keys import DEFAULT_VALIDITY_DAYS, integration_key_issue
from customers.models import ApiKeyScope, User


class Command(BaseCommand):
    help = "Issue an expiring API key (read or write scope) for an integration account."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The integration account (role 'integration').")
        parser.add_argument(
            "--days",
            type=int,
            default=DEFAULT_VALIDITY_DAYS,
            help=f"Days until the key expires (default {DEFAULT_VALIDITY_DAYS}).",
        )
        parser.add_argument(
            "--scope",
            choices=ApiKeyScope.values,
            default=ApiKeyScope.READ,
            help="read (default) or write (bulk upserts and import jobs).",
        )
        parser.add_argument("--name", default="", help="What the key is for, e.g. 'core nightly'.")
        parser.add_argument(
            "--rate", type=int, default=None, help="Requests per minute (default: API_KEY_RATE)."
        )

    def handle(self, *args, username: str, days: int, scope: str, name: str, rate, **options):
        try:
            account = User.objects.get(username=username, is_active=True)
        except User.DoesNotExist as error:
            raise CommandError(f"No active user named {username!r}.") from error
        if not account.is_integration:
            raise CommandError(f"{username!r} is not an integration account.")
        try:
            key, token = integration_key_issue(
                account=account, name=name, scope=scope, days=days, rate_per_minute=rate
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        expires = f"{key.expires_at:%Y-%m-%d %H:%M %Z}"
        self.stdout.write(f"Key #{key.pk} ({key.scope}) for {username} (expires {expires}):")
        self.stdout.write(token)
        self.stdout.write("It is shown only this once; store it in the calling system's vault.")
