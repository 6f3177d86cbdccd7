"""axe-core in a real browser: `assert_accessible(page)` fails on any serious or critical
violation and lists them (rule, impact, help, the offending elements). Any page, any state:

    from tests.a11y import assert_accessible

    page.goto(server.url("/console/"))
    assert_accessible(page)                       # the whole page, open shadow roots included
    assert_accessible(page, include="#helpdesk-chat")   # one part (a CSS selector)

axe-core is vendored as a test asset (tests/vendor/axe.min.js, MPL-2.0, see tests/vendor/README.md)
and injected through the debugging protocol, so pages keep their own Content-Security-Policy
(a <script> tag would be refused by the console's script-src). Run it once per state that shows
something new: a dialog open, dark mode (`browser.new_context(color_scheme="dark")`), a phone
viewport (390x844). Moderate and minor findings are not failures (axe's own triage)."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
FAILING = ("serious", "critical")

RUN_AXE = """async (opts) => {
  const result = await axe.run(opts.include ? {include: [opts.include]} : document,
                               {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.map(t => [].concat(t).join(" >>> ")).join(" "), summary: n.failureSummary})),
  }));
}"""


def axe_violations(page, *, include: str | None = None, impacts=FAILING) -> list[dict]:
    """The axe-core violations of `impacts` on the page (or inside the `include` selector)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate("() => {" + AXE.read_text() + "\n}")
    found = page.evaluate(RUN_AXE, {"include": include})
    return [v for v in found if v["impact"] in impacts]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"][:8]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {node['target']}: {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page, *, include: str | None = None, label: str = "") -> None:
    violations = axe_violations(page, include=include)
    where = label or page.url
    assert not violations, f"axe-core found serious/critical problems on {where}:\n{describe(violations)}"
