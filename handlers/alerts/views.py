"""How alerts read: one line each ("Concert · Moscow · “splean” · up to 3,000 RUB"), and the /alerts list."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as hd

from db.models import Alert
from handlers.shared.display import city_name, event_type_label, money
from services.alerts import MAX_ALERTS, AlertSpec


def describe(spec: AlertSpec, currency: str, language: str) -> str:
    parts = []
    if spec.event_type is not None:
        parts.append(event_type_label(spec.event_type))
    if spec.city_id is not None:
        parts.append(hd.quote(city_name(spec.city_id, language)))
    if spec.text:
        parts.append(f"“{hd.quote(spec.text)}”")
    if spec.event_key is not None:
        parts.append(_("alerts-this-event"))
    if spec.max_price is not None:
        parts.append(_("alerts-up-to").format(price=money(spec.max_price, currency, language)))
    if spec.seats > 1:
        parts.append(_("alerts-seats", "alerts-seats-plural", spec.seats).format(count=spec.seats))
    return " · ".join(parts) or _("alerts-anything")


def spec_of(alert: Alert) -> AlertSpec:
    return AlertSpec(alert.event_type, alert.city_id, alert.text, alert.event_key, alert.max_price, alert.seats)


def list_text(alerts: Sequence[Alert], currency: str, language: str) -> str:
    if not alerts:
        return _("alerts-none")
    lines = [_("alerts-title").format(count=len(alerts), limit=MAX_ALERTS)]
    lines += [f"{n}. {describe(spec_of(alert), currency, language)}" for n, alert in enumerate(alerts, start=1)]
    return "\n".join(lines)
