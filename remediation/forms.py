import json

from django import forms

from remediation.models import Rule, RuleException


class JSONText(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 8, "class": "form-control font-monospace", "spellcheck": "false"})

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return {}
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise forms.ValidationError(f"Not JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise forms.ValidationError("Give a JSON object ({...}).")
        return parsed

    def prepare_value(self, value):
        return json.dumps(value, indent=2) if isinstance(value, dict) else value


class RuleForm(forms.Form):
    name = forms.SlugField(max_length=100, help_text="Lower-case, dashes: restricted-ssh, web-needs-owner.")
    kind = forms.ChoiceField(choices=Rule.Kind.choices)
    source = forms.CharField(required=False, help_text="Managed: the AWS rule's name. Plug-in: its entry point.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    parameters = JSONText(required=False, help_text='Managed rules take AWS\'s parameters, e.g. {"tag1Key": "owner"}.')
    definition = JSONText(required=False, help_text="Declarative rules: resource_types, match, annotation.")
    at_launch = forms.ChoiceField(choices=Rule.AtLaunch.choices, initial=Rule.AtLaunch.IGNORE)
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "enabled":
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                field.widget.attrs.setdefault("class", css)


class ExceptionForm(forms.Form):
    rule = forms.ModelChoiceField(queryset=Rule.objects.all(), required=False, empty_label="Every rule",
                                  to_field_name="name")
    scope = forms.ChoiceField(choices=RuleException.Scope.choices)
    value = forms.CharField(max_length=512, help_text="The resource id, key=value, account id or team slug.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    expires = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                  help_text="UTC. Once it passes, the findings count again.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-select" if isinstance(field.widget, forms.Select)
                                          else "form-control")
