"""Every text key used in the code exists in English and Russian, with the same placeholders; no key is built at
run time (an f-string or a concatenation into `_()` hides a key from this test, so the code builds none)."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES, LOCALES_DIR, read_catalog

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "services", "db")
RENDERING = ("bot", "handlers")  # where texts are drawn: their string constants of a key's shape are keys
# Calls whose first argument is a message key (ngettext's first two); DomainError's code is rendered as a key.
KEY_CALLS = {"_", "__", "gettext", "lazy_gettext", "translate", "texts_for", "DomainError"}
PLURAL_CALLS = {"ngettext", "lazy_ngettext"}
KEY_SHAPE = re.compile(r"[a-z][a-z0-9]*(?:[-.][a-z0-9_]+)+")
PLURAL_FORMS = {"en": 2, "ru": 3}  # one / other; one / few / many (1 билет, 2 билета, 5 билетов)


def _forms(string: str | tuple[str, ...]) -> tuple[str, ...]:
    return string if isinstance(string, tuple) else (string,)


def catalogs() -> dict[str, dict[str, str]]:
    texts: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        texts[lang] = {}
        for message in read_catalog(LOCALES_DIR / lang):
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for msgid in filter(None, ids):  # the header's id is empty
                texts[lang][msgid] = " ".join(strings)
    return texts


def test_plural_keys_have_every_form() -> None:
    for lang in LANGUAGES:
        plurals = [m for m in read_catalog(LOCALES_DIR / lang) if isinstance(m.id, tuple)]
        assert plurals, lang
        for message in plurals:
            forms = _forms(message.string)
            assert len(forms) == PLURAL_FORMS[lang] and all(form.strip() for form in forms), (lang, message.id)


def _module_name(path: Path) -> str:
    return ".".join(path.with_suffix("").parts).removesuffix(".__init__")


def _imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def modules() -> Iterator[tuple[Path, ast.Module]]:
    """The modules the running bot reaches: bot/ and handlers/ and what they import, directly or not (a service
    that no handler uses yet has no texts to check)."""
    trees = {
        _module_name(path.relative_to(ROOT)): (path.relative_to(ROOT), ast.parse(path.read_text(encoding="utf-8")))
        for folder in PACKAGES
        for path in sorted((ROOT / folder).rglob("*.py"))
    }
    reached = {name for name in trees if name.split(".")[0] in RENDERING}
    todo = list(reached)
    while todo:
        for name in _imports(trees[todo.pop()][1]) & trees.keys() - reached:
            reached.add(name)
            todo.append(name)
    for name in sorted(reached):
        yield trees[name]


def _name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def key_arguments(tree: ast.Module) -> Iterator[ast.expr]:
    """The arguments that are message keys, in every call that takes one."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            name = _name(node)
            if name in KEY_CALLS:
                yield node.args[0]
            elif name in PLURAL_CALLS:
                yield from node.args[:2]


def _built(node: ast.expr) -> bool:
    """An f-string, a `+` or `%`, or a `.format()`: a key made at run time."""
    if isinstance(node, ast.JoinedStr | ast.BinOp):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join")


def prefix(key: str) -> str:
    """ "feed-type-x" -> "feed-", "date.past" -> "date."."""
    return re.split(r"(?<=[-.])", key, maxsplit=1)[0]


def literal_keys(tree: ast.Module, prefixes: set[str], *, rendering: bool = True) -> Iterator[str]:
    """Keys written in the code: literal arguments of the key calls and, where texts are drawn, every string
    constant of a key's shape that starts like a catalogue key (the key maps' values, `key = "a" if x else "b"`)."""
    for argument in key_arguments(tree):
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            yield argument.value
    for node in ast.walk(tree) if rendering else ():
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and KEY_SHAPE.fullmatch(node.value)
            and prefix(node.value) in prefixes
        ):
            yield node.value


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_languages_have_the_same_keys() -> None:
    found = catalogs()
    assert set(found["en"]) == set(found["ru"])


def test_no_key_is_built_at_run_time() -> None:
    built = [
        f"{path}:{argument.lineno}: {ast.unparse(argument)}"
        for path, tree in modules()
        for argument in key_arguments(tree)
        if _built(argument)
    ]
    assert built == []


def test_every_key_used_in_code_is_translated() -> None:
    found = catalogs()
    prefixes = {prefix(key) for key in found["en"]}
    used = {
        f"{path}: {key}"
        for path, tree in modules()
        for key in literal_keys(tree, prefixes, rendering=path.parts[0] in RENDERING)
        if any(key not in texts for texts in found.values())
    }
    assert sorted(used) == []


def test_the_gate_sees_what_it_guards() -> None:
    """The checks above find keys at all: a map value, a DomainError code, a call's literal and a built key."""
    tree = ast.parse('X = {1: "feed-type-x"}\nraise DomainError("buy-gone")\n_("a-b")\n_(f"my-{tab}")\n')
    assert set(literal_keys(tree, {"feed-", "buy-"})) == {"feed-type-x", "buy-gone", "a-b"}
    assert set(literal_keys(tree, {"feed-"}, rendering=False)) == {"buy-gone", "a-b"}
    assert [ast.unparse(a) for a in key_arguments(tree) if _built(a)] == ["f'my-{tab}'"]


@pytest.mark.parametrize("key", sorted(catalogs()["en"]))
def test_translation_is_complete(key: str) -> None:
    found = catalogs()
    assert found["en"][key].strip() and found["ru"][key].strip(), f"{key} has an empty text"
    assert placeholders(found["en"][key]) == placeholders(found["ru"][key]), key
