from django import forms

from portal.forms import JSONText, JSONValue
from triage.models import Severity, Signature


class SignatureForm(forms.Form):
    name = forms.SlugField(max_length=100, help_text="Lower-case, dashes: mfa-disabled.")
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.MEDIUM)
    status = forms.ChoiceField(choices=Signature.Status.choices, initial=Signature.Status.STAGING,
                               help_text="Staging counts hits and alerts nobody; promote it once its hits look right.")
    pattern = JSONText(help_text="EventBridge syntax over the CloudTrail event.")
    conditions = JSONText(required=False, help_text='Optional: {"teams": [...], "mfa": false, '
                                                    '"outside_allowed_regions": true, "hours": {"from": 22, "to": 6}, '
                                                    '"other_user": true, "errors": false, "threshold": {"count": 5, '
                                                    '"minutes": 10, "by": "identity"}}')
    tags = JSONValue(required=False, help_text='["attack:T1562.008", "hipaa:164.312(b)"]')
    actions = JSONValue(required=False, help_text='[{"action": "alert"}, {"action": "notify"}]')
    dedup_minutes = forms.IntegerField(min_value=1, initial=60)
    tests = JSONText(required=False, help_text='{"positive": [event, ...], "negative": [event, ...]}')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-select" if isinstance(field.widget, forms.Select)
                                          else "form-control")

    def clean(self):
        data = super().clean()
        data["tags"] = data.get("tags") or []
        data["actions"] = data.get("actions") or [{"action": "alert"}]
        return data
