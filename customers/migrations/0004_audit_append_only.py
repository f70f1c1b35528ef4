"""Append-only audit tables (filled in by the security work of issue #8)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_integration_api")]

    operations = []
