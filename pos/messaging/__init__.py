"""Ways a message leaves the shop: SMS through an HTTP gateway (sms.py)."""
