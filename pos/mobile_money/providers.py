"""The Mobile Money providers the till can ask to pay: MTN MoMo and Airtel Money.

Each provider is a client class with the same two calls (`request_to_pay`, `get_status`, both
answering in pos.mobile_money.client's terms) and the settings that switch it on. The
request-to-pay service (pos.services.mobile_money) picks the provider of each request here and
knows nothing else about either; adding a provider is a client and a line below.
"""

from dataclasses import dataclass

from .airtel import AirtelClient
from .client import MoMoClient
from .errors import MoMoNotConfigured
from .http import TokenClient

MTN = "mtn"
AIRTEL = "airtel"


@dataclass(frozen=True)
class Provider:
    code: str  # pos.models.MobileProvider's value
    client_class: type[TokenClient]
    required_settings: tuple[str, ...]  # all set: requests to pay are offered
    currency_setting: str

    def configured(self) -> bool:
        from django.conf import settings

        return all(getattr(settings, name, "") for name in self.required_settings)

    def client(self):
        """A client from the settings; MoMoNotConfigured when they are missing."""
        if not self.configured():
            raise MoMoNotConfigured()
        return self.client_class.from_settings()

    @property
    def currency(self) -> str:
        from django.conf import settings

        return getattr(settings, self.currency_setting)


PROVIDERS = {
    MTN: Provider(
        MTN,
        MoMoClient,
        ("MOMO_BASE_URL", "MOMO_SUBSCRIPTION_KEY", "MOMO_API_USER", "MOMO_API_KEY"),
        "MOMO_CURRENCY",
    ),
    AIRTEL: Provider(
        AIRTEL,
        AirtelClient,
        ("AIRTEL_BASE_URL", "AIRTEL_CLIENT_ID", "AIRTEL_CLIENT_SECRET"),
        "AIRTEL_CURRENCY",
    ),
}


def provider(code: str) -> Provider:
    """The provider called `code`; KeyError for an unknown one (callers validate first)."""
    return PROVIDERS[code]


def configured_providers() -> list[str]:
    """The codes of the providers set up for requests to pay, MTN first."""
    return [code for code, found in PROVIDERS.items() if found.configured()]
