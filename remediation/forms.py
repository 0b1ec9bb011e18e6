from django import forms

from portal.forms import JSONText, JSONValue, ModelIdsField
from remediation import dryrun_signatures
from remediation.models import Policy, PolicyMode, Rule, RuleException


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


class PolicyForm(forms.Form):
    name = forms.SlugField(max_length=100, help_text="Lower-case, dashes: open-ssh-revoke.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    mode = forms.ChoiceField(choices=PolicyMode.choices, initial=PolicyMode.DRY_RUN,
                             help_text="off: never runs. dry_run: records what it would do. enforce: does it.")
    rule = forms.ModelChoiceField(queryset=Rule.objects.all(), required=False, to_field_name="name",
                                  empty_label="(none: an event rule)",
                                  help_text="Runs when this rule finds a resource non-compliant.")
    event_pattern = JSONValue(required=False, help_text="Or: an EventBridge pattern over CloudTrail events.")
    actions = JSONValue(help_text='The chain, in order: [{"action": "revoke_world_ingress", "details": {"ports": '
                                  '[22]}}, {"action": "notify"}].')
    scope = JSONText(required=False, help_text='Optional: {"accounts": [...], "teams": [...], "tags": {"env": "dev"}}.')
    max_resources = forms.IntegerField(min_value=1, initial=10, help_text="Blast radius: at most this many resources "
                                                                          "an hour; past it, runs are held and the "
                                                                          "admins alerted.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-select" if isinstance(field.widget, forms.Select)
                                          else "form-control")


class DryRunForm(forms.Form):
    WINDOWS = [("1", "The last hour"), ("24", "The last 24 hours"), ("168", "The last 7 days"), ("", "From … to …")]

    policies = ModelIdsField(queryset=Policy.objects.all(), widget=forms.CheckboxSelectMultiple, required=False)
    signatures = forms.MultipleChoiceField(choices=dryrun_signatures.signature_choices, required=False,
                                           widget=forms.SelectMultiple(attrs={"class": "form-select", "size": 6}),
                                           help_text="Stored signatures, any status (off and staging too).")
    signature_drafts = JSONText(required=False, label="Draft signature (JSON)",
                                help_text='Optional, not saved: {"name", "title", "pattern", "conditions", "severity", '
                                          '"dedup_minutes"}; named like a stored one, it replaces it.')
    window = forms.ChoiceField(choices=WINDOWS, initial="1", required=False)
    since = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local",
                                                                                  "class": "form-control"}),
                                help_text="UTC")
    until = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local",
                                                                                  "class": "form-control"}),
                                help_text="UTC")

    def clean(self):
        data = super().clean()
        from datetime import timedelta

        from django.utils import timezone

        if data.get("window"):
            data["until"] = timezone.now()
            data["since"] = data["until"] - timedelta(hours=int(data["window"]))
        elif not data.get("since"):
            self.add_error("since", "Give the start of the window, or choose one of the windows.")
        else:
            data["until"] = data.get("until") or timezone.now()
        return data
