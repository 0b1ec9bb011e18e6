"""Turning a service's ValidationError, or a filter's ValueError ("name: what is wrong"), into what a form, a
page's message or the API shows: the field named, never a 500."""

from django.core.exceptions import ValidationError
from rest_framework.exceptions import ValidationError as ApiValidationError


def errors_to_form(form, exc: ValidationError) -> None:
    """Each message on its field (on the form itself when the field is not one of the form's)."""
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def error_sentence(exc: ValidationError, *, named: bool = False) -> str:
    """Every message in one line (prefixed by its field when `named`), for a page's message."""
    return " ".join(f"{field}: {m}" if named else m for field, ms in exc.message_dict.items() for m in ms)


def bad_filter(exc: ValueError) -> ApiValidationError:
    """A filter's ValueError ("since: give an ISO 8601 time …") as the API's 400 naming the filter."""
    name, _, message = str(exc).partition(": ")
    return ApiValidationError({name: [message]})
