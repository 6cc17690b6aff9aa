"""Telegram's text formatting: parse modes, entity offsets in UTF-16 code units, and the server's clean-up.

The parsers follow TDLib's algorithms (which the Bot API server runs) closely enough to give the same plain text,
the same entities and the same error messages, byte offsets included, for what a bot realistically sends.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "EntityParseError",
    "auto_entities",
    "parse_text",
    "sort_entities",
    "trim_text",
    "utf16_len",
]


class EntityParseError(ValueError):
    """A parse error; str(error) is TDLib's message (the part after "can't parse entities: ")."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# Lower comes first among entities with the same offset and length (TDLib's get_entity_type_priority).
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "mention": 50,
    "hashtag": 50,
    "cashtag": 50,
    "bot_command": 50,
    "url": 50,
    "email": 50,
    "phone_number": 50,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}


def sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)))


# ---------------------------------------------------------------------------------------------------------------
# Byte-level helpers: TDLib works on UTF-8 bytes and reads NUL past the end.


def _at(data: bytes, i: int) -> int:
    return data[i] if 0 <= i < len(data) else 0


def _is_space(c: int) -> bool:
    return c in (0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C, 0)  # TDLib's is_space counts the NUL past the end


def _is_alpha(c: int) -> bool:
    return 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A


def _is_digit(c: int) -> bool:
    return 0x30 <= c <= 0x39


def _is_alnum(c: int) -> bool:
    return _is_alpha(c) or _is_digit(c)


def _is_hex(c: int) -> bool:
    return _is_digit(c) or 0x41 <= c <= 0x46 or 0x61 <= c <= 0x66


def _utf16_units_of_byte(c: int) -> int:
    """UTF-16 code units contributed by a UTF-8 byte (counted at the first byte of each character)."""
    if (c & 0xC0) == 0x80:
        return 0
    return 2 if c >= 0xF0 else 1


def _decode_html_entity(data: bytes, pos: int) -> tuple[int, int]:
    """TDLib's decode_html_entity: returns (code point or 0, position after the reference)."""
    if _at(data, pos) != 0x26:  # '&'
        return 0, pos
    end = pos + 1
    code = 0
    if _at(data, pos + 1) == 0x23:  # '#'
        end += 1
        if _at(data, pos + 2) == 0x78:  # 'x'
            end += 1
            while _is_hex(_at(data, end)):
                code = code * 16 + int(chr(_at(data, end)), 16)
                end += 1
        else:
            while _is_digit(_at(data, end)):
                code = code * 10 + _at(data, end) - 0x30
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while _is_alpha(_at(data, end)):
            end += 1
        name = data[pos + 1 : end]
        code = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}.get(name, 0)
        if code == 0:
            return 0, pos
    if _at(data, end) == 0x3B:  # ';'
        end += 1
    return code, end


def _append_code_point(out: bytearray, code: int) -> None:
    # Lone surrogates are kept as "surrogatepass" bytes; the caller rejects them afterwards.
    out += chr(code).encode("utf-8", "surrogatepass")


# ---------------------------------------------------------------------------------------------------------------
# URLs in text links


def _check_url(url: str) -> str | None:
    """Roughly TDLib's check_url: add http:// when no scheme, require a plausible host; None if invalid."""
    if not url or any(ch.isspace() for ch in url):
        return None
    if url.lower().startswith("tg:") or url.lower().startswith("ton:"):
        return url
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https", "ftp", "tonsite"):
        return None
    host = parts.hostname or ""
    if not host or ("." not in host and host != "localhost" and not re.fullmatch(r"[0-9a-f:]+", host)):
        return None
    if any(ch.isspace() for ch in url):
        return None
    path = parts.path or "/"
    netloc = parts.netloc
    result = f"{parts.scheme.lower()}://{netloc}{path}"
    if parts.query or url.endswith("?"):
        result += "?" + parts.query
    if parts.fragment:
        result += "#" + parts.fragment
    return result


_TG_USER = re.compile(r"^tg:(?://)?user\?id=(\d+)$", re.IGNORECASE)


def _link_entity(offset: int, length: int, url: str) -> dict[str, Any] | None:
    m = _TG_USER.match(url.strip())
    if m:
        return {
            "type": "text_mention",
            "offset": offset,
            "length": length,
            "user": {"id": int(m.group(1)), "is_bot": False, "first_name": ""},
        }
    checked = _check_url(url)
    if checked is None:
        return None
    return {"type": "text_link", "offset": offset, "length": length, "url": checked}


# ---------------------------------------------------------------------------------------------------------------
# HTML

_HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji", "tg-time",
        "span", "pre", "code", "blockquote",
    }
)  # fmt: skip

_SIMPLE_HTML = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}


def parse_html(markup: str) -> tuple[str, list[dict[str, Any]]]:
    data = markup.encode("utf-8", "surrogatepass")
    out = bytearray()
    entities: list[dict[str, Any]] = []
    # open tags: (tag, argument, utf16 offset, result byte position)
    nested: list[tuple[str, str, int, int]] = []
    utf16 = 0
    decoded_surrogate = False
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        if c == 0x26:  # '&'
            code, end = _decode_html_entity(data, i)
            if code:
                utf16 += 2 if code > 0xFFFF else 1
                decoded_surrogate |= 0xD800 <= code <= 0xDFFF
                _append_code_point(out, code)
                i = end
                continue
        if c != 0x3C:  # '<'
            utf16 += _utf16_units_of_byte(c)
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if _at(data, i) != 0x2F:  # start tag
            while not _is_space(_at(data, i)) and _at(data, i) != 0x3E:
                i += 1
            if _at(data, i) == 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _HTML_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            while _at(data, i) != 0x3E:
                while _at(data, i) != 0 and _is_space(_at(data, i)):
                    i += 1
                if _at(data, i) == 0x3E:
                    break
                attr_begin = i
                while not _is_space(_at(data, i)) and _at(data, i) not in (0x3D, 0x3E, 0x2F, 0x22, 0x27):
                    i += 1
                attr = data[attr_begin:i].decode("utf-8", "replace").lower()
                if not attr:
                    raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
                while _at(data, i) != 0 and _is_space(_at(data, i)):
                    i += 1
                if _at(data, i) != 0x3D:  # attribute without a value
                    if _at(data, i) == 0:
                        raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                    if tag == "blockquote" and attr == "expandable":
                        argument = "1"
                    continue
                i += 1
                while _at(data, i) != 0 and _is_space(_at(data, i)):
                    i += 1
                if _at(data, i) == 0:
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if _at(data, i) not in (0x22, 0x27):  # a name token
                    token_begin = i
                    while _is_alnum(_at(data, i)) or _at(data, i) in (0x2E, 0x2D):
                        i += 1
                    value = data[token_begin:i].decode("utf-8", "replace").lower()
                    if not _is_space(_at(data, i)) and _at(data, i) != 0x3E:
                        raise EntityParseError(f"Unexpected end of name token at byte offset {token_begin}")
                else:  # a string literal
                    quote = data[i]
                    i += 1
                    raw = bytearray()
                    while _at(data, i) != quote and _at(data, i) != 0:
                        if data[i] == 0x26:
                            code, end = _decode_html_entity(data, i)
                            if code:
                                _append_code_point(raw, code)
                                i = end
                                continue
                        raw.append(data[i])
                        i += 1
                    if _at(data, i) == quote:
                        i += 1
                    value = raw.decode("utf-8", "replace")
                if _at(data, i) == 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
                if (tag, attr) in (("a", "href"), ("tg-emoji", "emoji-id")):
                    argument = value
                elif tag == "code" and attr == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr == "class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag == "blockquote" and attr == "expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            nested.append((tag, argument, utf16, len(out)))
            i += 1  # past '>'
            continue

        # an end tag
        if not nested:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        while not _is_space(_at(data, i)) and _at(data, i) != 0x3E:
            i += 1
        end_tag = data[begin + 2 : i].decode("utf-8", "replace").lower()
        while _is_space(_at(data, i)) and _at(data, i) != 0:
            i += 1
        if _at(data, i) != 0x3E:
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        tag, argument, offset, out_pos = nested[-1]
        if end_tag and end_tag != tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", found "</{end_tag}>"'
            )
        length = utf16 - offset
        if length > 0:
            _add_html_entity(entities, tag, argument, offset, length, bytes(out[out_pos:]))
        nested.pop()
        i += 1
    if nested:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{nested[-1][0]}"')
    if decoded_surrogate:
        raise EntityParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    text = out.decode("utf-8", "surrogatepass")
    return text, sort_entities(entities)


def _add_html_entity(
    entities: list[dict[str, Any]], tag: str, argument: str, offset: int, length: int, inner: bytes
) -> None:
    last = entities[-1] if entities else None
    same_span = last is not None and last["offset"] == offset and last["length"] == length
    if tag in _SIMPLE_HTML:
        entities.append({"type": _SIMPLE_HTML[tag], "offset": offset, "length": length})
    elif tag == "tg-emoji":
        if not argument.isdigit() or int(argument) <= 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append({"type": "custom_emoji", "offset": offset, "length": length, "custom_emoji_id": argument})
    elif tag == "a":
        url = argument or inner.decode("utf-8", "replace")
        entity = _link_entity(offset, length, url) if url else None
        if entity:
            entities.append(entity)
    elif tag == "pre":
        if last is not None and same_span and last["type"] == "code" and "language" in last:
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        if last is not None and same_span and last["type"] == "pre" and argument:
            last["language"] = argument
        else:
            entity = {"type": "code", "offset": offset, "length": length}
            if argument:
                entity["language"] = argument
            entities.append(entity)
    elif tag == "blockquote":
        kind = "expandable_blockquote" if argument else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})
    # tg-time: a date-time entity; not represented by the emulator.


# ---------------------------------------------------------------------------------------------------------------
# MarkdownV2

_RESERVED_V2 = frozenset(b"_*[]()~`>#+-=|{}.!")

_TYPE_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def _reserved(c: int) -> EntityParseError:
    return EntityParseError(f"Character '{chr(c)}' is reserved and must be escaped with the preceding '\\'")


def parse_markdown_v2(markup: str) -> tuple[str, list[dict[str, Any]]]:
    data = markup.encode("utf-8", "surrogatepass")
    n = len(data)
    out = bytearray()
    entities: list[dict[str, Any]] = []
    # (type, argument, utf16 offset, result position, begin byte)
    nested: list[tuple[str, str, int, int, int]] = []
    utf16 = 0
    quote_start: int | None = None  # utf16 offset of the open blockquote
    i = 0

    def at_line_start(pos: int) -> bool:
        return pos == 0 or data[pos - 1] in (0x0A, 0x0D)

    while i < n:
        c = data[i]
        in_code = bool(nested) and nested[-1][0] in ("code", "pre", "pre_code")
        if c == 0x5C and 0 < _at(data, i + 1) <= 126:  # backslash escape
            i += 1
            utf16 += 1
            out.append(data[i])
            i += 1
            continue
        if c == 0x3E and at_line_start(i) and not in_code:  # '>' opens or continues a block quote
            if quote_start is None:
                quote_start = utf16
            i += 1
            continue
        if c in (0x0A, 0x0D) and quote_start is not None and not in_code:
            # the quote ends unless the next line starts with '>'
            utf16 += 1
            out.append(c)
            i += 1
            if c == 0x0D and _at(data, i) == 0x0A:
                utf16 += 1
                out.append(0x0A)
                i += 1
            if _at(data, i) != 0x3E:
                if utf16 > quote_start:
                    entities.append({"type": "blockquote", "offset": quote_start, "length": utf16 - quote_start})
                quote_start = None
            continue
        if in_code and c != 0x60:  # inside code only '`' and '\' are special
            utf16 += _utf16_units_of_byte(c)
            out.append(c)
            i += 1
            continue
        if c not in _RESERVED_V2:
            utf16 += _utf16_units_of_byte(c)
            out.append(c)
            i += 1
            continue

        is_end = False
        if nested:
            top = nested[-1][0]
            nxt = _at(data, i + 1)
            is_end = {
                "bold": c == 0x2A,
                "italic": c == 0x5F and nxt != 0x5F,
                "underline": c == 0x5F and nxt == 0x5F,
                "strikethrough": c == 0x7E,
                "spoiler": c == 0x7C and nxt == 0x7C,
                "code": c == 0x60,
                "pre": c == 0x60 and nxt == 0x60 and _at(data, i + 2) == 0x60,
                "pre_code": c == 0x60 and nxt == 0x60 and _at(data, i + 2) == 0x60,
                "text_link": c == 0x5D,
                "custom_emoji": c == 0x5D,
            }[top]

        if not is_end:
            begin = i
            argument = ""
            if c == 0x5F:
                if _at(data, i + 1) == 0x5F:
                    kind = "underline"
                    i += 1
                else:
                    kind = "italic"
            elif c == 0x2A:
                kind = "bold"
            elif c == 0x7E:
                kind = "strikethrough"
            elif c == 0x7C:
                if _at(data, i + 1) != 0x7C:
                    raise _reserved(c)
                kind = "spoiler"
                i += 1
            elif c == 0x5B:
                kind = "text_link"
            elif c == 0x60:
                if _at(data, i + 1) == 0x60 and _at(data, i + 2) == 0x60:
                    i += 3
                    kind = "pre"
                    lang_end = i
                    while not _is_space(_at(data, lang_end)) and _at(data, lang_end) not in (0, 0x60):
                        lang_end += 1
                    if i != lang_end and lang_end < n and data[lang_end] != 0x60:
                        kind = "pre_code"
                        argument = data[i:lang_end].decode("utf-8", "replace")
                        i = lang_end
                    if _at(data, i) in (0x0A, 0x0D):
                        if _at(data, i + 1) in (0x0A, 0x0D) and data[i] != data[i + 1]:
                            i += 2
                        else:
                            i += 1
                    nested.append((kind, argument, utf16, len(out), begin))
                    continue
                kind = "code"
            elif c == 0x21 and _at(data, i + 1) == 0x5B:
                kind = "custom_emoji"
                i += 1
            else:
                raise _reserved(c)
            nested.append((kind, argument, utf16, len(out), begin))
            i += 1
            continue

        kind, argument, offset, out_pos, _begin = nested.pop()
        length = utf16 - offset
        entity: dict[str, Any] | None = None
        if kind in ("underline", "spoiler"):
            i += 2
        elif kind in ("pre", "pre_code"):
            i += 3
        elif kind in ("text_link", "custom_emoji"):
            url = ""
            if _at(data, i + 1) != 0x28:  # '('
                url = out[out_pos:].decode("utf-8", "replace")
                i += 1
            else:
                i += 2
                url_begin = i
                raw = bytearray()
                while i < n and data[i] != 0x29:
                    if data[i] == 0x5C and 0 < _at(data, i + 1) <= 126:
                        raw.append(data[i + 1])
                        i += 2
                        continue
                    raw.append(data[i])
                    i += 1
                if _at(data, i) != 0x29:
                    raise EntityParseError(f"Can't find end of a URL at byte offset {url_begin}")
                url = raw.decode("utf-8", "replace")
                i += 1
            if length > 0:
                if kind == "custom_emoji":
                    m = re.fullmatch(r"tg://emoji\?id=(\d+)", url, re.IGNORECASE)
                    if not m:
                        raise EntityParseError("Invalid tg://emoji or tg://time URL specified")
                    entity = {"type": "custom_emoji", "offset": offset, "length": length, "custom_emoji_id": m[1]}
                else:
                    entity = _link_entity(offset, length, url)
            length = 0  # handled
        else:
            i += 1
        if length > 0:
            if kind == "pre_code":
                entity = {"type": "pre", "offset": offset, "length": length, "language": argument}
            else:
                entity = {"type": kind, "offset": offset, "length": length}
        if entity:
            entities.append(entity)
    if nested:
        kind, _arg, _off, _pos, begin = nested[-1]
        raise EntityParseError(f"Can't find end of {_TYPE_NAMES[kind]} entity at byte offset {begin}")
    if quote_start is not None and utf16 > quote_start:
        entities.append({"type": "blockquote", "offset": quote_start, "length": utf16 - quote_start})
    return out.decode("utf-8", "surrogatepass"), sort_entities(entities)


# ---------------------------------------------------------------------------------------------------------------
# Legacy Markdown


def parse_markdown(markup: str) -> tuple[str, list[dict[str, Any]]]:
    data = markup.encode("utf-8", "surrogatepass")
    n = len(data)
    out = bytearray()
    entities: list[dict[str, Any]] = []
    utf16 = 0
    i = 0
    while i < n:
        c = data[i]
        if c == 0x5C and _at(data, i + 1) in (0x5F, 0x2A, 0x60, 0x5B):
            i += 1
            out.append(data[i])
            utf16 += 1
            i += 1
            continue
        if c not in (0x5F, 0x2A, 0x60, 0x5B):
            utf16 += _utf16_units_of_byte(c)
            out.append(c)
            i += 1
            continue
        begin = i
        end_char = 0x5D if c == 0x5B else c
        is_pre = c == 0x60 and _at(data, i + 1) == 0x60 and _at(data, i + 2) == 0x60
        language = ""
        i += 1
        if is_pre:
            i += 2
            lang_begin = i
            while not _is_space(_at(data, i)) and _at(data, i) not in (0, 0x60):
                i += 1
            if i != lang_begin and _at(data, i) != 0x60:
                language = data[lang_begin:i].decode("utf-8", "replace")
            else:
                i = lang_begin
            if _at(data, i) in (0x0A, 0x0D):
                i += 1
        start_utf16 = utf16
        start_pos = len(out)
        length = 0
        while i < n and (
            data[i] != end_char or (is_pre and not (_at(data, i + 1) == 0x60 and _at(data, i + 2) == 0x60))
        ):
            length += _utf16_units_of_byte(data[i])
            out.append(data[i])
            i += 1
        if i >= n:
            raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin}")
        utf16 += length
        if length > 0:
            if c == 0x5F:
                entities.append({"type": "italic", "offset": start_utf16, "length": length})
            elif c == 0x2A:
                entities.append({"type": "bold", "offset": start_utf16, "length": length})
            elif c == 0x60:
                entity = {"type": "pre" if is_pre else "code", "offset": start_utf16, "length": length}
                if language:
                    entity["language"] = language
                entities.append(entity)
            else:
                if _at(data, i + 1) == 0x28:
                    j = i + 2
                    while j < n and data[j] != 0x29:
                        j += 1
                    url = data[i + 2 : j].decode("utf-8", "replace")
                    i = j
                else:
                    url = out[start_pos:].decode("utf-8", "replace")
                link = _link_entity(start_utf16, length, url)
                if link:
                    entities.append(link)
        if is_pre:
            i += 2
        i += 1
    return out.decode("utf-8", "surrogatepass"), sort_entities(entities)


# ---------------------------------------------------------------------------------------------------------------
# Server-side clean-up and automatic entities

_WS = " \t\n\r\x0b\x0c"


def trim_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip leading and trailing whitespace like Telegram, moving and clipping the entities."""
    stripped_left = text.lstrip(_WS)
    left = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip(_WS)
    total = utf16_len(result)
    fixed = []
    for entity in entities:
        start = max(entity["offset"] - left, 0)
        end = min(entity["offset"] + entity["length"] - left, total)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    return result, fixed


_AUTO_PATTERNS = [
    ("bot_command", re.compile(r"(?<![\w/])/[a-zA-Z0-9_]{1,64}(?:@[a-zA-Z][a-zA-Z0-9_]{3,31})?(?![\w/])")),
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}(?![\w-])")),
    ("url", re.compile(r"(?<![\w@/.])(?:https?://)?(?:[\w-]+\.)+[a-zA-Z]{2,}(?::\d+)?(?:/[^\s]*)?(?<![.,;:!?)])")),
    ("mention", re.compile(r"(?<![\w@])@[a-zA-Z][a-zA-Z0-9_]{3,31}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
    ("cashtag", re.compile(r"(?<![\w$])\$[A-Z]{3,8}(?![\w])")),
]
_KNOWN_TLDS = frozenset(
    {
        "com", "org", "net", "ru", "io", "me", "dev", "app", "info", "biz", "edu", "gov", "uk", "de", "fr", "su",
        "рф", "ua", "by", "kz", "eu", "us", "co", "tv", "ai", "gg", "ly", "to", "sh", "xyz", "site", "online",
        "store", "tech", "pro", "shop", "club", "live",
    }
)  # fmt: skip


def auto_entities(text: str, existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entities Telegram detects by itself (commands, URLs, e-mails, mentions, hashtags, cashtags).

    They are not added inside code, pre or text links, nor over each other.
    """
    blocked: list[tuple[int, int]] = [
        (e["offset"], e["offset"] + e["length"])
        for e in existing
        if e["type"] in ("code", "pre", "text_link", "text_mention", "url", "email", "mention", "bot_command")
    ]
    found: list[dict[str, Any]] = []
    for kind, pattern in _AUTO_PATTERNS:
        for m in pattern.finditer(text):
            value = m.group(0)
            if kind == "url":
                host = value.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
                if host.rsplit(".", 1)[-1].lower() not in _KNOWN_TLDS:
                    continue
            start = utf16_len(text[: m.start()])
            end = start + utf16_len(value)
            if any(s < end and start < e for s, e in blocked):
                continue
            blocked.append((start, end))
            found.append({"type": kind, "offset": start, "length": end - start})
    return found


# ---------------------------------------------------------------------------------------------------------------


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Text and entities for a parse mode (None or "" = plain). Raises EntityParseError or ValueError."""
    mode = (parse_mode or "").strip().lower()
    if not mode:
        return text, []
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise ValueError("unsupported parse_mode")
