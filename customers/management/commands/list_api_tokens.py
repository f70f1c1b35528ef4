"""List integration keys: scope, expiry, last use; never the secret."""

from django.core.management.base import BaseCommand

from customers.models import IntegrationKey


class Command(BaseCommand):
    help = "List API keys with their scope, expiry and last use."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", help="Only this account's keys.")

    def handle(self, *args, username=None, **options):
        keys = IntegrationKey.objects.select_related("user").order_by("user__username", "pk")
        if username:
            keys = keys.filter(user__username=username)
        for key in keys:
            state = "revoked" if key.revoked_at else ("active" if key.is_active else "expired")
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            expires = f"{key.expires_at:%Y-%m-%d}" if key.expires_at else "never"
            self.stdout.write(
                f"#{key.pk}\t{key.user.username}\t{key.name}\t{key.scope}\t{state}"
                f"\texpires {expires}\tlast used {used}"
            )
