"""axe-core run inside the page that Playwright shows, and what the accessibility test measures
beside it (shared by tests/browser/test_accessibility.py and any browser test that wants it).

axe-core's JavaScript comes from the `axe-playwright-python` package (a test dependency in
pyproject.toml), which ships axe.min.js inside its wheel: nothing is fetched when the tests run.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from axe_playwright_python.base import AXE_SCRIPT

FAILING = ("serious", "critical")  # the impacts a page may not have
# Every rule axe-core has that is not experimental: WCAG 2.0, 2.1 and 2.2 A and AA, and its best
# practices (landmarks, heading order, one main, ...).
OPTIONS = {"resultTypes": ["violations"]}

RUN = """async (options) => {
  const results = await window.axe.run(document, options);
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html.slice(0, 160),
                                 summary: (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 240) })),
  }));
}"""


def run_axe(page) -> list[dict]:
    """axe-core's violations on the page as shown now: [{id, impact, help, nodes: [{target, html, summary}]}]."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    return page.evaluate(RUN, OPTIONS)


@dataclass
class Findings:
    """What axe-core said over many pages: the failing ones, and a count of the minor and moderate."""
    failing: list[str] = field(default_factory=list)
    lesser: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (rule, impact) -> pages

    def add(self, where: str, violations: list[dict]) -> None:
        for violation in violations:
            if violation["impact"] in FAILING:
                for node in violation["nodes"]:
                    self.failing.append(f"{where}: {violation['id']} ({violation['impact']}: {violation['help']}) "
                                        f"at {node['target']}: {node['html']} -- {node['summary']}")
            else:
                self.lesser.setdefault((violation["id"], violation["impact"] or "?"), set()).add(where)

    def summary(self) -> str:
        if not self.lesser:
            return "axe-core: no minor or moderate violation"
        lines = ["axe-core, minor and moderate violations (rule, impact: pages):"]
        for (rule, impact), pages in sorted(self.lesser.items()):
            shown = sorted(pages)
            lines.append(f"  {rule}, {impact}: {len(shown)} pages, e.g. {', '.join(shown[:4])}")
        return "\n".join(lines)


# Every control the keyboard reaches that is shown, focused in turn: those on which focus draws no
# ring (an outline of at least 2 px, or a box-shadow) and is not :focus-visible. [html]. Focus set
# from a script counts as the keyboard's while no pointer has been used on the page (Chromium's rule
# for :focus-visible), so run it before anything is clicked.
NO_FOCUS_RING = """() => {
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden'
    && !el.closest('details:not([open]) > :not(summary)') && !el.closest('[inert], [aria-hidden=true]');
  const focusable = Array.from(document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])'))
    .filter((el) => !el.disabled && shown(el));
  const before = document.activeElement;
  const found = [];
  for (const el of focusable) {
    el.focus({ preventScroll: true });
    if (document.activeElement !== el) continue;
    const style = getComputedStyle(el);
    const ring = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
    const shadow = style.boxShadow && style.boxShadow !== 'none';
    if (!el.matches(':focus-visible') || !(ring || shadow)) found.push(el.outerHTML.slice(0, 100));
  }
  if (before && before.focus) before.focus({ preventScroll: true }); else document.activeElement?.blur();
  return found;
}"""
