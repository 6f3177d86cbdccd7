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


ROOT = SERVICES.parent.parent
CHANNEL_APPS = ("channels_email", "channels_sms", "channels_social", "livechat")


def test_the_api_idempotency_module_does_not_import_the_api_it_serves():
    assert not any(n == "api.v1" or n.startswith("api.v1.") for n in imported_modules(ROOT / "api" / "idempotency.py"))


def test_no_channel_app_imports_another():
    offenders = []
    for app in CHANNEL_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            others = {n.split(".")[0] for n in imported_modules(path)} & (set(CHANNEL_APPS) - {app})
            if others:
                offenders.append(f"{path.relative_to(ROOT)}: {sorted(others)}")
    assert offenders == []


def test_tickets_imports_no_app_built_on_it():
    apps = {"channels_email", "channels_sms", "channels_social", "livechat", "api", "integrations", "privacy",
            "mailboxes", "service_levels", "routing", "surveys"}
    offenders = [f"{path.relative_to(ROOT)}" for path in sorted((ROOT / "tickets").rglob("*.py"))
                 if {n.split(".")[0] for n in imported_modules(path)} & apps]
    assert offenders == []


def test_no_channel_adapter_writes_participants_or_acknowledgements_itself():
    """Cc participants and acknowledgements are data on InboundMessage, applied by ingest."""
    for app in CHANNEL_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            source = path.read_text()
            assert "def after_ingest" not in source or app != "channels_email", path
    assert "add_participant" not in (ROOT / "channels_email" / "acks.py").read_text()


def test_the_channel_seam_never_shadows_the_channels_library():
    """tickets/channels.py is THE channel seam (the team's guide names it), and `channels` is
    also the Channels library. A module imports names from the seam (`from tickets.channels
    import InboundMessage`) or the module under another name (`from tickets import channels as
    channel_seam`), never as a bare `channels`, so `channels.layers` always means the library."""
    offenders = []
    for path in sorted(ROOT.glob("*/**/*.py")):
        if path.relative_to(ROOT).parts[0] in {".venv", "node_modules", "var"}:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "tickets":
                offenders += [f"{path.relative_to(ROOT)}:{node.lineno}" for alias in node.names
                              if alias.name == "channels" and alias.asname in (None, "channels")]
    assert offenders == []
