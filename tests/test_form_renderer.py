"""The Python widget renderer (FORM_RENDERER) writes exactly the markup of Django's templates.

Inputs and selects are rendered in Python for speed; every other widget, and every form,
still goes through Django's own widget templates. Whatever the renderer, a page must not
change by a single character: same attributes in the same order, same escaping, same
whitespace.
"""

import datetime as dt

import pytest
from django import forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates
from django.test import RequestFactory, override_settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from crm_site.forms import PythonWidgetRenderer
from customers.choices import CustomerType
from customers.filtersets import CustomerFilterSet
from customers.models import Branch, Customer
from segmentation.choices import ValueTier

NASTY = "<script>\"&'</script>"

# Attribute sets a widget meets on the project's pages: none; Bootstrap's classes with
# boolean attributes (a True one is written bare, a False one left out); values that need
# escaping, a lazy translated text, a number and None.
ATTRS = {
    "none": None,
    "bootstrap": {"class": "form-control is-invalid", "aria-invalid": "true", "id": "id_f"},
    "booleans": {"required": True, "disabled": False, "autofocus": True, "readonly": False},
    "escaping": {"placeholder": NASTY, "data-x": 'a "quoted" & <tagged> value', NASTY: "x"},
    "lazy_number_none": {"title": _("Search"), "maxlength": 20, "step": 0.5, "data-none": None},
}


def both(widget, value, attrs=None, name="f"):
    """The widget's markup through the Python renderer and through Django's templates."""
    return (
        widget.render(name, value, attrs, renderer=PythonWidgetRenderer()),
        widget.render(name, value, attrs, renderer=DjangoTemplates()),
    )


def both_renderers():
    return PythonWidgetRenderer(), DjangoTemplates()


def test_the_project_renders_forms_with_the_python_renderer():
    assert settings.FORM_RENDERER == "crm_site.forms.PythonWidgetRenderer"
    assert isinstance(forms.Form().renderer, PythonWidgetRenderer)


# --- Inputs ----------------------------------------------------------------------------------

INPUTS = [
    pytest.param(forms.TextInput(), "Wang Xiaoming", id="text"),
    pytest.param(forms.TextInput(), NASTY, id="text-escaped-value"),
    pytest.param(forms.TextInput(), None, id="text-none"),
    pytest.param(forms.TextInput(), "", id="text-empty"),
    pytest.param(forms.TextInput(), _("Search"), id="text-lazy-value"),
    pytest.param(forms.TextInput(attrs={"class": "form-control"}), "王小明", id="text-own-attrs"),
    pytest.param(forms.NumberInput(), 1234567.5, id="number"),
    pytest.param(forms.NumberInput(attrs={"min": 0, "max": 101}), 42, id="number-min-max"),
    pytest.param(forms.NumberInput(), None, id="number-none"),
    pytest.param(forms.EmailInput(), "wang@example.cn", id="email"),
    pytest.param(forms.URLInput(), "https://example.cn/?a=1&b=<2>", id="url"),
    pytest.param(forms.PasswordInput(), "s3cret<&>", id="password-hidden-value"),
    pytest.param(forms.PasswordInput(render_value=True), "s3cret<&>", id="password-shown"),
    pytest.param(forms.HiddenInput(), NASTY, id="hidden"),
    pytest.param(forms.HiddenInput(), None, id="hidden-none"),
    pytest.param(forms.DateInput(), dt.date(2026, 3, 2), id="date"),
    pytest.param(forms.DateInput(format="%d/%m/%Y"), dt.date(2026, 3, 2), id="date-format"),
    pytest.param(forms.DateInput(), "not a date <x>", id="date-invalid-text"),
    pytest.param(
        forms.DateTimeInput(), dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC), id="datetime"
    ),
    pytest.param(forms.DateTimeInput(), dt.datetime(2026, 3, 1, 9, 30), id="datetime-naive"),
    pytest.param(forms.TimeInput(), dt.time(9, 30, 15), id="time"),
    pytest.param(forms.TimeInput(format="%H:%M"), dt.time(9, 30), id="time-format"),
    pytest.param(forms.SearchInput(), NASTY, id="search"),
    pytest.param(forms.TelInput(), "+86 138 1234 5678", id="tel"),
    pytest.param(forms.ColorInput(), "#ff0000", id="color"),
]


@pytest.mark.parametrize("attrs", ATTRS.values(), ids=ATTRS.keys())
@pytest.mark.parametrize(("widget", "value"), INPUTS)
def test_inputs_render_exactly_as_django_templates(widget, value, attrs):
    python, templates = both(widget, value, attrs)
    assert python == templates


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(("widget", "value"), INPUTS)
def test_inputs_render_exactly_as_django_templates_in_both_languages(widget, value, language):
    with translation.override(language):
        python, templates = both(widget, value, {"placeholder": _("Search"), "required": True})
    assert python == templates


def test_an_input_escapes_what_the_user_typed():
    """The check a reviewer makes by eye: no raw tag or quote leaves the attribute."""
    python, _templates = both(forms.TextInput(), NASTY, {"placeholder": NASTY})
    assert "<script>" not in python
    assert "&lt;script&gt;&quot;&amp;&#x27;&lt;/script&gt;" in python
    assert python.startswith('<input type="text" name="f" value="&lt;script&gt;')


def test_a_password_is_never_written_back_unless_asked():
    python, _templates = both(forms.PasswordInput(), "s3cret")
    assert "s3cret" not in python
    assert "s3cret" in both(forms.PasswordInput(render_value=True), "s3cret")[0]


def test_boolean_attributes_are_bare_or_absent():
    python, _templates = both(forms.TextInput(), None, {"required": True, "disabled": False})
    assert python == '<input type="text" name="f" required>'


# --- Selects ---------------------------------------------------------------------------------

GROUPED = [
    ("Group <1> & co", [("a", "Apple"), ("b", 'B "quoted"')]),
    ("", [("loose", "In no group")]),
    ("c", "Cherry"),
]
SELECTS = [
    pytest.param(
        forms.Select(choices=[("", "---------"), ("a", "A & B"), ("<x>", NASTY)]),
        "<x>",
        id="select-escaped-selected",
    ),
    pytest.param(forms.Select(choices=[("a", "A"), ("b", "B")]), None, id="select-none"),
    pytest.param(forms.Select(choices=[(1, "One"), (2, "Two")]), 2, id="select-int-values"),
    pytest.param(forms.Select(choices=CustomerType.choices), "corporate", id="select-lazy-labels"),
    pytest.param(
        forms.Select(choices=[("", _("Any tier")), *ValueTier.choices]), "", id="select-empty-label"
    ),
    pytest.param(forms.Select(choices=GROUPED), "b", id="select-optgroups"),
    pytest.param(forms.SelectMultiple(choices=GROUPED), ["a", "c", "loose"], id="multiple"),
    pytest.param(
        forms.SelectMultiple(choices=[("a", "A"), ("b", "B"), ("c", "C")]), [], id="multiple-none"
    ),
    pytest.param(forms.NullBooleanSelect(), True, id="null-boolean-true"),
    pytest.param(forms.NullBooleanSelect(), False, id="null-boolean-false"),
    pytest.param(forms.NullBooleanSelect(), None, id="null-boolean-unknown"),
]


@pytest.mark.parametrize("attrs", ATTRS.values(), ids=ATTRS.keys())
@pytest.mark.parametrize(("widget", "value"), SELECTS)
def test_selects_render_exactly_as_django_templates(widget, value, attrs):
    python, templates = both(widget, value, attrs)
    assert python == templates


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(("widget", "value"), SELECTS)
def test_selects_render_exactly_as_django_templates_in_both_languages(widget, value, language):
    with translation.override(language):
        python, templates = both(widget, value, {"class": "form-select", "required": True})
    assert python == templates


@pytest.mark.parametrize("attrs", ATTRS.values(), ids=ATTRS.keys())
def test_a_select_without_options_renders_exactly_as_django_templates(attrs):
    python, templates = both(forms.Select(choices=[]), None, attrs)
    assert python == templates


@pytest.mark.django_db
def test_a_model_choice_select_renders_exactly_as_django_templates(branch_x, branch_y):
    # given: a branch whose name needs escaping
    Branch.objects.create(code="EV", name=NASTY)
    field = forms.ModelChoiceField(queryset=Branch.objects.order_by("code"), empty_label="Any")
    # when
    python, templates = both(field.widget, branch_y.pk, {"class": "form-select"}, name="branch")
    # then
    assert python == templates


@pytest.mark.django_db
def test_a_model_choice_select_escapes_names_and_marks_the_chosen_one(branch_x, branch_y):
    evil = Branch.objects.create(code="EV", name=NASTY)
    field = forms.ModelChoiceField(queryset=Branch.objects.order_by("code"), empty_label="Any")
    python, _templates = both(field.widget, branch_y.pk, name="branch")
    assert f'<option value="{branch_y.pk}" selected>Beijing Branch</option>' in python
    assert f'<option value="{evil.pk}">&lt;script&gt;' in python
    assert "<script>" not in python


def test_a_select_marks_the_chosen_options_and_escapes_labels():
    python, _templates = both(forms.SelectMultiple(choices=GROUPED), ["a", "c"])
    assert '<optgroup label="Group &lt;1&gt; &amp; co">' in python
    assert '<option value="a" selected>Apple</option>' in python
    assert '<option value="b">B &quot;quoted&quot;</option>' in python
    assert '<option value="c" selected>Cherry</option>' in python
    assert python.startswith('<select name="f" multiple>')


@override_settings(USE_THOUSAND_SEPARATOR=True)
@pytest.mark.parametrize(
    "choices",
    [
        pytest.param([(1, dt.date(2026, 3, 2))], id="date-label"),
        pytest.param([(1, dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC))], id="datetime-label"),
        pytest.param([(1, 1234567)], id="number-label"),
        pytest.param([(dt.date(2026, 1, 1), [(1, "January")])], id="date-group"),
    ],
)
def test_option_labels_that_are_not_text_are_localized_as_in_django_templates(choices):
    widget = forms.Select(choices=choices)
    python, templates = both(widget, 1)
    assert python == templates


# --- Everything else goes through the templates ------------------------------------------------


@pytest.mark.parametrize(
    ("widget", "value"),
    [
        pytest.param(forms.RadioSelect(choices=GROUPED), "b", id="radio"),
        pytest.param(forms.CheckboxSelectMultiple(choices=GROUPED), ["a", "c"], id="checkboxes"),
        pytest.param(forms.CheckboxInput(), True, id="checkbox-checked"),
        pytest.param(forms.CheckboxInput(), False, id="checkbox-unchecked"),
        pytest.param(forms.Textarea(), f"line one\n{NASTY}", id="textarea"),
        pytest.param(forms.ClearableFileInput(), None, id="file"),
        pytest.param(forms.MultipleHiddenInput(), ["a", NASTY], id="multiple-hidden"),
        pytest.param(
            forms.SplitDateTimeWidget(),
            dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC),
            id="split-datetime",
        ),
        pytest.param(forms.SelectDateWidget(years=[2025, 2026]), dt.date(2026, 3, 2), id="date3"),
    ],
)
@pytest.mark.parametrize("attrs", ATTRS.values(), ids=ATTRS.keys())
def test_other_widgets_fall_back_to_django_templates(widget, value, attrs):
    python, templates = both(widget, value, attrs)
    assert python == templates


def test_form_layouts_and_error_lists_fall_back_to_django_templates():
    class Form(forms.Form):
        name = forms.CharField(max_length=5, widget=forms.Textarea)
        agree = forms.BooleanField()

    forms_ = [Form({"name": NASTY}, renderer=renderer) for renderer in both_renderers()]
    for form in forms_:
        form.add_error(None, NASTY)
    python, templates = (str(form) for form in forms_)
    assert python == templates
    assert "errorlist" in python and "<script>" not in python


# --- A real page's form ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_customer_filter_form_with_errors_renders_the_same_with_both_renderers(
    head_x, rm_a, rm_b, branch_x, language
):
    """The customer list's filter form, as a branch head sees it after a bad search."""
    # given
    data = {
        "q": NASTY,
        "value_tier": "platinum",  # not a tier
        "relationship_manager": str(rm_a.pk),
        "completeness_below": "abc",
        "not_contacted_since": "2026-02-30",
        "updated_since": "2026-03-01T17:30:00Z",
        "churn_risk": "true",
    }
    request = RequestFactory().get("/customers/", data)
    request.user = head_x
    rendered = []
    with translation.override(language):
        for renderer in both_renderers():
            filterset = CustomerFilterSet(
                request.GET, queryset=Customer.objects.visible_to(head_x), request=request
            )
            form = filterset.form
            form.renderer = renderer
            assert not form.is_valid()
            rendered.append(str(form))
    # then
    python, templates = rendered
    assert set(form.errors) == {"value_tier", "completeness_below", "not_contacted_since"}
    assert python == templates


def test_model_dropdowns_read_eagerly_and_keep_django_filters_null_choice(rm_a, rm_b):
    """BootstrapForm reads model choices with one query (no server-side cursor) and keeps
    what a subclass of the iterator adds, such as django-filter's "null" option."""
    import django_filters

    from crm_site.forms import BootstrapForm, EagerModelChoiceIterator
    from customers.models import User

    class ManagerFilter(django_filters.FilterSet):
        relationship_manager = django_filters.ModelChoiceFilter(
            queryset=User.objects.filter(pk__in=[rm_a.pk, rm_b.pk]), null_label="Unassigned"
        )

        class Meta:
            model = User
            form = BootstrapForm
            fields = ["relationship_manager"]

    field = ManagerFilter().form.fields["relationship_manager"]
    assert issubclass(field.iterator, EagerModelChoiceIterator)
    labels = [str(label) for _value, label in field.choices]
    assert labels[:2] == ["---------", "Unassigned"]
    assert set(labels[2:]) == {str(rm_a), str(rm_b)}
