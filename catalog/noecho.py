"""NoEcho values at rest: encrypted with a key derived from SECRET_KEY, readable only by the worker.

They are kept (encrypted) because an update must pass the same value again unless the developer
re-enters it; they are never stored, logged, queued or shown in clear.
"""

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    key = hashlib.sha256(b"guardrail-noecho:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def secrets_seal(values: dict[str, str]) -> str:
    if not values:
        return ""
    return _fernet().encrypt(json.dumps(values).encode()).decode()


def secrets_open(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise ValueError("The stored NoEcho values cannot be decrypted (SECRET_KEY changed?).") from None
