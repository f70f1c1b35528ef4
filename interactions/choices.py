"""Enumerations of the interaction log: channels, reminders, requests, complaints, surveys."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """How the bank and the customer met or spoke."""

    VISIT = "visit", _("Visit")
    PHONE = "phone", _("Phone call")
    MESSAGE = "message", _("WeChat / message")
    EMAIL = "email", _("E-mail")
    LETTER = "letter", _("Letter")
    BRANCH_MEETING = "branch_meeting", _("Meeting at the branch")
    BANQUET = "banquet", _("Banquet")
    EVENT = "event", _("Event")
    GREETING_CARD = "greeting_card", _("Greeting card")
    GIFT = "gift", _("Gift")


class Outcome(models.TextChoices):
    """How a contact ended, in the RM's judgement."""

    POSITIVE = "positive", _("Positive: the customer wants to go further")
    NEUTRAL = "neutral", _("Neutral: relationship maintained")
    NEGATIVE = "negative", _("Negative: concern or dissatisfaction")
    SALE = "sale", _("Product sold or agreed")


class ReminderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class ReminderKind(models.TextChoices):
    """Why a reminder exists: a promise by the RM, a greeting, a request to answer..."""

    FOLLOW_UP = "follow_up", _("Follow-up")
    GREETING = "greeting", _("Greeting")
    REQUEST = "request", _("Customer request")
    COMPLAINT = "complaint", _("Complaint")
    OTHER = "other", _("Other")


class Occasion(models.TextChoices):
    """What a greeting is for. Holidays are configured per year in `Holiday`."""

    BIRTHDAY = "birthday", _("Birthday")
    SPRING_FESTIVAL = "spring_festival", _("Spring Festival")
    MID_AUTUMN = "mid_autumn", _("Mid-Autumn Festival")
    NATIONAL_DAY = "national_day", _("National Day")
    OTHER = "other", _("Other holiday")


class RequestStatus(models.TextChoices):
    """A customer's stated need: open until the RM answers yes or no (seed 001: answer fast)."""

    OPEN = "open", _("Waiting for an answer")
    YES = "yes", _("Answered: yes")
    NO = "no", _("Answered: no")


class ComplaintChannel(models.TextChoices):
    """Where a complaint came in."""

    BRANCH = "branch", _("At the branch")
    PHONE = "phone", _("Phone / hotline")
    RM = "rm", _("Told to the RM")
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("E-mail")
    WECHAT = "wechat", _("WeChat / online")
    REGULATOR = "regulator", _("Via the regulator")


class ComplaintCategory(models.TextChoices):
    SERVICE_ATTITUDE = "service_attitude", _("Service attitude")
    WAITING_TIME = "waiting_time", _("Waiting time")
    FEES = "fees", _("Fees and charges")
    PRODUCT = "product", _("Product performance or suitability")
    SYSTEMS = "systems", _("Online banking / systems")
    STAFF_CONDUCT = "staff_conduct", _("Staff conduct or mis-selling")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    """How serious a complaint is; it sets the SLA (settings.INTERACTIONS_COMPLAINT_SLA_HOURS)."""

    CRITICAL = "critical", _("Critical")
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class CustomerAcceptance(models.TextChoices):
    """Whether the customer accepted the resolution."""

    PENDING = "pending", _("Not asked yet")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Not accepted")


class SurveyStatus(models.TextChoices):
    PENDING = "pending", _("To be done")
    COMPLETED = "completed", _("Completed")


class SurveySource(models.TextChoices):
    """Who filled the survey in: the RM with the customer, or the customer through a link."""

    RM = "rm", _("Recorded by the RM")
    LINK = "link", _("Answered by the customer (link)")


class QuestionRole(models.TextChoices):
    """How a survey question counts: in the score, or as expectation/perception (seed 002:
    satisfaction = perceived value - expected value)."""

    RATING = "rating", _("Rating (counts in the score)")
    EXPECTATION = "expectation", _("Expectation")
    PERCEPTION = "perception", _("Perception")
