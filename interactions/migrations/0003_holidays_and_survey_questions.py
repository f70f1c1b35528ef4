"""Seed the holiday calendar (Spring Festival, Mid-Autumn, National Day) for 2026-2028 and the
default survey questions (seed 002). Head office edits both in the admin afterwards."""

import datetime as dt

from django.db import migrations

HOLIDAYS = [
    ("spring_festival", "Spring Festival", dt.date(2026, 2, 17)),
    ("spring_festival", "Spring Festival", dt.date(2027, 2, 6)),
    ("spring_festival", "Spring Festival", dt.date(2028, 1, 26)),
    ("mid_autumn", "Mid-Autumn Festival", dt.date(2026, 9, 25)),
    ("mid_autumn", "Mid-Autumn Festival", dt.date(2027, 9, 15)),
    ("mid_autumn", "Mid-Autumn Festival", dt.date(2028, 10, 3)),
    ("national_day", "National Day", dt.date(2026, 10, 1)),
    ("national_day", "National Day", dt.date(2027, 10, 1)),
    ("national_day", "National Day", dt.date(2028, 10, 1)),
]

QUESTIONS = [
    ("service_quality", "How satisfied are you with the quality of our service?", "rating"),
    ("convenience", "How convenient is banking with us (time, channels, effort)?", "rating"),
    ("product_quality", "How satisfied are you with the products you hold with us?", "rating"),
    ("expectation", "What level of service did you expect from us?", "expectation"),
    ("perception", "What level of service did you actually receive?", "perception"),
]


def seed(apps, schema_editor):
    Holiday = apps.get_model("interactions", "Holiday")
    SurveyQuestion = apps.get_model("interactions", "SurveyQuestion")
    for occasion, name, date in HOLIDAYS:
        Holiday.objects.get_or_create(occasion=occasion, date=date, defaults={"name": name})
    for position, (code, text, role) in enumerate(QUESTIONS, start=1):
        SurveyQuestion.objects.get_or_create(
            code=code, defaults={"text": text, "role": role, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("interactions", "0002_working_day")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
