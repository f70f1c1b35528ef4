"""Satisfaction surveys: the quarterly job, RM-recorded answers, and the one-time link."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import AuditEntry
from interactions.choices import SurveySource, SurveyStatus
from interactions.models import Survey
from interactions.services import (
    quarter_of,
    survey_link_issue,
    survey_record,
    surveys_open_quarter,
)
from tests.customers.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("survey_questions")]

ANSWERS = {
    "service_quality": 5,
    "convenience": 4,
    "product_quality": 3,
    "expectation": 4,
    "perception": 3,
}


def _form(answers=ANSWERS, comment="Friendly staff"):
    return {**{f"q_{code}": str(score) for code, score in answers.items()}, "comment": comment}


def test_quarterly_job_opens_one_survey_per_customer_per_quarter(customer_a, customer_b):
    CustomerFactory(relationship_manager=None)  # unassigned: no survey
    assert surveys_open_quarter(quarter="2026Q4") == 2
    assert surveys_open_quarter(quarter="2026Q4") == 0
    assert Survey.objects.filter(quarter="2026Q4", status=SurveyStatus.PENDING).count() == 2


def test_rm_records_the_survey_with_score_and_gap(rm_a, customer_a):
    survey = survey_record(acting_user=rm_a, customer=customer_a, answers=ANSWERS, comment="ok")
    assert survey.quarter == quarter_of(timezone.localdate())
    assert survey.score == Decimal("4.00") and survey.satisfaction_gap == -1
    assert survey.source == SurveySource.RM and survey.recorded_by == rm_a


def test_customer_answers_through_the_link_without_logging_in(client, rm_a, customer_a):
    # given
    survey, token = survey_link_issue(acting_user=rm_a, customer=customer_a)
    url = reverse("interactions:survey_public", args=[token])
    # when
    page = client.get(url)
    response = client.post(url, _form())
    # then
    assert page.status_code == 200 and "service" in page.content.decode()
    assert "Thank you for your answers." in response.content.decode()
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.COMPLETED and survey.source == SurveySource.LINK
    assert survey.recorded_by is None and survey.comment == "Friendly staff"
    assert token not in str(Survey.objects.values_list("token_hash", flat=True))


def _counts():
    return (
        Survey.objects.filter(status=SurveyStatus.COMPLETED).count(),
        AuditEntry.objects.count(),
    )


@pytest.mark.parametrize("misuse", ["forged", "expired", "used", "replaced"])
def test_misused_link_gets_a_friendly_page_and_writes_nothing(client, rm_a, customer_a, misuse):
    # given
    survey, token = survey_link_issue(acting_user=rm_a, customer=customer_a)
    if misuse == "forged":
        token = token[:-4] + "AAAA"
    elif misuse == "expired":
        Survey.objects.filter(pk=survey.pk).update(
            link_expires_at=timezone.now() - dt.timedelta(minutes=1)
        )
    elif misuse == "used":
        client.post(reverse("interactions:survey_public", args=[token]), _form())
    elif misuse == "replaced":
        survey_link_issue(acting_user=rm_a, customer=customer_a)  # the old link is void
    before = _counts()
    url = reverse("interactions:survey_public", args=[token])
    # when
    page = client.get(url)
    response = client.post(url, _form(comment="second try"))
    # then
    for answer in (page, response):
        assert answer.status_code in (200, 404, 410)
        assert 'data-testid="survey-problem"' in answer.content.decode()
        assert "Traceback" not in answer.content.decode()
    assert _counts() == before
    assert not Survey.objects.filter(comment="second try").exists()


def test_incomplete_answers_are_refused_and_nothing_is_written(client, rm_a, customer_a):
    survey, token = survey_link_issue(acting_user=rm_a, customer=customer_a)
    response = client.post(
        reverse("interactions:survey_public", args=[token]),
        {"q_service_quality": "9", "comment": "<b>hi</b>"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.PENDING


def test_link_cannot_be_issued_once_answered(rm_a, customer_a):
    from django.core.exceptions import ValidationError

    survey_record(acting_user=rm_a, customer=customer_a, answers=ANSWERS)
    with pytest.raises(ValidationError):
        survey_link_issue(acting_user=rm_a, customer=customer_a)
