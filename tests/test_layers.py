"""The layers' rules (docs/architecture.md), read off the source: services import neither aiogram nor `bot` nor
`handlers`; `db/` imports none of the layers above it (aiogram only for the FSM storage it implements); no feature
router imports another feature's router; handlers reach data through services, never through a repository
(`repo.<repository>.<method>`)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def where(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def offending(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{where(path)} imports {name}" for path in paths for name in imported(path) if name.split(".")[0] in forbidden
    ]


def test_services_know_nothing_of_telegram_or_the_bot() -> None:
    assert offending(modules("services"), ("aiogram", "bot", "handlers")) == []


def test_db_imports_no_layer_above_it() -> None:
    assert offending(modules("db"), ("bot", "handlers", "services")) == []
    storage = ROOT / "db" / "fsm_storage.py"  # aiogram's storage interface, implemented over the database
    assert offending([path for path in modules("db") if path != storage], ("aiogram",)) == []


def feature_of(path: Path) -> str | None:
    parts = path.relative_to(ROOT / "handlers").parts
    return parts[0] if len(parts) > 1 and parts[0] != "shared" else None


def test_no_feature_router_imports_another() -> None:
    found = []
    for path in modules("handlers"):
        for name in imported(path):
            parts = name.split(".")
            routers = len(parts) >= 3 and parts[0] == "handlers" and parts[2].endswith("router")
            if routers and path.name != "__init__.py" and parts[1] != feature_of(path):
                found.append(f"{where(path)} imports {name}")
    assert found == []


def repository_calls(path: Path) -> Iterator[str]:
    """`repo.<repository>.<anything>` in the module: a repository reached past the services."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Attribute) or not isinstance(node.value, ast.Attribute):
            continue
        inner = node.value
        if isinstance(inner.value, ast.Name) and inner.value.id == "repo" and inner.attr not in {"session", "commit"}:
            yield f"{where(path)}:{node.lineno} repo.{inner.attr}.{node.attr}"


def test_handlers_reach_data_only_through_services() -> None:
    assert [call for path in modules("handlers") for call in repository_calls(path)] == []


def test_the_checkers_catch_a_breach(tmp_path: Path) -> None:
    """A planted breach is reported, so an empty answer above means a clean tree, not a checker that sees nothing."""
    service = tmp_path / "service.py"
    service.write_text("from aiogram import Bot\n", encoding="utf-8")
    handler = tmp_path / "handler.py"
    handler.write_text("async def f(repo):\n    return await repo.orders.by_id(1)\n", encoding="utf-8")
    assert offending([service], ("aiogram",)) == ["service.py imports aiogram", "service.py imports aiogram.Bot"]
    assert list(repository_calls(handler)) == ["handler.py:2 repo.orders.by_id"]
