"""Rotate an integration key: a successor with the same scope, the old one ends after a grace."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from customers.api.keys import integration_key_rotate
from customers.models import IntegrationKey


class Command(BaseCommand):
    help = "Issue a successor of an API key and end the old one (now, or after --grace-hours)."

    def add_arguments(self, parser):
        parser.add_argument("key_id", type=int, help="The key's number (see list_api_tokens).")
        parser.add_argument(
            "--grace-hours",
            type=float,
            default=0,
            help="Hours the old key keeps working, for a switch without outage (default 0).",
        )

    def handle(self, *args, key_id: int, grace_hours: float, **options):
        key = IntegrationKey.objects.filter(pk=key_id).first()
        if key is None:
            raise CommandError(f"No key #{key_id}.")
        try:
            new_key, token = integration_key_rotate(
                key=key, grace=dt.timedelta(hours=max(0.0, grace_hours))
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            f"Key #{new_key.pk} replaces #{key.pk} (expires {new_key.expires_at:%Y-%m-%d}):"
        )
        self.stdout.write(token)
        self.stdout.write("It is shown only this once; store it in the calling system's vault.")
