"""Greeting reminders: birthdays (29 February too), key contacts, holidays, consent, once."""

import datetime as dt

import pytest
from django.utils import timezone

from interactions.choices import Occasion, ReminderKind
from interactions.models import Holiday, Reminder
from interactions.services import greetings_generate
from tests.customers.factories import CustomerFactory
from tests.interactions.factories import KeyContactFactory

pytestmark = pytest.mark.django_db


def test_leap_day_birthday_is_greeted_on_28_february_in_a_common_year(rm_a):
    # given: born on 29 February; 2027 is not a leap year
    customer = CustomerFactory(
        relationship_manager=rm_a, birth_date=dt.date(1988, 2, 29), consent_wechat=True
    )
    # when: the daily job runs three days ahead, and again the next days
    created = [greetings_generate(today=dt.date(2027, 2, day)) for day in (25, 26, 27, 28)]
    # then: one greeting, for the 28th, due when generated
    assert created == [1, 0, 0, 0]
    reminder = Reminder.objects.get(customer=customer)
    assert reminder.kind == ReminderKind.GREETING and reminder.occasion == Occasion.BIRTHDAY
    assert reminder.assigned_to == rm_a
    assert reminder.dedupe_key == f"greeting:customer:{customer.pk}:birthday:2027"
    assert timezone.localtime(reminder.due_at) == timezone.make_aware(dt.datetime(2027, 2, 25, 9))
    assert "02-28" in reminder.title


def test_leap_day_birthday_is_greeted_on_29_february_in_a_leap_year(rm_a):
    customer = CustomerFactory(
        relationship_manager=rm_a, birth_date=dt.date(1988, 2, 29), consent_sms=True
    )
    # 2028 is a leap year: the 28th does not match, the 29th does
    assert greetings_generate(today=dt.date(2028, 2, 24)) == 0
    assert greetings_generate(today=dt.date(2028, 2, 26)) == 1
    assert "02-29" in Reminder.objects.get(customer=customer).title


def test_running_the_job_twice_greets_once_and_next_year_again(rm_a):
    CustomerFactory(relationship_manager=rm_a, birth_date=dt.date(1970, 6, 10), consent_phone=True)
    assert greetings_generate(today=dt.date(2026, 6, 8)) == 1
    assert greetings_generate(today=dt.date(2026, 6, 8)) == 0
    assert greetings_generate(today=dt.date(2027, 6, 8)) == 1
    assert Reminder.objects.count() == 2


def test_greeting_goes_through_the_preferred_channel_only_with_consent(rm_a):
    # given: prefers e-mail but consented only to WeChat; another consented to nothing remote
    greeted = CustomerFactory(
        relationship_manager=rm_a,
        birth_date=dt.date(1980, 3, 5),
        preferred_channel="email",
        consent_email=False,
        consent_wechat=True,
        consent_visit=False,
    )
    CustomerFactory(relationship_manager=rm_a, birth_date=dt.date(1981, 3, 5), consent_visit=False)
    # when
    greetings_generate(today=dt.date(2026, 3, 3))
    # then
    reminder = Reminder.objects.get()
    assert reminder.customer == greeted and reminder.greeting_channel == "wechat"


def test_corporate_key_contacts_birthday_goes_to_the_rm(rm_a):
    # given
    company = CustomerFactory(
        relationship_manager=rm_a, customer_type="corporate", birth_date=None, consent_phone=True
    )
    contact = KeyContactFactory(customer=company, name="Ms Zhang", birthday=dt.date(1975, 9, 1))
    # when
    greetings_generate(today=dt.date(2026, 8, 30))
    # then
    reminder = Reminder.objects.get()
    assert reminder.key_contact == contact and reminder.customer == company
    assert "Ms Zhang" in reminder.title


def test_holidays_greet_the_configured_tiers_ahead_of_the_day(rm_a, settings, holidays):
    # given: Mid-Autumn 2026 is seeded for 25 September
    settings.INTERACTIONS_HOLIDAY_GREETING_TIERS = ("value",)
    vip = CustomerFactory(relationship_manager=rm_a, value_tier="value", consent_wechat=True)
    CustomerFactory(relationship_manager=rm_a, value_tier="low_value", consent_wechat=True)
    assert Holiday.objects.filter(occasion=Occasion.MID_AUTUMN, date=dt.date(2026, 9, 25)).exists()
    # when
    created = greetings_generate(today=dt.date(2026, 9, 22))
    # then
    assert created == 1
    reminder = Reminder.objects.get()
    assert reminder.customer == vip and reminder.occasion == Occasion.MID_AUTUMN
    assert greetings_generate(today=dt.date(2026, 9, 23)) == 0


def test_inactive_holiday_greets_nobody(rm_a, holidays):
    CustomerFactory(relationship_manager=rm_a, value_tier="value", consent_wechat=True)
    Holiday.objects.filter(date=dt.date(2026, 10, 1)).update(is_active=False)
    Holiday.objects.filter(date=dt.date(2026, 9, 25)).update(is_active=False)
    assert greetings_generate(today=dt.date(2026, 9, 29)) == 0
