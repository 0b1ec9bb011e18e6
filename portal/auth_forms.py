from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"

    def confirm_login_allowed(self, user) -> None:
        """With LOCAL_PASSWORDS off, a password lets in superusers only (the first admin keeps a way in)."""
        super().confirm_login_allowed(user)
        if not settings.LOCAL_PASSWORDS and not user.is_superuser:
            raise ValidationError(f"Guardrail passwords are off: sign in with {settings.OIDC_PROVIDER_NAME}.",
                                  code="local_passwords_off")
