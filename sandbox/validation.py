"""Parameter checks shared by the method families, refused with Telegram's own error texts."""

from __future__ import annotations

from typing import Any

from .errors import bad
from .formatting import EntityParseError, auto_entities, parse_text, sort_entities, trim_text, utf16_len
from .params import Params
from .state import ChatState, StoredMessage

__all__ = [
    "MAX_CAPTION", "MAX_TEXT", "caption", "format_text", "formatted", "language", "markup", "prices", "reply_to",
]  # fmt: skip

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64


def formatted(
    p: Params,
    text_field: str,
    entities_field: str,
    *,
    limit: int,
    required: bool,
    too_long: str,
    empty: str = "message text is empty",
    parse_mode_field: str = "parse_mode",
) -> tuple[str | None, list[dict[str, Any]]]:
    raw = p.str(text_field)
    if raw is None or raw == "":
        if required:
            raise bad(empty)
        return None, []
    entities_value = p.json(entities_field, f"can't parse {entities_field.replace('_', ' ')} JSON object")
    return format_text(raw, p.str(parse_mode_field), entities_value, limit, required, too_long, empty)


def format_text(
    raw: str,
    parse_mode: str | None,
    entities_value: Any,
    limit: int,
    required: bool,
    too_long: str,
    empty: str = "message text is empty",
) -> tuple[str | None, list[dict[str, Any]]]:
    if entities_value:
        if not isinstance(entities_value, list):
            raise bad("can't parse entities: expected an Array of MessageEntity")
        text, entities = raw, [dict(e) for e in entities_value if isinstance(e, dict)]
        total = utf16_len(text)
        for entity in entities:
            if not {"type", "offset", "length"} <= entity.keys():
                raise bad("can't parse entities: MessageEntity must have type, offset and length")
            if entity["offset"] < 0 or entity["length"] <= 0 or entity["offset"] + entity["length"] > total:
                raise bad("entity beginning out of bounds" if entity["offset"] > total else "entity too long")
    else:
        try:
            text, entities = parse_text(raw, parse_mode)
        except EntityParseError as e:
            raise bad(f"can't parse entities: {e}") from None
        except ValueError:
            raise bad(f"unsupported parse_mode {parse_mode!r}") from None
    text, entities = trim_text(text, entities)
    if not text:
        if required:
            raise bad(empty)
        return None, []
    if len(text) > limit:
        raise bad(too_long)
    entities = sort_entities(entities + auto_entities(text, entities))
    return text, entities


def markup(p: Params, *, inline_only: bool = False) -> dict[str, Any] | None:
    value = p.json("reply_markup", "can't parse reply keyboard markup JSON object")
    if value is None:
        return None
    markup = _validate_markup(value)
    if markup is not None and inline_only and "inline_keyboard" not in markup:
        raise bad("inline keyboard expected")
    return markup


def _validate_markup(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        raise bad("object expected as reply markup")
    if value.get("keyboard"):
        rows = value["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad('field "keyboard" must be an Array of Arrays')
        clean_rows = []
        for row in rows:
            clean_row = []
            for button in row:
                if isinstance(button, str):
                    clean_row.append({"text": button})
                elif isinstance(button, dict) and isinstance(button.get("text"), str):
                    clean_row.append(dict(button))
                else:
                    raise bad('can\'t parse keyboard button: Field "text" must be of type String')
            clean_rows.append(clean_row)
        if any(clean_rows):
            return {**value, "keyboard": clean_rows}
    if value.get("inline_keyboard"):
        rows = value["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        count = 0
        clean_rows = []
        for row in rows:
            clean_row = []
            for button in row:
                clean_row.append(_inline_button(button))
                count += 1
            clean_rows.append(clean_row)
        if count > 100:
            raise bad("reply markup is too long")
        if any(clean_rows):
            return {"inline_keyboard": clean_rows}
    if value.get("remove_keyboard") or value.get("hide_keyboard"):
        return {"remove_keyboard": True, **({"selective": True} if value.get("selective") else {})}
    if value.get("force_reply"):
        return {k: v for k, v in value.items() if k in ("force_reply", "input_field_placeholder", "selective")}
    return None


def _inline_button(button: Any) -> dict[str, Any]:
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, dict):
        raise bad(prefix + "InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise bad(prefix + 'Field "text" must be of type String')
    result = {"text": button["text"]}
    url = button.get("url")
    if url:
        if any(ch.isspace() for ch in str(url)) or ("." not in str(url) and not str(url).startswith("tg://")):
            raise bad("BUTTON_URL_INVALID")
        return {**result, "url": str(url)}
    data = button.get("callback_data")
    if data:
        if len(str(data).encode("utf-8")) > MAX_CALLBACK_DATA:
            raise bad("BUTTON_DATA_INVALID")
        return {**result, "callback_data": str(data)}
    for key in (
        "callback_game", "pay", "switch_inline_query", "switch_inline_query_chosen_chat",
        "switch_inline_query_current_chat", "login_url", "web_app", "copy_text",
    ):  # fmt: skip
        if key in button:
            return {**result, key: button[key]}
    raise bad(prefix + "Text buttons are unallowed in the inline keyboard")


def caption(p: Params, content: dict[str, Any], prefix: str = "") -> None:
    caption, entities = formatted(
        p,
        prefix + "caption",
        prefix + "caption_entities",
        limit=MAX_CAPTION,
        required=False,
        too_long="message caption is too long",
    )
    if caption:
        content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
    if p.bool("show_caption_above_media"):
        content["show_caption_above_media"] = True


def reply_to(chat: ChatState, p: Params) -> StoredMessage | None:
    reply_parameters = p.json("reply_parameters", "can't parse reply parameters JSON object")
    allow = p.bool("allow_sending_without_reply")
    message_id = p.int("reply_to_message_id")
    if isinstance(reply_parameters, dict) and reply_parameters:
        try:
            message_id = int(reply_parameters.get("message_id", 0))
        except (TypeError, ValueError):
            raise bad('can\'t parse reply parameters: field "message_id" must be a valid Number') from None
        allow = bool(reply_parameters.get("allow_sending_without_reply"))
    if not message_id:
        return None
    stored = chat.live(message_id)
    if stored is None and not allow:
        raise bad("message to be replied not found")
    return stored


def prices(p: Params) -> list[dict[str, Any]]:
    if p.get("prices") in (None, ""):
        raise bad('parameter "prices" is required')
    prices = p.json("prices", "can't parse prices JSON object")
    if not isinstance(prices, list):
        raise bad("expected an Array of labeled prices")
    clean = []
    for price in prices:
        if not isinstance(price, dict):
            raise bad("can't parse labeled price: LabeledPrice must be an Object")
        label = price.get("label")
        if not isinstance(label, str):
            raise bad('can\'t parse labeled price: Field "label" must be of type String')
        if not label:
            raise bad("can't parse labeled price: LabeledPrice label must be non-empty")
        amount = price.get("amount")
        if isinstance(amount, str) and amount.strip().lstrip("-").isdigit():
            amount = int(amount)
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise bad('can\'t parse labeled price: Field "amount" must be a valid Number')
        clean.append({"label": label, "amount": amount})
    if not clean:
        raise bad("there must be at least one price")
    return clean


def language(p: Params) -> str:
    lang = p.str("language_code") or ""
    if lang and not (len(lang) == 2 and lang.isalpha() and lang.islower()):
        raise bad("invalid language code specified")
    return lang
