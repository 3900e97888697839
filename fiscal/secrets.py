"""The device's cmcKey, encrypted at rest with FISCAL_SECRET_KEY (Fernet: AES-128-CBC with an
HMAC-SHA256, from `cryptography`). The key lives in the environment, never in the database: a
copy of the database alone does not reveal the cmcKey."""

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretKeyMissing(ImproperlyConfigured):
    pass


def _fernet() -> Fernet:
    key = settings.FISCAL_SECRET_KEY
    if not key:
        raise SecretKeyMissing(
            "FISCAL_SECRET_KEY is not set: it encrypts the fiscal device's cmcKey (docs/fiscal.md)."
        )
    try:
        return Fernet(key.encode())
    except ValueError:
        raise SecretKeyMissing(
            "FISCAL_SECRET_KEY is not a Fernet key (32 url-safe base64-encoded bytes)."
        ) from None


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretKeyMissing(
            "The fiscal device's cmcKey cannot be decrypted with this FISCAL_SECRET_KEY."
        ) from None
