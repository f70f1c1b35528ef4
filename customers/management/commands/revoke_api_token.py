"""Revoke integration keys: the token stops working at once; the key's record stays."""

from django.core.management.base import BaseCommand, CommandError

from customers.api.keys import integration_key_revoke
from customers.models import IntegrationKey


class Command(BaseCommand):
    help = "Revoke an API key by number, or every key of an integration account (--user)."

    def add_arguments(self, parser):
        parser.add_argument("key_id", type=int, nargs="?", help="The key's number.")
        parser.add_argument("--user", help="Revoke all keys of this account instead.")
        parser.add_argument("--reason", default="", help="Why (kept in the security log).")

    def handle(self, *args, key_id, user, reason: str, **options):
        if (key_id is None) == (user is None):
            raise CommandError("Give either a key number or --user.")
        keys = IntegrationKey.objects.filter(revoked_at__isnull=True)
        keys = keys.filter(pk=key_id) if key_id is not None else keys.filter(user__username=user)
        revoked = [integration_key_revoke(key=key, reason=reason) for key in keys]
        if not revoked:
            raise CommandError("No active key matched.")
        for key in revoked:
            self.stdout.write(f"Revoked key #{key.pk} ({key.name}).")
