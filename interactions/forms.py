"""Forms of the interaction log."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm_site.forms import BootstrapForm

from .choices import Channel
from .models import MINUTES_MAX_LENGTH


class DateTimeLocalInput(forms.DateTimeInput):
    """The browser's native date-and-time picker (works well on phones)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class VisitForm(BootstrapForm):
    """Log a contact in under a minute: channel, when, minutes, next step, follow-up."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.VISIT)
    occurred_at = forms.DateTimeField(
        label=_("Date and time"),
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), required=False, min_value=1, max_value=24 * 60
    )
    minutes = forms.CharField(
        label=_("Minutes"),
        max_length=MINUTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What was discussed, the customer's needs, what was agreed."),
    )
    next_step = forms.CharField(label=_("Next step"), max_length=500, required=False)
    follow_up_at = forms.DateTimeField(
        label=_("Follow-up"),
        required=False,
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        help_text=_("Optional: you will be reminded at this time."),
    )

    def clean_minutes(self):
        minutes = self.cleaned_data["minutes"].strip()
        if not minutes:
            raise forms.ValidationError(_("Write the minutes of the contact."))
        return minutes
