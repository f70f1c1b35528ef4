"""What makes a customer profile complete, and which facts are most worth learning next.

Progressive profiling (seed 001): never demand everything at the first contact; show how
complete a profile is and which facts are still worth learning. Each fact has a weight for
how much it helps the RM serve the customer.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .choices import CustomerType

__all__ = ["PROFILE_FACTS", "completeness", "facts_worth_learning"]

# (field, weight, what to learn) per customer type; weights sum to 100.
PROFILE_FACTS = {
    CustomerType.INDIVIDUAL: [
        ("phone", 10, _("a mobile number")),
        ("birth_date", 5, _("the birth date")),
        ("risk_appetite", 15, _("the risk appetite (suitability assessment)")),
        ("wealth_source", 10, _("where the wealth comes from")),
        ("occupation", 8, _("the occupation")),
        ("income_band", 8, _("the income band")),
        ("life_stage", 8, _("the life stage")),
        ("preferred_channel", 10, _("the preferred channel")),
        ("investment_experience", 8, _("the investment experience")),
        ("interests", 6, _("hobbies and interests")),
        ("family", 6, _("the family")),
        ("email", 3, _("an e-mail address")),
        ("preferred_contact_time", 3, _("the best time to call")),
    ],
    CustomerType.CORPORATE: [
        ("phone", 8, _("a company phone")),
        ("industry", 12, _("the industry")),
        ("company_size", 8, _("the company size")),
        ("ownership", 8, _("the ownership")),
        ("purchasing_approach", 12, _("who decides purchases")),
        ("technology_level", 6, _("the technology level")),
        ("relationship_stage", 10, _("the relationship stage")),
        ("industry_outlook", 10, _("the industry outlook")),
        ("location", 6, _("the location")),
        ("preferred_channel", 8, _("the preferred channel")),
        ("collateral", 6, _("the collateral available")),
        ("email", 6, _("an e-mail address")),
    ],
}


def _known(customer, field: str) -> bool:
    value = getattr(customer, field)
    return value not in (None, "")


def completeness(customer) -> int:
    """Percentage (0–100) of the weighted facts the bank knows about the customer."""
    facts = PROFILE_FACTS[customer.customer_type]
    known = sum(weight for field, weight, _label in facts if _known(customer, field))
    return round(100 * known / sum(weight for _field, weight, _label in facts))


def facts_worth_learning(customer, limit: int = 3) -> list[str]:
    """The missing facts that would help most, heaviest first."""
    missing = [
        (weight, label)
        for field, weight, label in PROFILE_FACTS[customer.customer_type]
        if not _known(customer, field)
    ]
    missing.sort(key=lambda item: -item[0])
    return [str(label) for _weight, label in missing[:limit]]
