"""Fixtures of the interaction tests. Transactional tests flush the tables, seeded rows
included, so the survey questions and holidays are created here rather than trusted."""

import datetime as dt

import pytest

from interactions.models import Holiday, SurveyQuestion

QUESTIONS = [
    ("service_quality", "How satisfied are you with the quality of our service?", "rating"),
    ("convenience", "How convenient is banking with us?", "rating"),
    ("product_quality", "How satisfied are you with our products?", "rating"),
    ("expectation", "What level of service did you expect?", "expectation"),
    ("perception", "What level of service did you receive?", "perception"),
]


@pytest.fixture
def survey_questions(db):
    return [
        SurveyQuestion.objects.get_or_create(
            code=code, defaults={"text": text, "role": role, "position": position}
        )[0]
        for position, (code, text, role) in enumerate(QUESTIONS, start=1)
    ]


@pytest.fixture
def holidays(db):
    return [
        Holiday.objects.get_or_create(occasion=occasion, date=date, defaults={"name": name})[0]
        for occasion, name, date in [
            ("mid_autumn", "Mid-Autumn Festival", dt.date(2026, 9, 25)),
            ("national_day", "National Day", dt.date(2026, 10, 1)),
        ]
    ]
