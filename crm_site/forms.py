"""Form helpers shared by every app."""

import copy
from html import escape  # the stdlib's, for plain strings: what Django's escape() returns

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime

__all__ = [
    "BootstrapForm",
    "BootstrapFormMixin",
    "ChoicesSharedFields",
    "EagerModelChoiceIterator",
    "PythonWidgetRenderer",
    "apply_validation_errors",
    "list_instances",
]


class EagerModelChoiceIterator(ModelChoiceIterator):
    """Reads a model dropdown's choices with one plain query.

    Django streams them with `queryset.iterator()`, which on PostgreSQL is a server-side
    cursor (`DECLARE ... WITH HOLD`, `FETCH`, `CLOSE`): three round trips and a materialised
    result, for a list a person picks from (a thousand RMs at the most).
    """

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        listed = getattr(self.field, "listed_instances", None)
        for instance in self.queryset.all() if listed is None else listed:
            yield self.choice(instance)


def list_instances(field: forms.ModelChoiceField, instances: list) -> None:
    """Show `instances` as the dropdown's choices instead of reading its queryset again:
    for two dropdowns of one page that list the same rows (a branch head's RMs, to filter
    by and to reassign to). They must be the queryset's rows; a submitted value is still
    checked against the queryset. Call it after the last change of the field's queryset."""
    field.listed_instances = instances
    field.widget.choices = field.choices


_EAGER_ITERATORS: dict[type, type] = {ModelChoiceIterator: EagerModelChoiceIterator}


def eager_iterator(iterator_class: type) -> type:
    """`iterator_class` reading eagerly; a subclass's additions (django-filter's "null"
    choice, say) are kept, as they call the base iteration through `super()`."""
    if issubclass(iterator_class, EagerModelChoiceIterator):
        return iterator_class
    eager = _EAGER_ITERATORS.get(iterator_class)
    if eager is None:
        name = f"Eager{iterator_class.__name__}"
        eager = type(name, (iterator_class, EagerModelChoiceIterator), {})
        _EAGER_ITERATORS[iterator_class] = eager
    return eager


# Fields and widgets whose deep copy is Django's own (which copies them, their attrs,
# validators and error messages, and deep-copies their choices).
_PLAIN_FIELD_COPIES = (forms.Field.__deepcopy__, forms.ChoiceField.__deepcopy__)
_PLAIN_WIDGET_COPIES = (forms.Widget.__deepcopy__, forms.widgets.ChoiceWidget.__deepcopy__)


def _shallow_copy(instance):
    copied = object.__new__(type(instance))
    copied.__dict__.update(instance.__dict__)
    return copied


class ChoicesSharedFields(dict):
    """A form class's `base_fields` that each form copies without deep-copying choice lists.

    Django deep-copies every field for every form, and for a choice field that means its
    choices, lazily translated labels and all: most of the 0.4 ms that copying the customer
    list's filter form cost on every request. A form's choices are read, never changed in
    place (setting `field.choices` replaces them), so the copies share them; the field, its
    widget with its attrs, its validators and error messages are copied as Django does. A
    field or widget class with a deep copy of its own is deep-copied as usual.
    """

    def __deepcopy__(self, memo):
        fields = {}
        for name, field in self.items():
            if (
                type(field).__deepcopy__ in _PLAIN_FIELD_COPIES
                and type(field.widget).__deepcopy__ in _PLAIN_WIDGET_COPIES
            ):
                copied = _shallow_copy(field)
                copied.widget = _shallow_copy(field.widget)
                copied.widget.attrs = field.widget.attrs.copy()
                copied.error_messages = field.error_messages.copy()
                copied.validators = field.validators[:]
                choices = getattr(field, "_choices", None)
                if getattr(choices, "field", None) is field:
                    # django-filter's choice iterator reads its field (the empty and null
                    # labels): the copy's own, still over the same list of choices.
                    choices = _shallow_copy(choices)
                    choices.field = copied
                    copied._choices = copied.widget.choices = choices
                memo[id(field)] = copied
            else:
                copied = copy.deepcopy(field, memo)
            fields[name] = copied
        return fields


class BootstrapFormMixin:
    """Gives every widget Bootstrap's classes, and marks fields with errors as invalid.

    Model dropdowns read their choices with `EagerModelChoiceIterator`.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.iterator = eager_iterator(field.iterator)
                field.widget.choices = field.choices
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
                widget.attrs["aria-invalid"] = "true"


class BootstrapForm(BootstrapFormMixin, forms.Form):
    pass


def apply_validation_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: per field where the field is on the
    form, otherwise above it. Handles both field-keyed and plain errors."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


# Django's stock templates that only include "django/forms/widgets/input.html".
_INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{kind}.html"
    for kind in (
        "text",
        "number",
        "email",
        "url",
        "password",
        "hidden",
        "date",
        "datetime",
        "time",
        "search",
        "tel",
        "color",
    )
)
_SELECT_TEMPLATE = "django/forms/widgets/select.html"
_OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def _attributes(attrs: dict) -> str:
    """Django's `attrs.html`: ` name="value"`, a bare ` name` for True, nothing for False."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class PythonWidgetRenderer(DjangoTemplates):
    """Renders text-like inputs and selects in Python, the same markup as Django's templates.

    Through the template engine an input costs about 0.2 ms and a select about 0.1 ms per
    option on the 2-core target machine; the customer list's filter form alone took 3 ms of
    every request. Any other widget, and a select whose options use another template, goes
    through the templates as usual. A project that overrides Django's input or select
    templates must drop this renderer. `tests/test_form_renderer.py` compares both renderings.
    """

    def render(self, template_name, context, request=None):
        if template_name in _INPUT_TEMPLATES:
            return _render_input(context["widget"])
        if template_name == _SELECT_TEMPLATE and _stock_options(context["widget"]):
            return _render_select(context["widget"])
        return super().render(template_name, context, request=request)


def _stock_options(widget: dict) -> bool:
    return all(
        option["template_name"] == _OPTION_TEMPLATE
        for _name, options, _index in widget["optgroups"]
        for option in options
    )


def _text(value) -> str:
    """`{{ value }}` in a template: local time, localized, escaped."""
    if type(value) is str:  # most labels: nothing to localize (and not already safe)
        return escape(value)
    return conditional_escape(localize(template_localtime(value)))


def _render_input(widget: dict) -> str:
    value = widget["value"]
    value_attribute = "" if value is None else f' value="{conditional_escape(value)}"'
    return mark_safe(  # noqa: S308 - every value above is escaped
        f'<input type="{conditional_escape(widget["type"])}" '
        f'name="{conditional_escape(widget["name"])}"{value_attribute}'
        f"{_attributes(widget['attrs'])}>"
    )


def _render_select(widget: dict) -> str:
    """Django's `select.html`, newlines included (an option's template ends with one)."""
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attributes(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in options:
            parts.append(
                f'\n  <option value="{conditional_escape(option["value"])}"'
                f"{_attributes(option['attrs'])}>{_text(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped
