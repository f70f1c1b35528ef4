"""Enumerations of the interaction log."""

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


class ReminderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")
