from django import forms
from django.conf import settings

from onboarding.models import OnboardingRule
from portal import aws
from portal.models import Team


class RuleForm(forms.Form):
    kind = forms.ChoiceField(choices=OnboardingRule.Kind.choices, widget=forms.Select(attrs={"class": "form-select"}))
    match = forms.CharField(max_length=300, widget=forms.TextInput(attrs={
        "class": "form-control", "placeholder": "Root/Workloads/Prod or team=payments"}))
    team = forms.ModelChoiceField(queryset=Team.objects.all(), to_field_name="slug",
                                  widget=forms.Select(attrs={"class": "form-select"}))

    def clean(self):
        data = super().clean()
        if data.get("kind") == OnboardingRule.Kind.TAG and "=" not in data.get("match", ""):
            self.add_error("match", "A tag rule is key=value, e.g. team=payments.")
        if data.get("match") and OnboardingRule.objects.filter(kind=data.get("kind"), match=data["match"].strip()
                                                              ).exists():
            self.add_error("match", "A rule with this match exists already.")
        return data


class BulkOnboardForm(forms.Form):
    account_ids = forms.MultipleChoiceField(choices=(), error_messages={"required": "Choose at least one account."})
    default_team = forms.ModelChoiceField(queryset=Team.objects.all(), to_field_name="slug", required=False,
                                          help_text="For accounts no rule maps to a team.")
    regions = forms.MultipleChoiceField(choices=(), help_text="Allowed regions of the new accounts.")

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account_ids"].choices = [(c.org_account.account_id, c.org_account.account_id)
                                              for c in candidates]
        regions = sorted(set(settings.AWS_REGIONS) | set(aws.known_regions()))
        self.fields["regions"].choices = [(r, r) for r in regions]
        self.fields["regions"].initial = list(settings.AWS_REGIONS)
