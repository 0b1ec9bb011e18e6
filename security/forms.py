from django import forms

from security.tokens import LIFETIMES, Scope


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it: a script, a pipeline, a laptop.")
    scope = forms.ChoiceField(choices=Scope.choices, initial=Scope.READ,
                              help_text="Read-only tokens may only read; read-write ones may do what you may do.")
    days = forms.TypedChoiceField(label="Expires after", coerce=int, initial=30,
                                  choices=[(d, f"{d} days") for d in LIFETIMES])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select" if isinstance(field.widget, forms.Select) else "form-control"


class MappingForm(forms.Form):
    """A rule: a provider group → a role ("role:Admin") or a team ("team:<id>")."""

    idp_group = forms.CharField(label="Provider group", max_length=200,
                                help_text="As the provider sends it in its groups claim (Entra ID: the group's object id).")
    target = forms.ChoiceField(label="Gives")

    def __init__(self, *args, teams=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [
            ("Roles", [(f"role:{r}", f"Role {r}") for r in ("Admin", "Developer", "Auditor")]),
            ("Teams", [(f"team:{t.pk}", f"Team {t.name}") for t in teams]),
        ]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
