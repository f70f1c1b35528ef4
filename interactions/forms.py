"""Forms of the RM's working day. They parse input; the rules live in the services."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_site.forms import BootstrapForm
from customers.models import Customer, KeyContact, User

from .choices import (
    Channel,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    Outcome,
    Severity,
)
from .models import MINUTES_MAX_LENGTH, TEXT_MAX_LENGTH, SurveyQuestion

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


class DateTimeLocalInput(forms.DateTimeInput):
    """The browser's native date-and-time picker (works well on phones)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _datetime_field(label, **kwargs) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, widget=DateTimeLocalInput(), input_formats=DATETIME_FORMATS, **kwargs
    )


class VisitForm(BootstrapForm):
    """Log a contact in under a minute: channel, when, minutes, next step, follow-up. The rest
    (needs, products, outcome, participants, a request to answer) is optional."""

    channel = forms.ChoiceField(label=_("Channel"), choices=[], initial="visit")
    occurred_at = _datetime_field(_("Date and time"))
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), required=False, min_value=1, max_value=24 * 60
    )
    minutes = forms.CharField(
        label=_("Minutes"),
        max_length=MINUTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What was discussed and agreed."),
    )
    next_step = forms.CharField(label=_("Next step"), max_length=500, required=False)
    follow_up_at = _datetime_field(
        _("Follow-up"), required=False, help_text=_("Optional: you will be reminded at this time.")
    )
    customer_needs = forms.CharField(
        label=_("Customer's stated needs"),
        max_length=TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    products_discussed = forms.CharField(
        label=_("Products discussed"), max_length=300, required=False
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", "—"), *Outcome.choices], required=False
    )
    staff_participants = forms.ModelMultipleChoiceField(
        label=_("Colleagues present"), queryset=User.objects.none(), required=False
    )
    contact_participants = forms.ModelMultipleChoiceField(
        label=_("Customer's contacts present"), queryset=KeyContact.objects.none(), required=False
    )
    request_description = forms.CharField(
        label=_("Request to answer"),
        max_length=500,
        required=False,
        help_text=_("Something the customer asked for that needs a yes or a no."),
    )
    request_promised_by = forms.DateField(
        label=_("Answer promised by"), required=False, widget=DateInput()
    )

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = Channel.choices
        self.fields["staff_participants"].queryset = User.objects.filter(
            is_active=True, branch_id=customer.branch_id
        ).order_by("first_name", "last_name", "username")
        if customer.is_corporate:
            self.fields["contact_participants"].queryset = KeyContact.objects.filter(
                customer=customer
            )
        else:
            del self.fields["contact_participants"]

    def clean_minutes(self):
        minutes = self.cleaned_data["minutes"].strip()
        if not minutes:
            raise forms.ValidationError(_("Write the minutes of the contact."))
        return minutes


class ReminderForm(BootstrapForm):
    title = forms.CharField(label=_("What is to be done"), max_length=200)
    due_at = _datetime_field(_("Due"))
    backdated = forms.BooleanField(
        label=_("Backdated: I am logging a task after the fact"), required=False
    )


SNOOZE_PRESETS = [
    ("1h", _("1 hour")),
    ("tomorrow", _("Tomorrow 9:00")),
    ("next_week", _("Next week")),
]


class SnoozeForm(BootstrapForm):
    preset = forms.ChoiceField(label=_("Snooze"), choices=SNOOZE_PRESETS, required=False)
    until = _datetime_field(_("Until"), required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("until"):
            return cleaned
        now = timezone.localtime()
        preset = cleaned.get("preset")
        if preset == "1h":
            cleaned["until"] = now + dt.timedelta(hours=1)
        elif preset == "tomorrow":
            cleaned["until"] = (now + dt.timedelta(days=1)).replace(
                hour=9, minute=0, second=0, microsecond=0
            )
        elif preset == "next_week":
            cleaned["until"] = (now + dt.timedelta(days=7)).replace(
                hour=9, minute=0, second=0, microsecond=0
            )
        else:
            raise forms.ValidationError(_("Choose when to be reminded again."))
        return cleaned


class ReassignReminderForm(BootstrapForm):
    to_user = forms.ModelChoiceField(label=_("Hand over to"), queryset=User.objects.none())

    def __init__(self, *args, users, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = users


class CustomerRequestForm(BootstrapForm):
    description = forms.CharField(label=_("Request"), max_length=500)
    promised_by = forms.DateField(label=_("Answer promised by"), widget=DateInput())


class RequestAnswerForm(BootstrapForm):
    answer = forms.TypedChoiceField(
        label=_("Answer"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("What was answered"),
        max_length=500,
        required=False,
        help_text=_("Required for a no: the customer deserves the reason."),
    )


class ComplaintForm(BootstrapForm):
    received_channel = forms.ChoiceField(
        label=_("Received through"), choices=ComplaintChannel.choices
    )
    received_at = _datetime_field(_("Received at"))
    category = forms.ChoiceField(label=_("Category"), choices=ComplaintCategory.choices)
    severity = forms.ChoiceField(
        label=_("Severity"),
        choices=Severity.choices,
        initial=Severity.MEDIUM,
        help_text=_("Sets the deadline: critical 1 day, high 3, medium 5, low 10."),
    )
    description = forms.CharField(
        label=_("Description"), max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Defaults to the customer's RM."),
    )

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class ComplaintUpdateForm(BootstrapForm):
    status = forms.ChoiceField(label=_("Status"), choices=ComplaintStatus.choices)
    resolution = forms.CharField(
        label=_("Resolution"),
        max_length=TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ComplaintAcceptanceForm(BootstrapForm):
    accepted = forms.TypedChoiceField(
        label=_("Does the customer accept the resolution?"),
        choices=[("yes", _("Accepted")), ("no", _("Not accepted"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )


SCORE_CHOICES = [(str(score), str(score)) for score in range(1, 6)]


class SurveyForm(BootstrapForm):
    """The active survey questions, each a 1-5 score, and a comment."""

    comment = forms.CharField(
        label=_("Anything else you would like to tell us?"),
        max_length=TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, questions: list[SurveyQuestion], **kwargs):
        super().__init__(*args, **kwargs)
        self.question_codes = []
        for question in questions:
            name = f"q_{question.code}"
            self.fields[name] = forms.ChoiceField(
                label=question.text,
                choices=SCORE_CHOICES,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                help_text=_("1 = very poor, 5 = excellent"),
            )
            self.question_codes.append(question.code)
        self.order_fields([f"q_{code}" for code in self.question_codes] + ["comment"])

    def answers(self) -> dict[str, str]:
        return {code: self.cleaned_data[f"q_{code}"] for code in self.question_codes}
