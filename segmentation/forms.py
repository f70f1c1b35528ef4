"""Forms of segmentation: the scoring model, the playbook, overrides and manual runs."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_site.forms import BootstrapForm, BootstrapFormMixin

from .choices import ValueTier
from .models import PlaybookEntry, ScoringModel

__all__ = ["PlaybookEntryForm", "RunStartForm", "ScoringModelForm", "TierOverrideForm"]

# Fields of the model form, grouped as the page shows them.
MODEL_FIELD_GROUPS = [
    (
        _("Index weights (%)"),
        [
            "weight_contribution",
            "weight_loyalty",
            "weight_credit",
            "weight_growth",
            "weight_influence",
        ],
    ),
    (_("ABC cut-offs"), ["abc_a_share", "abc_b_share"]),
    (_("Value tiers"), ["tier_value_min", "tier_sub_value_min", "tier_potential_min"]),
    (_("Profit × growth quadrant"), ["quadrant_profit_min", "quadrant_growth_min"]),
    (
        _("Wealth levels"),
        ["wealth_potential_min", "wealth_level_2_min", "wealth_level_3_min", "wealth_level_4_min"],
    ),
    (
        _("Contact cadence and churn risk"),
        [
            "cadence_value_days",
            "cadence_sub_value_days",
            "cadence_potential_days",
            "cadence_low_value_days",
            "churn_aum_drop_percent",
        ],
    ),
]
MODEL_FORM_FIELDS = [name for _label, names in MODEL_FIELD_GROUPS for name in names]


class ScoringModelForm(BootstrapFormMixin, forms.ModelForm):
    """A new version of the scoring model, prefilled with the active one; the model's
    `clean()` checks that the weights add up to 100% and the thresholds are ordered."""

    class Meta:
        model = ScoringModel
        fields = [*MODEL_FORM_FIELDS, "note"]

    def groups(self):
        return [(label, [self[name] for name in names]) for label, names in MODEL_FIELD_GROUPS]

    def model_values(self) -> dict:
        return {name: self.cleaned_data[name] for name in MODEL_FORM_FIELDS}


class PlaybookEntryForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = PlaybookEntry
        fields = ["quadrant", "value_tier", "action", "campaign_type", "position", "is_active"]


PlaybookFormSet = forms.modelformset_factory(
    PlaybookEntry, form=PlaybookEntryForm, extra=2, can_delete=True
)


class TierOverrideForm(BootstrapForm):
    value_tier = forms.ChoiceField(label=_("Treat as tier"), choices=ValueTier.choices)
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea({"rows": 3}))
    expires_on = forms.DateField(
        label=_("Until"), widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d")
    )

    def clean_expires_on(self):
        value = self.cleaned_data["expires_on"]
        if value <= timezone.localdate():
            raise forms.ValidationError(_("The expiry must be a future date."))
        return value


class RunStartForm(BootstrapForm):
    business_date = forms.DateField(
        label=_("Business date"),
        widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
        initial=timezone.localdate,
    )


class PeriodForm(BootstrapForm):
    since = forms.DateField(
        label=_("Changes since"),
        required=False,
        widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
    )
