"""aiogram imported with its Bot API models built on first use, not at import: ~100 MiB less in every process.

`aiogram.types` ends with a loop that calls `model_rebuild(_types_namespace=...)` on each of its ~330 types, which
builds every pydantic-core validator and serializer at once (each inlining the types it refers to: `Message` alone
holds a copy of most of the API), although `TelegramObject` is declared `defer_build=True`; and the ~190 methods
(`SendMessage`...) are built as their classes are made. That takes `import aiogram` from ~40 MiB (pydantic,
aiohttp) to ~165 MiB and 1-3 s of CPU. This module imports aiogram so that neither happens:
- `BaseModel.model_rebuild` is replaced for the duration of the import: for a class of `aiogram.types` given the
  types namespace, it only records the namespace as the class's parent namespace, where pydantic looks when it
  builds the deferred model on its first use; any other call goes through;
- `TelegramMethod`, the methods' base, is given `defer_build=True` as soon as its module has run (an import hook
  on `aiogram.methods.base`), before the method classes that inherit its configuration are made;
- a model is also built inline inside another one (the `Message` inside `Response[Message]`, or inside a method),
  and pydantic then resolves its forward references in the module the model was defined in: each `aiogram.types.*`
  and `aiogram.methods.*` module is given the names of the types namespace its models' annotations use and it
  lacks (aiogram imports most of them only for type checkers).
Import 0.6-0.9 s and ~55 MiB; each model costs its build (0.1-70 ms, up to 3 MiB for `Message`) the first time it
is used. tests/test_lazy_types.py checks every type, method and response still builds, to the same JSON schema.

Imported first by the `bot` package (bot/__init__.py), so every process that runs the bot, the tests (through
tests/__init__.py) and the benchmarks get it. It fails loudly if aiogram was imported before (its models built
already: nothing gained, and a sign the import order broke) or if aiogram or pydantic no longer look as this module
expects (pinned in pyproject.toml: aiogram < 3.32, pydantic 2.13).

What the bot needs on every update is built at start-up by `prebuild()` (called by `bot.app.build_app`), so the
first click is not slower than the next."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import re
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

if "aiogram" in sys.modules:
    raise ImportError(
        "aiogram was imported before bot.lazy_types: import the bot package (or bot.lazy_types) first, so that "
        "aiogram's models are built on first use instead of at import (see bot/lazy_types.py)"
    )

from pydantic import BaseModel

_REBUILD = BaseModel.__dict__["model_rebuild"]
_METHODS_BASE = "aiogram.methods.base"
_namespaces: list[dict[str, Any]] = []


def _record_namespace(cls: type[BaseModel], /, **kwargs: Any) -> bool | None:
    """`BaseModel.model_rebuild` while aiogram is imported: aiogram.types' own call only records the namespace."""
    namespace = kwargs.get("_types_namespace")
    if kwargs.keys() == {"_types_namespace"} and namespace is not None and cls.__module__.startswith("aiogram.types."):
        if not _namespaces or _namespaces[-1] is not namespace:
            _namespaces.append(namespace)
        cls.__pydantic_parent_namespace__ = namespace  # one dict shared by all
        return None
    kwargs["_parent_namespace_depth"] = kwargs.get("_parent_namespace_depth", 2) + 1  # this frame in between
    return _REBUILD.__func__(cls, **kwargs)  # type: ignore[no-any-return]


class _DeferMethods(importlib.abc.MetaPathFinder):
    """Finds `aiogram.methods.base` as usual, and once it has run, sets `defer_build` on `TelegramMethod`."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _METHODS_BASE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            module.TelegramMethod.model_config["defer_build"] = True

        setattr(spec.loader, "exec_module", exec_module)  # noqa: B010 (mypy: no assigning to a method)
        return spec


if not hasattr(BaseModel, "__pydantic_parent_namespace__"):
    raise ImportError("pydantic no longer has BaseModel.__pydantic_parent_namespace__: bot/lazy_types.py needs a look")
_finder = _DeferMethods()
sys.meta_path.insert(0, _finder)
setattr(BaseModel, "model_rebuild", classmethod(_record_namespace))  # noqa: B010
try:
    import aiogram
    import aiogram.methods
    import aiogram.types
finally:
    setattr(BaseModel, "model_rebuild", _REBUILD)  # noqa: B010
    sys.meta_path.remove(_finder)


def _expected(seen: bool, what: str) -> None:
    if not seen:
        raise ImportError(f"aiogram {aiogram.__version__}: {what}; bot/lazy_types.py needs a look")


_expected(len(_namespaces) == 1, "its types no longer rebuild themselves with one `_types_namespace` at import")
_expected(not aiogram.types.Message.__pydantic_complete__, "its types are built at import again")
_expected(not aiogram.methods.SendMessage.__pydantic_complete__, "its methods are built at import again")
TYPES_NAMESPACE: Mapping[str, Any] = _namespaces[0]
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def _names_annotated(module: ModuleType) -> set[str]:
    """The names the annotations of the module's models use, their inherited fields' too (pydantic evaluates an
    inherited annotation that was left a forward reference in the subclass's module). Strings: aiogram's modules
    postpone annotations."""
    return {
        name
        for model in vars(module).values()
        if isinstance(model, type) and issubclass(model, BaseModel) and model.__module__ == module.__name__
        for base in model.__mro__
        for annotation in vars(base).get("__annotations__", {}).values()
        if isinstance(annotation, str)
        for name in _IDENTIFIER.findall(annotation)
    }


# Only the names a module's annotations lack (the whole namespace in every module: +8 MiB of module dicts).
for _name, _module in list(sys.modules.items()):
    if _name.startswith(("aiogram.types.", "aiogram.methods.")):
        for _missing in _names_annotated(_module) - vars(_module).keys() & TYPES_NAMESPACE.keys():
            setattr(_module, _missing, TYPES_NAMESPACE[_missing])

# What the bot touches on every update, or on the money path, built by `prebuild()` before the first update. The
# order matters: a model built after `Message` reuses its validator instead of inlining a copy of it (pydantic-core
# takes a complete model's validator as it is), so `Message` first, then what carries one.
PREBUILT_TYPES = (
    "Message",
    "Update",
    "InlineKeyboardButton",
    "InlineKeyboardMarkup",
    "KeyboardButton",
    "ReplyKeyboardMarkup",
    "ReplyKeyboardRemove",
    "LinkPreviewOptions",
    "LabeledPrice",
)
# Each method the bot calls as it answers, and its parsed answer: `Response[Message]`, `Response[bool]`, ...
PREBUILT_METHODS = (
    "GetUpdates",
    "SendMessage",
    "EditMessageText",
    "EditMessageReplyMarkup",
    "AnswerCallbackQuery",
    "SendInvoice",
    "AnswerPreCheckoutQuery",
    "SendPhoto",
    "SendDocument",
)
_built: list[type[BaseModel]] = []
_responses: dict[Any, type[BaseModel]] = {}


def response_model(returning: Any) -> type[BaseModel]:
    """`Response[returning]`, the model aiogram parses an answer with, held for the life of the process: pydantic
    keeps parametrised models in a weak-value cache, so once the last response object is gone the class would be
    collected and the next call would build it again (schema generation, 30-80 ms)."""
    model = _responses.get(returning)
    if model is None:
        from aiogram.methods import Response

        model = _responses[returning] = Response[returning]
    return model


def prebuild() -> None:
    """Builds the models of PREBUILT_TYPES and PREBUILT_METHODS and their responses (~0.3 s and ~10 MiB, which
    the first updates would otherwise spend); raises if one cannot be built (a forward reference unresolved). Once
    per process: a later call (another app built in the same process) finds them built."""
    if _built:
        return
    for name in PREBUILT_TYPES + PREBUILT_METHODS:
        model = getattr(aiogram.types, name, None) or getattr(aiogram.methods, name)
        model.model_rebuild()
        _built.append(model)
    for name in PREBUILT_METHODS:
        response_model(getattr(aiogram.methods, name).__returning__).model_rebuild()
