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
viewport (390x844). Moderate and minor findings are not failures (axe's own triage).

`small_tap_targets(page)` lists the visible controls smaller than a fingertip (44x44 CSS px,
WCAG 2.5.5), leaving out only what WCAG exempts:
- *Inline*: a link inside a sentence ("merged into <a>Ada</a>.") is sized by the line it sits in.
- *Equivalent*: a link is exempt when another one to the same address on the page is full size.
A checkbox or radio inside a label is measured by its label (the label is what a finger taps);
one beside its `<label for>`, with the label stretched over their row, by that row."""

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


SMALL_TARGETS = """(min) => {
  const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary, ' +
    '[role=button], [role=tab], [role=radio], [role=option], [tabindex]:not([tabindex="-1"])';
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) return false;             // not drawn (or visually hidden)
    if (r.right <= 0 || r.left >= innerWidth) return false;      // parked off screen (skip links)
    return el.checkVisibility({visibilityProperty: true}) && !el.closest('[hidden], [inert]');
  };
  // A box beside its <label for> (Django's form.as_p/as_div) whose label is stretched over the
  // row (console.css): a tap on the box lands on the label, so the row is the target.
  const stretchedRow = (el) => {
    if (!el.labels || !el.labels.length) return null;
    el.scrollIntoView({block: 'center'});
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return [...el.labels].includes(hit) && hit.parentElement.contains(el) ? hit.parentElement : null;
  };
  const target = (el) => !el.matches('input[type=checkbox], input[type=radio]') ? el
    : el.closest('label') || stretchedRow(el) || el;
  // Inline: a link that sits in running text (its block has words besides the link's own).
  const inline = (el) => {
    if (!el.matches('a') || getComputedStyle(el).display !== 'inline') return false;
    const block = el.parentElement.closest('p, li, dd, td, div, span');
    if (!block) return false;
    const others = [...block.childNodes].filter(n => n !== el && n.nodeType === Node.TEXT_NODE)
      .map(n => n.textContent).join('').replace(/[\\s·.,:;()—-]+/g, '');
    return others.length > 0;
  };
  const big = (r) => r.width >= min && r.height >= min;
  const found = [...document.querySelectorAll(controls)].filter(visible).map(el => {
    const box = target(el).getBoundingClientRect();
    const name = (el.getAttribute('aria-label') || el.textContent || el.getAttribute('name') ||
                  el.id || el.tagName).trim().replace(/\\s+/g, ' ').slice(0, 40);
    return {el, name, href: el.getAttribute('href'), w: Math.round(box.width * 10) / 10,
            h: Math.round(box.height * 10) / 10, ok: big(box)};
  });
  const fullSize = new Set(found.filter(f => f.ok && f.href).map(f => f.href));
  return found.filter(f => !f.ok && !inline(f.el) && !(f.href && fullSize.has(f.href)))
    .map(f => `${f.el.tagName.toLowerCase()}${f.el.id ? '#' + f.el.id : ''} "${f.name}" ${f.w}x${f.h}`);
}"""


def small_tap_targets(page, size: int = 44) -> list[str]:
    """The page's visible controls under `size` px either way (see the module's notes)."""
    return page.evaluate(SMALL_TARGETS, size)
