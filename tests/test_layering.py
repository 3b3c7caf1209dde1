"""The layers of DESIGN.md, checked on the source: no module imports a layer above its own.

Order, bottom to top: errors, history, serialization, settings, status (value models, stdlib only) <
orchestration, entities < protocol < azure_storage < worker < client < functions < cli. Besides: only
azure_storage/ may import the Azure Storage SDKs (azure.storage, azure.data.tables, azure.core); azurite.py
uses the standard library only; the replay engine (orchestration/, entities/, protocol/) touches no clock,
randomness, operating system, network or event loop. A new top-level module must be given a layer here, or
this test fails.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = "durable_azure"
PACKAGE_DIR = Path(__file__).resolve().parents[1] / PACKAGE

LAYER_ORDER: dict[str, int] = {
    "errors": 0,
    "history": 0,
    "serialization": 0,
    "settings": 0,
    "json_files": 0,
    "queue_settings": 0,
    "status": 0,
    "azurite": 0,
    "orchestration": 1,
    "entities": 1,  # the entity scheduler: pure, beside the replay engine
    "protocol": 2,  # the official SDK's out-of-process protocol: pure, drives the replay engine
    "azure_storage": 3,
    "worker": 4,
    "client": 5,
    "functions": 6,
    "models": 6,  # the SDK's module paths (azure.durable_functions.models.X), re-exporting lower layers
    "cli": 7,
    "cli_support": 7,
    "cli_entities": 7,
    "__main__": 7,
}

STORAGE_SDKS = ("azure.storage", "azure.data.tables", "azure.core")
IMPURE_FOR_REPLAY = ("asyncio", "time", "random", "os", "socket", "threading", "secrets")


def source_modules() -> list[Path]:
    return sorted(
        path for path in PACKAGE_DIR.rglob("*.py") if path.name != "__init__.py" or path.parent != PACKAGE_DIR
    )


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    return imports_in(path.read_text(), module_name(path), is_package=path.name == "__init__.py")


def imports_in(source: str, module: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in `source`, relative imports resolved."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            found.append((node.lineno, base))
            if base == PACKAGE:  # `from durable_azure import serialization` names a module
                found.extend((node.lineno, f"{PACKAGE}.{alias.name}") for alias in node.names)
    return found


def higher_layer_imports(module: str, imports: list[tuple[int, str]]) -> list[str]:
    own = LAYER_ORDER[layer_of(module)]
    violations = []
    for line, imported in imports:
        if imported == PACKAGE or not imported.startswith(f"{PACKAGE}."):
            continue
        if not is_module(imported):
            violations.append(f"line {line}: from {PACKAGE} import {imported.split('.')[-1]} (use its own module)")
        elif LAYER_ORDER.get(layer_of(imported), 99) > own:
            violations.append(f"line {line}: {imported}")
    return violations


def layer_of(module: str) -> str:
    return module.split(".")[1]


def is_module(module: str) -> bool:
    relative = Path(*module.split(".")[1:])
    return (PACKAGE_DIR / relative).with_suffix(".py").is_file() or (PACKAGE_DIR / relative).is_dir()


def test_every_module_has_a_layer() -> None:
    unplaced = sorted({layer_of(module_name(path)) for path in source_modules()} - set(LAYER_ORDER))
    assert not unplaced, f"give these modules a layer in tests/test_layering.py: {unplaced}"


@pytest.mark.parametrize("path", source_modules(), ids=lambda path: module_name(path))
def test_no_import_from_a_higher_layer(path: Path) -> None:
    module = module_name(path)
    if layer_of(module) not in LAYER_ORDER:
        pytest.fail(f"{module} has no layer")
    violations = higher_layer_imports(module, imported_modules(path))
    assert not violations, f"{module} imports a higher layer: {violations}"


@pytest.mark.parametrize("path", source_modules(), ids=lambda path: module_name(path))
def test_only_azure_storage_imports_the_storage_sdks(path: Path) -> None:
    if layer_of(module_name(path)) == "azure_storage":
        return
    offending = [
        f"line {line}: {imported}"
        for line, imported in imported_modules(path)
        if any(imported == sdk or imported.startswith(f"{sdk}.") for sdk in STORAGE_SDKS)
    ]
    assert not offending, f"{module_name(path)} imports an Azure Storage SDK outside azure_storage/: {offending}"


def test_azurite_launcher_uses_only_the_standard_library() -> None:
    path = PACKAGE_DIR / "azurite.py"
    foreign = [
        imported
        for _, imported in imported_modules(path)
        if imported.split(".")[0] not in sys.stdlib_module_names and imported not in ("__future__", f"{PACKAGE}.errors")
    ]
    assert not foreign, f"azurite.py must use the standard library only, imports {foreign}"


@pytest.mark.parametrize(
    "path",
    sorted(path for layer in ("orchestration", "entities", "protocol") for path in (PACKAGE_DIR / layer).rglob("*.py")),
    ids=lambda path: module_name(path),
)
def test_replay_engine_is_pure(path: Path) -> None:
    impure = [
        f"line {line}: {imported}"
        for line, imported in imported_modules(path)
        if imported.split(".")[0] in IMPURE_FOR_REPLAY
    ]
    assert not impure, f"{module_name(path)} must stay pure (no clock, randomness, I/O or asyncio): {impure}"


def test_the_checker_reports_violations() -> None:
    """Guards the guard: absolute, relative and facade imports from above are all reported."""
    source = "from durable_azure.worker import Worker\nfrom ..client import Client\nfrom durable_azure import DFApp\n"
    imports = imports_in(source, "durable_azure.orchestration.context")
    assert higher_layer_imports("durable_azure.orchestration.context", imports) == [
        "line 1: durable_azure.worker",
        "line 2: durable_azure.client",
        "line 3: from durable_azure import DFApp (use its own module)",
    ]
    assert (
        higher_layer_imports("durable_azure.cli", imports_in("from durable_azure import errors", "durable_azure.cli"))
        == []
    )
