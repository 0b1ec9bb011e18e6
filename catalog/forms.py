import json

from django import forms

from catalog.models import ConstraintType, Guidance, Portfolio, Product
from portal.forms import ModelIdsField
from portal.json_text import json_parse
from portal.models import Team


class BootstrapForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple)):
                continue
            css = "form-select" if isinstance(widget, (forms.Select, forms.SelectMultiple)) else "form-control"
            widget.attrs.setdefault("class", css)


class PortfolioForm(BootstrapForm):
    name = forms.CharField(max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    owner = forms.CharField(max_length=100, required=False)
    support_contact = forms.CharField(max_length=200, required=False)
    teams = ModelIdsField(queryset=Team.objects.order_by("name"), required=False,
                                           widget=forms.CheckboxSelectMultiple, help_text="Teams granted access.")


class ProductForm(BootstrapForm):
    name = forms.CharField(max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    owner = forms.CharField(max_length=100, required=False)
    portfolios = ModelIdsField(queryset=Portfolio.objects.order_by("name"),
                                                widget=forms.CheckboxSelectMultiple)
    support_email = forms.EmailField(required=False)
    support_url = forms.URLField(required=False, assume_scheme="https")
    support_description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                                          help_text="What developers should do when a launch breaks.")


class VersionForm(BootstrapForm):
    name = forms.CharField(max_length=100, help_text="e.g. v1.0")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    guidance = forms.ChoiceField(choices=Guidance.choices, initial=Guidance.DEFAULT)
    template_file = forms.FileField(required=False, label="Template file",
                                    help_text="A CloudFormation template, YAML or JSON (at most 1 MB).")
    template = forms.CharField(widget=forms.Textarea(attrs={"rows": 14, "class": "form-control font-monospace"}),
                               required=False, label="…or paste the template", strip=False)

    def clean(self):
        data = super().clean()
        upload = data.get("template_file")
        if upload:
            if upload.size > 1_000_000:
                raise forms.ValidationError({"template_file": "The file is larger than 1 MB."})
            try:
                data["template"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError({"template_file": "The file is not UTF-8 text."}) from None
        if not data.get("template", "").strip():
            raise forms.ValidationError({"template": "Upload a file or paste the template."})
        return data


class ConstraintForm(BootstrapForm):
    type = forms.ChoiceField(choices=ConstraintType.choices)
    portfolio = forms.ModelChoiceField(queryset=Portfolio.objects.none(), required=False,
                                       empty_label="Every portfolio", help_text="Where the constraint applies.")
    description = forms.CharField(max_length=200, required=False)
    definition = forms.CharField(widget=forms.Textarea(attrs={"rows": 8, "class": "form-control font-monospace"}),
                                 help_text="JSON, as in the API.")

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["portfolio"].queryset = product.portfolios.order_by("name")

    def clean_definition(self):
        try:
            return json_parse(self.cleaned_data["definition"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
        except ValueError as exc:
            raise forms.ValidationError(f"Not JSON: {exc}.") from None


CONSTRAINT_EXAMPLES = {
    "LAUNCH": {"role_arn": "arn:aws:iam::111111111111:role/GuardrailLaunch"},
    "TEMPLATE": {"Rules": {"SmallInstances": {"Assertions": [{
        "Assert": {"Fn::Contains": [["t3.micro", "t3.small"], {"Ref": "InstanceType"}]},
        "AssertDescription": "Instance type must be t3.micro or t3.small"}]}}},
    "PARAMETER": {"key": "InstanceType", "value": "t3.micro", "locked": True},
    "TAG": {"key": "cost-center", "value": "CC-1234", "locked": True},
    "NOTIFICATION": {"emails": ["payments-oncall@example.com"], "sns_topic_arns": []},
    "TARGET": {"account_ids": ["111111111111"], "regions": ["eu-west-1"]},
}


def constraint_example(type_: str) -> str:
    return json.dumps(CONSTRAINT_EXAMPLES.get(type_, {}), indent=2)
