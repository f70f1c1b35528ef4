"""`Reminder.updated_at` for the API's incremental pulls: set on every change, including the
set-based `.update()` calls of dispatch, reassignment and e-mail (a PostgreSQL trigger; on
SQLite, used only by `make run`, `auto_now` covers saves)."""

from django.conf import settings
from django.db import migrations, models


TOUCH_SQL = """
CREATE OR REPLACE FUNCTION interactions_reminder_touch() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER interactions_reminder_touch BEFORE UPDATE ON interactions_reminder
    FOR EACH ROW EXECUTE FUNCTION interactions_reminder_touch();
"""
UNTOUCH_SQL = """
DROP TRIGGER IF EXISTS interactions_reminder_touch ON interactions_reminder;
DROP FUNCTION IF EXISTS interactions_reminder_touch();
"""


def touch_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TOUCH_SQL)


def drop_touch_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNTOUCH_SQL)


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0005_name_pinyin_and_import_jobs'),
        ('interactions', '0003_holidays_and_survey_questions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='reminder',
            name='updated_at',
            field=models.DateTimeField(auto_now=True, verbose_name='updated'),
        ),
        migrations.AddIndex(
            model_name='reminder',
            index=models.Index(fields=['updated_at', 'id'], name='reminder_updated'),
        ),
        migrations.RunPython(touch_trigger, drop_touch_trigger),
    ]
