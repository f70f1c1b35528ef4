"""Template helpers shared by every page: money, tiers, masking."""

import functools
from decimal import Decimal
from html import escape  # the stdlib's: Django's own adds a lazy-string check per call

from django import template
from django.urls import reverse
from django.utils import dateformat, formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from customers.choices import ContactChannel, CustomerType
from customers.masking import mask_account_number, mask_phone
from customers.models import CONSENT_FIELDS
from segmentation.choices import ValueTier

register = template.Library()


@register.simple_tag
def money(amount, currency="CNY"):
    """`CNY 1,234,567.89`: a Decimal amount with its currency, never a float."""
    if amount is None:
        return "—"
    # The grouped digits hold nothing to escape; an f-string, as the list calls this per row.
    return mark_safe(f"{escape(currency)}&nbsp;{_grouped(amount)}")  # noqa: S308


def _grouped(amount) -> str:
    """1234567.891 → "1,234,567.89" (the digits of Decimal, never a float)."""
    return format(Decimal(amount).quantize(Decimal("0.01")), ",")


@register.simple_tag
def tier_badge(tier, label):
    if not tier:
        return format_html('<span class="badge text-bg-light">{}</span>', _("Not scored"))
    return format_html('<span class="badge tier-badge-{}">{}</span>', tier, label)


@register.simple_tag
def labelled_field(field) -> SafeString:
    """A compact filter field: its small label, then its widget (one tag, not five lookups)."""
    return format_html(
        '<label class="form-label small" for="{}">{}</label>\n{}',
        field.id_for_label,
        field.label,
        field,
    )


@register.filter
def masked_phone(value):
    return mask_phone(value) if value else "—"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def masked_account(value):
    return mask_account_number(value) if value else "—"


@register.filter
def percent(value):
    """0.4567 → 46%."""
    return f"{round(float(value) * 100)}%"


@register.filter
def progress_step(value):
    """A percentage rounded to the 10% steps the CSS has classes for (w-0 … w-100)."""
    return int(round(int(value or 0), -1))


@register.filter
def consents(customer):
    """(channel label, consent given) for every contact channel."""
    return [
        (label, bool(getattr(customer, CONSENT_FIELDS[channel])))
        for channel, label in ContactChannel.choices
    ]


@functools.lru_cache(maxsize=2048)
def _short_date(day, date_format: str, language: str | None) -> str:
    """A day in the active language's short format (`language` is part of the cache key,
    as a format may name the month). Django's formatter parses the format again for every
    value, a tenth of the rows' cost; this runs once per day, format and language."""
    return dateformat.format(day, date_format)


# A sentinel primary key, swapped for each row's: one reverse() for the whole table.
_PK_SENTINEL = "987654321987654321"


@register.simple_tag
def customer_rows(customers, selectable=False) -> SafeString:
    """The customer list's table rows (`customers/customer_list.html`), built in Python.

    The list is the page every RM opens first, and at 25 rows the template engine's
    per-cell tags, filters and lookups cost more CPU than the whole rest of the request.
    Here every value is escaped once and the row is one f-string. `customers` are the list
    view's rows (`ListedCustomer`, whose `relationship_manager` is the RM's name), or
    customers with their RM.
    """
    detail_url = reverse("customers:detail", args=[_PK_SENTINEL])
    type_labels = {value: escape(label) for value, label in CustomerType.choices}
    tier_badges = {value: tier_badge(value, label) for value, label in ValueTier.choices}
    not_scored = tier_badge("", "")
    unassigned = escape(_("Unassigned"))
    select_label = _("Select %(name)s")
    short_date = formats.get_format("SHORT_DATE_FORMAT")
    zone = timezone.get_current_timezone()
    language = get_language()
    rows = []
    for customer in customers:
        name = escape(customer.name)
        checkbox = (
            f'<td><input type="checkbox" class="form-check-input" name="customers" '
            f'value="{customer.pk}" form="bulk-reassign" '
            f'aria-label="{escape(select_label % {"name": customer.name})}"></td>'
            if selectable
            else ""
        )
        manager = customer.relationship_manager
        contacted = customer.last_contact_at
        contacted_on = (
            _short_date(contacted.astimezone(zone).date(), short_date, language)
            if contacted
            else "—"
        )
        rows.append(
            f"<tr>{checkbox}"
            f'<td><a href="{detail_url.replace(_PK_SENTINEL, str(customer.pk))}">{name}</a>\n'
            f'<small class="d-block text-body-secondary">'
            f"{type_labels.get(customer.customer_type) or escape(customer.customer_type)}"
            f"</small></td>"
            f'<td class="d-none d-md-table-cell">{escape(customer.customer_number)}</td>'
            f"<td>{tier_badges.get(customer.value_tier, not_scored)}</td>"
            f'<td class="text-end d-none d-sm-table-cell">'
            f"{money(customer.aum, customer.currency)}</td>"
            f'<td class="d-none d-lg-table-cell">'
            f"{escape(mask_phone(customer.phone)) if customer.phone else '—'}</td>"
            f'<td class="d-none d-lg-table-cell">'
            f"{escape(str(manager)) if manager is not None else unassigned}</td>"
            f'<td class="d-none d-md-table-cell">'
            f"{contacted_on}</td></tr>"
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - every value in the rows is escaped
