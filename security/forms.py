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
