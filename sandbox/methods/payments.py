"""Invoices, pre-checkout answers, Telegram Stars refunds and the Stars transaction ledger."""

from __future__ import annotations

import copy
import time
from typing import Any

from .. import validation
from ..errors import bad
from ..messages import Refund
from ..params import Params
from ..state import BotState, InvoiceInfo
from . import MethodFamily


class PaymentMethods(MethodFamily):
    """Payments as Telegram runs them: the invoice message, the charge, the refund."""

    async def m_sendInvoice(self, bot: BotState, p: Params) -> Any:
        title = p.required("title")
        description = p.required("description")
        payload = p.required("payload")
        currency = p.required("currency").upper()
        provider_token = p.str("provider_token") or ""
        prices = validation.prices(p)
        if len(title) > 32:
            raise bad("INVOICE_TITLE_INVALID")
        if len(description) > 255:
            raise bad("INVOICE_DESCRIPTION_INVALID")
        if len(payload.encode("utf-8")) > 128:
            raise bad("INVOICE_PAYLOAD_INVALID")
        total = sum(price["amount"] for price in prices)
        if currency == "XTR":
            if provider_token or len(prices) != 1 or p.int("max_tip_amount") or p.json("suggested_tip_amounts"):
                raise bad("STARS_INVOICE_INVALID")
        else:
            if not provider_token:
                raise bad("PAYMENT_PROVIDER_INVALID")
            if len(currency) != 3 or not currency.isalpha():
                raise bad("CURRENCY_INVALID")
        low, high = self.emu.currency_limits.get(currency, (1, 10**12))
        if not (low <= total <= high):
            raise bad("CURRENCY_TOTAL_AMOUNT_INVALID")
        markup = validation.markup(p)
        if markup is not None:
            if "inline_keyboard" not in markup:
                raise bad("inline keyboard expected")
            first = markup["inline_keyboard"][0][0] if markup["inline_keyboard"][0] else {}
            if not first.get("pay"):
                raise bad("REPLY_MARKUP_BUY_EMPTY")
        chat = self.emu._resolve_chat(bot, p.get("chat_id"))
        reply_to = validation.reply_to(chat, p)
        start_parameter = p.str("start_parameter") or ""
        info = InvoiceInfo(
            title=title,
            description=description,
            payload=payload,
            provider_token=provider_token,
            currency=currency,
            prices=prices,
            total_amount=total,
            start_parameter=start_parameter,
            need_name=p.bool("need_name"),
            need_phone_number=p.bool("need_phone_number"),
            need_email=p.bool("need_email"),
            need_shipping_address=p.bool("need_shipping_address"),
            is_flexible=p.bool("is_flexible"),
        )
        content = {
            "invoice": {
                "title": title,
                "description": description,
                "start_parameter": start_parameter,
                "currency": currency,
                "total_amount": total,
            }
        }
        if markup is None:
            label = f"Pay ⭐️{total}" if currency == "XTR" else f"Pay {_money(total, currency)}"
            markup = {"inline_keyboard": [[{"text": label, "pay": True}]]}
        stored = self.emu._store(
            bot,
            chat,
            content,
            outgoing=True,
            reply_markup=markup,
            protect=p.bool("protect_content"),
            reply_to=reply_to,
            invoice=info,
        )
        return copy.deepcopy(stored.data)

    async def m_answerPreCheckoutQuery(self, bot: BotState, p: Params) -> Any:
        ok = p.bool("ok")
        error_message = p.str("error_message") or ""
        if not ok and not error_message:
            raise bad("ERROR_MESSAGE_EMPTY")
        query = self.emu._take_query(bot, "pre_checkout", p.str("pre_checkout_query_id"))
        if not query.future.done():
            query.future.set_result((ok, error_message or None))
        return True

    async def m_refundStarPayment(self, bot: BotState, p: Params) -> Any:
        user_id = p.int("user_id")
        charge_id = p.str("telegram_payment_charge_id") or ""
        if not user_id:
            raise bad("invalid user_id specified")
        if not charge_id:
            raise bad('parameter "telegram_payment_charge_id" is required')
        charge = self.emu.charges.get(charge_id)
        if charge is None or charge.bot_id != bot.id or charge.user_id != user_id or charge.currency != "XTR":
            raise bad("CHARGE_NOT_FOUND")
        if charge.refunded:
            raise bad("CHARGE_ALREADY_REFUNDED")
        charge.refunded = True
        charge.refunded_at = int(time.time())
        self.emu.refunds.append(Refund(bot.id, user_id, charge_id, charge.currency, charge.total_amount, time.time()))
        person = self.emu._person(bot, user_id)
        if self.emu.refund_service_messages and person is not None:
            chat = self.emu._chat_for_user(bot, person)
            content = {
                "refunded_payment": {
                    "currency": charge.currency,
                    "total_amount": charge.total_amount,
                    "invoice_payload": charge.payload,
                    "telegram_payment_charge_id": charge.charge_id,
                }
            }
            stored = self.emu._store(bot, chat, content, outgoing=False, sender=person.user_json())
            self.emu._post_update(bot, "message", copy.deepcopy(stored.data))
        return True

    async def m_getStarTransactions(self, bot: BotState, p: Params) -> Any:
        offset = max(p.int("offset", 0) or 0, 0)
        limit = min(max(p.int("limit", 100) or 100, 1), 100)
        transactions: list[dict[str, Any]] = []
        for charge in self.emu.charges.values():
            if charge.bot_id != bot.id or charge.currency != "XTR":
                continue
            person = self.emu._person(bot, charge.user_id)
            user = person.user_json() if person else {"id": charge.user_id, "is_bot": False, "first_name": ""}
            partner = {
                "type": "user",
                "transaction_type": "invoice_payment",
                "user": user,
                "invoice_payload": charge.payload,
            }
            transactions.append(
                {"id": charge.charge_id, "amount": charge.total_amount, "date": charge.date, "source": partner}
            )
            if charge.refunded:
                transactions.append(
                    {
                        "id": charge.charge_id,
                        "amount": charge.total_amount,
                        "date": charge.refunded_at,
                        "receiver": partner,
                    }
                )
        transactions.sort(key=lambda t: t["date"], reverse=True)
        return {"transactions": transactions[offset : offset + limit]}


def _money(amount: int, currency: str) -> str:
    whole, cents = divmod(abs(amount), 100)
    sign = "-" if amount < 0 else ""
    return f"{sign}{whole:,}.{cents:02d} {currency}".replace(",", " ")
