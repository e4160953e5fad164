"""The project's modules import one another one way only: no cycle, not even through an import inside
a function (the usual way to hide one). Read with ast: nothing is imported to check it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("telemetry", "logging_policy", "volttracker")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue  # frozen history, imported by Django's migration loader only
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the nodes under `if TYPE_CHECKING:`: read by type checkers, never imported at run time."""
    return {id(inner) for node in ast.walk(tree)
            if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
            for statement in node.body for inner in ast.walk(statement)}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `path` imports at run time anywhere (module level or inside a function)."""
    names: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return names & modules.keys()


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A path of imports from `start` back to itself, or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        name, path = stack.pop()
        for target in sorted(graph[name]):
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


def test_the_graph_is_read() -> None:
    graph = _graph()
    assert "telemetry.trips" in graph["telemetry.tasks"]  # tasks call the services
    assert {"telemetry.admin_charging", "telemetry.admin_stats"} <= graph["telemetry.admin"]  # registration


def test_services_queue_work_without_importing_the_tasks() -> None:
    graph = _graph()
    for service in ("telemetry.trips", "telemetry.trip_weather", "telemetry.ingest", "telemetry.charging"):
        assert "telemetry.tasks" not in graph[service], service
    assert "telemetry.tasks" not in graph["telemetry.enqueue"]  # it queues by name


def test_admin_modules_build_on_admin_display_not_on_admin() -> None:
    graph = _graph()
    for module in ("telemetry.admin_charging", "telemetry.admin_stats", "telemetry.admin_display"):
        assert "telemetry.admin" not in graph[module], module


def test_no_module_imports_itself_through_others() -> None:
    graph = _graph()
    cycles = {name: cycle for name in graph if (cycle := _cycle_from(name, graph))}
    assert cycles == {}
