"""The base of every form: text cleaned at the boundary, choices that are really choices.

Every field that carries text gets portal.sanitize's cleaning as a filter when the form is bound,
so no view or service can forget it: multi-line fields (TextAreaField) keep their line breaks,
one-line fields (names, titles, hidden values) lose them, uploaded files get a clean one-line
file name. Passwords are left exactly as typed: they are only hashed.

A choice (select, radio, checkboxes) is not cleaned but checked: it must be exactly one of the
offered values, or empty where the field is optional. WTForms' Optional() clears the "not a
valid choice" error of a blank-looking value such as "  ", which then reached Enum(...) in a view.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FileField, MultipleFileField, PasswordField, StringField, TextAreaField
from wtforms.fields.choices import SelectFieldBase
from wtforms.utils import unset_value

from portal.sanitize import clean_line, clean_text

INVALID_CHOICE = _l("请从列表中选择一项。")


def clean_multiline(value):
    """Filter for multi-line text fields; None (nothing submitted) stays None."""
    return clean_text(value) if isinstance(value, str) else value


def clean_single(value):
    """Filter for one-line fields; None (nothing submitted) stays None."""
    return clean_line(value) if isinstance(value, str) else value


def clean_upload(value):
    """Filter for file fields: a clean one-line file name, whatever the browser sent."""
    files = value if isinstance(value, list) else [value]
    for upload in files:
        if hasattr(upload, "filename") and isinstance(upload.filename, str):
            upload.filename = clean_line(upload.filename)
    return value


def cleaning_filter(field_class: type):
    """The filter a field class gets, or None for fields that carry no free text."""
    if issubclass(field_class, PasswordField):
        return None
    if issubclass(field_class, TextAreaField):
        return clean_multiline
    if issubclass(field_class, StringField):
        return clean_single
    if issubclass(field_class, FileField | MultipleFileField):
        return clean_upload
    return None


def choice_values(field: SelectFieldBase) -> set | None:
    """The coerced values a choice field offers, or None when it has no choices (yet)."""
    if field.choices is None:
        return None
    values = set()
    for choice in field.iter_choices():
        value = choice.value if hasattr(choice, "value") else choice[0]
        try:
            values.add(field.coerce(value))
        except (TypeError, ValueError):
            values.add(value)
    return values


class PortalForm(FlaskForm):
    """FlaskForm with cleaned text and strict choices; every form of the portal derives from it."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            extra = cleaning_filter(unbound_field.field_class)
            if extra is not None:
                # Cleaning runs first, so a field's own filters see the text as stored.
                filters = [extra, *unbound_field.kwargs.get("filters", ())]
                return unbound_field.bind(form=form, filters=filters, **options)
            return unbound_field.bind(form=form, **options)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators=extra_validators)
        for field in self:
            if isinstance(field, SelectFieldBase) and not _valid_choice(field):
                if INVALID_CHOICE not in field.errors:
                    field.errors = [*field.errors, INVALID_CHOICE]
                valid = False
        return valid


def _valid_choice(field: SelectFieldBase) -> bool:
    if not getattr(field, "validate_choice", True):
        return True
    values = choice_values(field)
    if values is None:
        return True
    data = field.data
    if data is None or data is unset_value:
        return True
    chosen = data if isinstance(data, list | tuple) else [data]
    # Nothing chosen is for the field's own validators (DataRequired/Optional) to judge; a
    # blank-looking "  " is not nothing, and not a choice either.
    return all(value in values for value in chosen if value not in ("", None))


__all__ = ["INVALID_CHOICE", "PortalForm", "clean_multiline", "clean_single", "clean_upload"]
