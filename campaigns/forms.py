"""Forms of the pipeline and of event campaigns. They parse input; the rules live in
`campaigns.services`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crm_site.forms import BootstrapForm, BootstrapFormMixin
from customers.choices import ProductType
from customers.models import Branch, User
from interactions.forms import DATETIME_FORMATS, DateInput, DateTimeLocalInput
from segmentation.choices import AbcClass, Quadrant, ValueTier, WealthLevel

from .choices import InvitationStatus, PlanStep, ProposalOutcome
from .models import Campaign, CampaignType, MarketingPlan, Proposal
from .services import MAX_PROPOSAL_LINES

REASON_WIDGET = forms.Textarea({"rows": 2})


def _checkboxes(label, choices) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label, choices=choices, required=False, widget=forms.CheckboxSelectMultiple
    )


# --- Plans -----------------------------------------------------------------------------------


class PlanRecordForm(BootstrapFormMixin, forms.ModelForm):
    """What the RM records along the way; the page puts the current step's fields first."""

    class Meta:
        model = MarketingPlan
        fields = [
            "tracking_notes",
            "analysis_notes",
            "agreement_summary",
            "agreed_on",
            "monitoring_cadence_days",
            "satisfaction",
            "new_needs",
        ]
        widgets = {
            "tracking_notes": forms.Textarea({"rows": 3}),
            "analysis_notes": forms.Textarea({"rows": 3}),
            "agreement_summary": forms.Textarea({"rows": 3}),
            "agreed_on": DateInput(),
            "new_needs": forms.Textarea({"rows": 3}),
        }


STEP_RECORD_FIELDS = {
    PlanStep.TRACKING: ["tracking_notes"],
    PlanStep.ANALYSIS: ["analysis_notes"],
    PlanStep.AGREEMENT: ["agreement_summary", "agreed_on"],
    PlanStep.MONITORING: ["monitoring_cadence_days"],
    PlanStep.FOLLOW_UP: ["satisfaction", "new_needs"],
}


class StepChoiceForm(BootstrapForm):
    """Skip ahead, ask to skip, or move back: a target step and a reason."""

    to_step = forms.TypedChoiceField(label=_("To step"), coerce=int, choices=())
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=REASON_WIDGET)

    def __init__(self, *args, steps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_step"].choices = [
            (step, f"{step}. {PlanStep(step).label}") for step in steps
        ]


class ReasonForm(BootstrapForm):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=REASON_WIDGET)


class SkipDecisionForm(BootstrapForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve the skip")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Comment"), max_length=500, required=False, widget=REASON_WIDGET)


class ProposalForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Proposal
        fields = ["report", "currency"]
        widgets = {"report": forms.Textarea({"rows": 6})}


class ProposalLineForm(BootstrapForm):
    product_type = forms.ChoiceField(label=_("Product type"), choices=ProductType.choices)
    product_name = forms.CharField(label=_("Product"), max_length=200)
    amount = forms.DecimalField(label=_("Amount"), max_digits=18, decimal_places=2, min_value=0.01)


ProposalLineFormSet = forms.formset_factory(
    ProposalLineForm,
    extra=2,
    can_delete=True,
    max_num=MAX_PROPOSAL_LINES,
    validate_max=True,
)


class ProposalOutcomeForm(BootstrapForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            (value, label)
            for value, label in ProposalOutcome.choices
            if value != ProposalOutcome.PENDING
        ],
        widget=forms.RadioSelect,
    )
    aum_won = forms.DecimalField(
        label=_("AUM won"), max_digits=18, decimal_places=2, min_value=0, initial=0
    )
    revenue_won = forms.DecimalField(
        label=_("Revenue won"), max_digits=18, decimal_places=2, min_value=0, initial=0
    )


class FunnelForm(BootstrapForm):
    date_from = forms.DateField(label=_("Plans started from"), widget=DateInput())
    date_to = forms.DateField(label=_("to"), widget=DateInput())
    manager = forms.ModelChoiceField(
        label=_("Relationship manager"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args, managers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if managers is not None:
            self.fields["manager"].queryset = managers

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("date_from")
            and cleaned.get("date_to")
            and cleaned["date_from"] > cleaned["date_to"]
        ):
            self.add_error("date_to", _("The end of the period is before its start."))
        return cleaned


# --- Target lists ----------------------------------------------------------------------------


class TargetListForm(BootstrapForm):
    name = forms.CharField(label=_("List name"), max_length=200)
    tiers = _checkboxes(_("Tiers"), ValueTier.choices)
    quadrants = _checkboxes(_("Quadrants"), Quadrant.choices)
    abc_classes = _checkboxes(_("ABC classes"), AbcClass.choices)
    min_wealth_level = forms.ChoiceField(
        label=_("Wealth level at least"),
        choices=[("", _("Any"))] + list(WealthLevel.choices),
        required=False,
    )
    interests = forms.CharField(
        label=_("Interests (any of, comma-separated)"), max_length=200, required=False
    )
    only_without_plan = forms.BooleanField(
        label=_("Only customers without a plan in progress"), required=False, initial=True
    )
    only_churn_risk = forms.BooleanField(
        label=_("Only customers at risk of leaving"), required=False
    )

    def segment(self) -> dict:
        data = self.cleaned_data
        return {
            "tiers": data["tiers"],
            "quadrants": data["quadrants"],
            "abc_classes": data["abc_classes"],
            "min_wealth_level": data["min_wealth_level"],
            "interests": data["interests"],
            "only_without_plan": data["only_without_plan"],
            "only_churn_risk": data["only_churn_risk"],
        }


# --- Campaigns -------------------------------------------------------------------------------


class CampaignForm(BootstrapFormMixin, forms.ModelForm):
    starts_at = forms.DateTimeField(
        label=_("Starts"), widget=DateTimeLocalInput(), input_formats=DATETIME_FORMATS
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"), widget=DateTimeLocalInput(), input_formats=DATETIME_FORMATS
    )
    online_link = forms.URLField(label=_("Online link"), required=False, assume_scheme="https")
    target_tiers = _checkboxes(_("Target tiers"), ValueTier.choices)
    target_quadrants = _checkboxes(_("Target quadrants"), Quadrant.choices)
    target_branches = forms.ModelMultipleChoiceField(
        label=_("Target branches"),
        queryset=Branch.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty for the campaign's own branch (or the whole bank)."),
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "campaign_type",
            "description",
            "starts_at",
            "ends_at",
            "venue",
            "online_link",
            "capacity",
            "budget",
            "cost",
            "currency",
            "branch",
            "invitation_channel",
            "target_tiers",
            "target_quadrants",
            "target_min_wealth_level",
            "target_interests",
            "target_branches",
            "recent_invitation_days",
            "follow_up_days",
            "results_note",
        ]
        widgets = {
            "description": forms.Textarea({"rows": 3}),
            "results_note": forms.Textarea({"rows": 3}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign_type"].queryset = CampaignType.objects.filter(is_active=True)
        self.fields["campaign_type"].label_from_instance = lambda kind: kind.display_name
        branches = Branch.objects.order_by("path")
        if not user.is_head_office:
            branches = branches.filter(path__startswith=user.branch.path)
            del self.fields["branch"]
        self.fields["target_branches"].queryset = branches
        if self.instance.pk and not self.instance.is_open:
            for name in ("starts_at", "ends_at", "capacity", "campaign_type", "branch"):
                if name in self.fields:
                    self.fields[name].disabled = True

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends < starts:
            self.add_error("ends_at", _("The event ends before it starts."))
        if not cleaned.get("venue") and not cleaned.get("online_link"):
            self.add_error("venue", _("Give a venue or an online link."))
        return cleaned


class CampaignTypeForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = CampaignType
        fields = ["code", "name", "name_zh", "description", "is_vip", "is_active"]


class InvitationUpdateForm(BootstrapForm):
    status = forms.ChoiceField(
        label=_("Set the selected invitations to"),
        choices=[
            (value, label)
            for value, label in InvitationStatus.choices
            if value != InvitationStatus.PROPOSED
        ],
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
