import json

from django import forms
from django.conf import settings

from portal import aws
from portal.json_text import json_parse
from portal.models import Account, Team
from portal.request_values import as_id


def _region_choices() -> list[tuple[str, str]]:
    preferred = list(settings.AWS_REGIONS)
    others = sorted(aws.known_regions() - set(preferred))
    return [(r, r) for r in preferred + others]


class ModelIdsField(forms.ModelMultipleChoiceField):
    """Django's ModelMultipleChoiceField, checking that each posted id could be an id before it queries (`pk__in`
    with a number too large for the column is an OverflowError or a DataError: a 500, not "not a valid value")."""

    def _check_values(self, value):
        for pk in value:
            if as_id(pk) is None:
                raise forms.ValidationError(self.error_messages["invalid_pk_value"], code="invalid_pk_value",
                                            params={"pk": str(pk)[:100]})
        return super()._check_values(value)


class JSONText(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 8, "class": "form-control font-monospace", "spellcheck": "false"})

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return {}
        try:
            parsed = json_parse(value)
        except ValueError as exc:
            raise forms.ValidationError(f"Not JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise forms.ValidationError("Give a JSON object ({...}).")
        return parsed

    def prepare_value(self, value):
        return json.dumps(value, indent=2) if isinstance(value, dict) else value


class JSONValue(JSONText):
    """Any JSON value (a list of actions, a pattern); empty is None."""

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return None
        try:
            return json_parse(value)
        except ValueError as exc:
            raise forms.ValidationError(f"Not JSON: {exc}") from None

    def prepare_value(self, value):
        return json.dumps(value, indent=2) if isinstance(value, dict | list) else value


class AccountForm(forms.ModelForm):
    allowed_regions = forms.MultipleChoiceField(
        choices=_region_choices, widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Resources may only live in these regions.",
    )

    class Meta:
        model = Account
        fields = ["account_id", "name", "team", "allowed_regions", "role_name", "cloudtrail_source", "config_source"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.order_by("name")
        if self.instance.pk:
            self.fields["account_id"].disabled = True
        self.fields["cloudtrail_source"].required = False  # absent: keep what the account has (S3 when new)
        self.fields["config_source"].required = False
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, (forms.Select, forms.SelectMultiple)) else "form-control"
            field.widget.attrs.setdefault("class", css)
