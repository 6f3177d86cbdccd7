"""The services never import the tasks (which import the services): they queue jobs by name."""

import ast
from pathlib import Path

import pytest

import tickets.services
from tickets import queueing

SERVICES = Path(tickets.services.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):  # lazy imports inside functions too
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_service_module_imports_the_tasks():
    modules = sorted(SERVICES.glob("*.py"))
    assert len(modules) > 5
    offenders = [m.name for m in modules if any(n == "tickets.tasks" or n.startswith("tickets.tasks.")
                                                for n in imported_modules(m))]
    assert offenders == []


def test_the_tasks_are_registered_as_jobs_by_name():
    from tickets import tasks

    assert queueing._jobs["deliver_message"] is tasks.deliver_message
    assert queueing._jobs["fetch_attachment"] is tasks.fetch_attachment


def test_an_unknown_job_is_a_clear_error():
    with pytest.raises(LookupError, match="No background job 'deliver_pigeon' is registered"):
        queueing.later("deliver_pigeon", 1)
