"""Forms of the customer book."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from crm_site.forms import BootstrapForm, BootstrapFormMixin

from .choices import RelationType
from .masking import mask_id_number, mask_phone
from .models import Branch, Customer, KeyContact, User
from .selectors import assignable_managers, managers_in_scope, team_member_candidates
from .validators import validate_mobile_phone


class StaffAuthenticationForm(BootstrapFormMixin, AuthenticationForm):
    """The browser login: integration accounts are refused (they use API tokens)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "integration": _("Integration accounts cannot sign in to the browser; use an API token."),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if getattr(user, "is_integration", False):
            raise forms.ValidationError(self.error_messages["integration"], code="integration")


# --- Profile and change control --------------------------------------------------------------

INDIVIDUAL_PROFILE_FIELDS = [
    "phone",
    "email",
    "address",
    "occupation",
    "employer",
    "income_band",
    "life_stage",
    "family",
    "interests",
    "wealth_source",
    "risk_appetite",
    "investment_experience",
    "preferred_channel",
    "preferred_contact_time",
    "language",
    "consent_phone",
    "consent_sms",
    "consent_wechat",
    "consent_email",
    "consent_letter",
    "consent_visit",
    "notes",
]
CORPORATE_PROFILE_FIELDS = [
    "phone",
    "email",
    "address",
    "industry",
    "company_size",
    "location",
    "ownership",
    "technology_level",
    "purchasing_approach",
    "relationship_stage",
    "collateral",
    "industry_outlook",
    "preferred_channel",
    "preferred_contact_time",
    "language",
    "consent_phone",
    "consent_sms",
    "consent_wechat",
    "consent_email",
    "consent_letter",
    "consent_visit",
    "notes",
]


class SensitiveTextInput(forms.TextInput):
    """Never renders a stored or submitted value: a full phone number leaves the server only
    through an audited reveal (the mask is shown as the placeholder)."""

    def format_value(self, value):
        return None


class CustomerProfileForm(BootstrapFormMixin, forms.ModelForm):
    """The RM-maintained fields of a customer; `version` guards against lost updates."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Customer
        fields = INDIVIDUAL_PROFILE_FIELDS
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "industry_outlook": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        wanted = (
            CORPORATE_PROFILE_FIELDS if self.instance.is_corporate else INDIVIDUAL_PROFILE_FIELDS
        )
        for name in list(self.fields):
            if name not in wanted and name != "version":
                del self.fields[name]
        self.fields["version"].initial = self.instance.version
        phone = self.fields["phone"]
        phone.widget = SensitiveTextInput(
            attrs={**phone.widget.attrs, "placeholder": mask_phone(self.instance.phone)}
        )
        if self.instance.phone:
            phone.help_text = _("Leave empty to keep the current number.")

    def clean_phone(self):
        phone = self.cleaned_data["phone"].replace(" ", "").replace("-", "")
        if not phone:
            return self.instance.phone  # the masked field was left as it was
        validate_mobile_phone(phone)  # shown with the other field errors, before the service
        return phone

    def _post_clean(self):
        """Identity and business rules are the service's; the form only parses input."""

    def profile_changes(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}


class ChangeRequestForm(BootstrapFormMixin, forms.ModelForm):
    """An RM's proposal to change static identity fields, with the reason."""

    reason = forms.CharField(label=_("Reason"), max_length=500)

    class Meta:
        model = Customer
        fields = ["name", "id_type", "id_number", "birth_date", "registered_address"]
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        id_number = self.fields["id_number"]
        id_number.widget = SensitiveTextInput(
            attrs={**id_number.widget.attrs, "placeholder": mask_id_number(self.instance.id_number)}
        )
        if self.instance.id_number:
            id_number.help_text = _("Leave empty to keep the current number.")

    def clean_id_number(self):
        return self.cleaned_data["id_number"].strip() or self.instance.id_number

    def _post_clean(self):
        """Validation happens in the change-request service."""

    def proposed_changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ChangeRequestDecisionForm(BootstrapForm):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Reject"))], widget=forms.HiddenInput
    )
    comment = forms.CharField(label=_("Comment"), max_length=500, required=False)


class ManagerChoiceField(forms.ModelChoiceField):
    """An RM with their branch: a head office user picks among RMs of many branches."""

    def label_from_instance(self, obj) -> str:
        return f"{obj} · {obj.branch}" if obj.branch_id else str(obj)


class ReassignForm(BootstrapForm):
    """Move one or many customers to another RM (branch heads and head office)."""

    customers = forms.ModelMultipleChoiceField(
        queryset=Customer.objects.none(), widget=forms.MultipleHiddenInput
    )
    to_manager = ManagerChoiceField(
        label=_("New relationship manager"), queryset=User.objects.none()
    )
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customers"].queryset = Customer.objects.visible_to(user)
        self.fields["to_manager"].queryset = assignable_managers(user)


class HandoverForm(BootstrapForm):
    """A departing RM's whole book to another RM."""

    from_manager = forms.ModelChoiceField(
        label=_("Departing relationship manager"), queryset=User.objects.none()
    )
    to_manager = forms.ModelChoiceField(
        label=_("New relationship manager"), queryset=User.objects.none()
    )
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        managers = assignable_managers(user)
        self.fields["from_manager"].queryset = managers_in_scope(user)
        self.fields["to_manager"].queryset = managers


class AutoAssignForm(BootstrapForm):
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=Branch.objects.none())
    balance_by = forms.ChoiceField(
        label=_("Balance by"),
        choices=[("count", _("Number of customers")), ("aum", _("Assets under management"))],
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        branches = Branch.objects.all()
        if not user.is_head_office:
            branches = branches.filter(path__startswith=user.branch.path)
        self.fields["branch"].queryset = branches


class KeyContactForm(BootstrapFormMixin, forms.ModelForm):
    """A key contact, new or edited; the phone is never rendered, left empty it is kept."""

    class Meta:
        model = KeyContact
        fields = ["name", "role", "is_decision_maker", "phone", "email", "birthday", "notes"]
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "phone": SensitiveTextInput(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.phone:
            phone = self.fields["phone"]
            phone.widget.attrs["placeholder"] = mask_phone(self.instance.phone)
            phone.help_text = _("Leave empty to keep the current number.")

    def clean_phone(self):
        phone = self.cleaned_data["phone"].replace(" ", "").replace("-", "")
        return phone or self.instance.phone

    def _post_clean(self):
        """Validation happens in the service."""


class RelatedPartyForm(BootstrapForm):
    related_customer_number = forms.CharField(label=_("Related customer's number"), max_length=32)
    relation_type = forms.ChoiceField(label=_("Relation"), choices=RelationType.choices)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class RelatedPartyEditForm(BootstrapForm):
    """How two linked customers are related; to link another customer, unlink and link."""

    relation_type = forms.ChoiceField(label=_("Relation"), choices=RelationType.choices)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class TeamMemberForm(BootstrapForm):
    """A secondary RM for the customer: an active RM of its branch not yet on its team."""

    member = forms.ModelChoiceField(label=_("Secondary RM"), queryset=User.objects.none())
    responsibility = forms.CharField(
        label=_("Responsibility"),
        max_length=100,
        required=False,
        help_text=_("E.g. trade finance, credit, wealth products."),
    )

    def __init__(self, *args, user, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = (
            team_member_candidates(user=user, customer=customer)
            .exclude(pk=customer.relationship_manager_id)
            .exclude(team_memberships__customer=customer)
            .order_by("last_name", "first_name", "username")
        )
