"""What the layout tests measure in a page, as JavaScript for Playwright's page.evaluate, shared by
the browser tests (tests/browser/test_pages_fit_a_phone.py, test_every_page_fits_360.py)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Everything a thumb presses that is shown and shorter than 44 px: [html, height]. Links inside
# running text are left out (WCAG 2.5.8's inline exception); links styled as buttons, tabs, the
# pager's and the menu's are not.
TOO_SMALL = """() => Array.from(document.querySelectorAll(
    'button, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea, a.button, .tabs a, '
    + 'summary, .menu-list a, .pager a'))
  .filter((el) => el.offsetParent !== null || getComputedStyle(el).position === 'fixed')
  .filter((el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden')
  .map((el) => [el.outerHTML.slice(0, 80), el.getBoundingClientRect().height])
  .filter(([, height]) => height < 44)"""

# How wide the page is (a page wider than its window scrolls sideways).
PAGE_WIDTH = "() => document.documentElement.scrollWidth"

# What is cut off or overlaps, in the window as laid out: [what, html]. Cut off: a control or a piece
# of text that reaches past the window's left or right edge, or whose text is wider than its own box
# while the box clips it (overflow hidden). Overlapping: two controls (buttons, fields, links styled
# as buttons, the menu's links) whose boxes cross by more than 2 px, neither inside the other.
CUT_OR_OVERLAPPING = """() => {
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden'
    && !el.closest('details:not([open]) > :not(summary)');
  const width = document.documentElement.clientWidth;
  const found = [];
  const texts = document.querySelectorAll('main h1, main h2, main p, main label, main td, main th, main dd, main dt, main li, '
    + 'button, a.button, summary, .menu-list a, input, select, textarea, .flash, .badge');
  for (const el of texts) {
    if (!shown(el)) continue;
    if (el.closest('.table-wrap')) continue;  // a table scrolls inside its own box by design
    const box = el.getBoundingClientRect();
    if (box.width === 0) continue;
    if (box.right > width + 1 || box.left < -1) found.push(['past the edge', el.outerHTML.slice(0, 100)]);
    const style = getComputedStyle(el);
    if (['hidden', 'clip'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 2
        && !['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName)) found.push(['clipped', el.outerHTML.slice(0, 100)]);
  }
  const controls = Array.from(document.querySelectorAll(
    'button, a.button, input:not([type=hidden]), select, textarea, summary, .menu-list a, .tabs a'))
    .filter(shown).map((el) => [el, el.getBoundingClientRect()]).filter(([, r]) => r.width > 0 && r.height > 0);
  for (let i = 0; i < controls.length; i++) {
    for (let j = i + 1; j < controls.length; j++) {
      const [a, ra] = controls[i], [b, rb] = controls[j];
      if (a.contains(b) || b.contains(a)) continue;
      if (!!a.closest('[data-menu]') !== !!b.closest('[data-menu]')) continue;  // the open menu lies over the page
      const x = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const y = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (x > 2 && y > 2) found.push(['overlapping', a.outerHTML.slice(0, 60) + ' / ' + b.outerHTML.slice(0, 60)]);
    }
  }
  return found;
}"""

# Text whose colour does not stand out from what is behind it (WCAG AA: 4.5:1, 3:1 for large text):
# [html, ratio, colour, background]. The background is the first ancestor's that is not transparent.
LOW_CONTRAST = """() => {
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const behind = (el) => {
    for (let at = el; at; at = at.parentElement) {
      const bg = rgb(getComputedStyle(at).backgroundColor);
      if (bg.length >= 3 && (bg.length < 4 || bg[3] > 0.5)) return bg;
    }
    return rgb(getComputedStyle(document.documentElement).backgroundColor || 'rgb(255,255,255)');
  };
  const found = [];
  const els = document.querySelectorAll('h1, h2, p, label, td, th, dd, dt, li, a, button, summary, .muted, .hint, .badge, .flash, input, select');
  for (const el of els) {
    if (el.getClientRects().length === 0 || !el.textContent.trim() && !['INPUT', 'SELECT'].includes(el.tagName)) continue;
    if (el.closest('details:not([open]) > :not(summary)') || el.closest('.label, svg')) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || Number(style.opacity) < 0.5 || el.closest('[disabled]')) continue;
    const fg = rgb(style.color), bg = behind(el);
    const [a, b] = [lum(fg) + 0.05, lum(bg) + 0.05];
    const ratio = Math.max(a, b) / Math.min(a, b);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) found.push([el.outerHTML.slice(0, 80), Math.round(ratio * 100) / 100, style.color, bg.join(',')]);
  }
  return found;
}"""


def artifacts(name: str) -> Path:
    """The folder a browser test saves its screenshots in (git-ignored)."""
    folder = Path(os.environ.get("WMS_TEST_ARTIFACTS") or ROOT / "test-artifacts") / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
