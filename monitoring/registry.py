"""What the shop hands to monitoring. monitoring never imports the shop (`pos`): the shop
registers its business alert rules, its business metrics, its name (for alert messages) and the
demo passwords a deployment must not keep, here, when its app is ready (pos/monitoring.py). Its
deployment checks register with `monitoring.deployment.base.check`, as every check does.
"""

from collections.abc import Callable, Iterable

DEFAULT_SHOP_NAME = "Vevurn POS"

# (settings.ALERT_RULES) -> [monitoring.alert_rules.Rule]
alert_rule_factories: list[Callable[[dict], list]] = []
# () -> [prometheus_client metric families], read at each scrape
metric_families: list[Callable[[], list]] = []
demo_passwords: list[str] = []
_shop_name: Callable[[], str] | None = None


def register_alert_rules(factory: Callable[[dict], list]) -> Callable[[dict], list]:
    if factory not in alert_rule_factories:
        alert_rule_factories.append(factory)
    return factory


def register_metric_families(families: Callable[[], list]) -> Callable[[], list]:
    if families not in metric_families:
        metric_families.append(families)
    return families


def register_demo_passwords(passwords: Iterable[str]) -> None:
    demo_passwords.extend(p for p in passwords if p not in demo_passwords)


def register_shop_name(source: Callable[[], str]) -> None:
    global _shop_name
    _shop_name = source


def shop_name() -> str:
    """The registered shop's name; the product's name when none is registered or it fails."""
    try:
        return (_shop_name() if _shop_name is not None else "") or DEFAULT_SHOP_NAME
    except Exception:
        return DEFAULT_SHOP_NAME
