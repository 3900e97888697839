"""SMS through an HTTP gateway with Africa's Talking's API (MESSAGES_SMS_BACKEND=africastalking).

    POST <SMS_GATEWAY_URL>/version1/messaging
    headers: apiKey, Accept: application/json; form: username, to, message[, from]

The answer names each recipient with its own status: {"SMSMessageData": {"Message": ...,
"Recipients": [{"number", "status", "statusCode", "messageId", "cost"}]}}. Codes 100-102
(Processed, Sent, Queued) are accepted by the gateway; any other code is its refusal of that
number (InvalidPhoneNumber, UserInBlacklist, InsufficientBalance...), which no retry fixes, except
500-502 (the gateway's own faults). A transport failure or a 5xx answer is temporary: the caller
tries again later.
"""

from dataclasses import dataclass

import httpx
from django.conf import settings

ACCEPTED = {100, 101, 102}
GATEWAY_FAULTS = {500, 501, 502}


class SmsError(Exception):
    """The SMS did not leave; `temporary`: a retry later may succeed."""

    def __init__(self, message: str, *, temporary: bool, status: str = ""):
        super().__init__(message)
        self.temporary = temporary
        self.status = status


@dataclass(frozen=True)
class SmsSent:
    message_id: str
    status: str  # the gateway's word for the recipient ("Success", "Sent", "Queued")
    cost: str


def sms_enabled() -> bool:
    return settings.MESSAGES_SMS_BACKEND == "africastalking"


def send_sms(to: str, text: str) -> SmsSent:
    """Send `text` to one number (+2507XXXXXXXX).

    :raises SmsError: refused (temporary or not), or the gateway was not reached.
    """
    if not sms_enabled():
        raise SmsError("SMS is off (MESSAGES_SMS_BACKEND=none).", temporary=False)
    form = {"username": settings.SMS_USERNAME, "to": to, "message": text}
    if settings.SMS_SENDER_ID:
        form["from"] = settings.SMS_SENDER_ID
    try:
        response = httpx.post(
            settings.SMS_GATEWAY_URL.rstrip("/") + "/version1/messaging",
            data=form,
            headers={"apiKey": settings.SMS_API_KEY, "Accept": "application/json"},
            timeout=settings.SMS_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        raise SmsError(f"SMS gateway not reached: {error}", temporary=True) from error
    if response.status_code >= 500:
        raise SmsError(f"SMS gateway answered {response.status_code}", temporary=True)
    if response.status_code >= 400:
        raise SmsError(
            f"SMS gateway refused the request ({response.status_code}): {response.text[:150]}",
            temporary=response.status_code == 429,
        )
    try:
        recipients = response.json()["SMSMessageData"]["Recipients"]
        (recipient,) = [r for r in recipients if r.get("number") == to] or recipients[:1]
        code = int(recipient.get("statusCode"))
    except (ValueError, KeyError, TypeError) as error:
        raise SmsError(f"SMS gateway's answer not understood: {error}", temporary=True) from None
    status = str(recipient.get("status", ""))[:100]
    if code not in ACCEPTED:
        raise SmsError(
            f"SMS gateway refused {to}: {status} ({code})",
            temporary=code in GATEWAY_FAULTS,
            status=status,
        )
    return SmsSent(
        message_id=str(recipient.get("messageId", ""))[:100],
        status=status,
        cost=str(recipient.get("cost", "")),
    )
