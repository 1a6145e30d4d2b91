"""Open every page of the built book in headless Chromium and check what a reader would see.

For each page in the table of contents: the page has its title; no Python traceback, error or
stderr output is shown; every image loaded; every equation was typeset by MathJax (served from
the book itself) and none is mis-paired (no `$` left in the prose, no prose inside a formula);
no display equation is wider than its column at 1280 px, nor cut off (wider and not scrollable)
on a 390 px phone;
no request left 127.0.0.1; every animation plays when its Play button is
clicked; notebook pages offer the Colab launch link of their notebook, a download of the
notebook and a link to its student edition, both of which load; each package-reference page
shows the entries autodoc generated, and no directive as text. One screenshot per page is saved
under _build/screenshots/.

Before the book, the check runs on pages it breaks on purpose (a `$` left in the prose, prose
swallowed into a formula, a display too wide for the column, a wide display that cannot scroll
on a phone) and fails unless it reports each one: a check that cannot fail is no check.

Run by `make browser` after `make html`; it uses Debian's Chromium and never downloads a
browser. Prints one line per page and a closing 'N passed, M failed' line; exits 1 on failure.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import yaml
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]

from course_tools.links import colab_url, repo_slug  # noqa: E402

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def toc_pages() -> list[str]:
    """Source paths (without suffix) of every page, in the order of the table of contents."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


def source_title(page: str) -> str:
    """The first '# ' heading of a page's markdown or notebook source."""
    md, nb = ROOT / f"{page}.md", ROOT / f"{page}.ipynb"
    if md.exists():
        lines = md.read_text(encoding="utf-8").splitlines()
    else:
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        lines = [
            line
            for c in cells
            if c["cell_type"] == "markdown"
            for line in "".join(c["source"]).splitlines()
        ]
    for line in lines:
        if line.startswith("# "):
            return line[2:].strip()
    raise ValueError(f"{page} has no '# ' title")


def serve(directory: Path) -> http.server.ThreadingHTTPServer:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


CHECKS_JS = """
() => {
  const h1 = document.querySelector('main h1, article h1, h1');
  const h1Text = h1 ? h1.innerText.replace(/[#¶]\\s*$/, '').trim() : '';
  const bodyText = document.body.innerText;
  const errorOutputs = document.querySelectorAll(
    '.output.traceback, .output.error, .output.stderr, .cell_output .stderr, .system-message');
  const images = Array.from(document.images).map(img => ({
      src: img.currentSrc || img.src, ok: img.complete && img.naturalWidth > 0}));
  const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.href);
  const math = Array.from(document.querySelectorAll('span.math, div.math'));
  const untypeset = math.filter(el => !el.querySelector('mjx-container'))
                        .map(el => el.textContent.slice(0, 60));
  const rawMath = ['\\\\(', '\\\\[', '$$'].filter(t => bodyText.includes(t));
  // TeX that MathJax never saw: a `$` left in the prose (outside code and math), or prose that a
  // mis-paired `$$` swallowed into a math element (markdown bold or code inside the TeX).
  const article = (document.querySelector('main') || document.body).cloneNode(true);
  article.querySelectorAll('pre, code, .math, mjx-container, script, style, .cell_output')
         .forEach(el => el.remove());
  const strayDollar = article.textContent.includes('$');
  // The TeX MathJax typeset (the page's text is its rendering by then). Prose in it: markdown
  // bold or code, a blank line, or a run of four words outside \\text{…}.
  const texts = (window.MathJax && MathJax.startup && MathJax.startup.document)
      ? Array.from(MathJax.startup.document.math).map(m => m.math)
      : math.map(el => el.textContent);
  const prose = tex => /\\*\\*|`|\\n\\s*\\n/.test(tex) ||
      /(?:\\b[A-Za-z]{2,}[ ,]+){3}[A-Za-z]{2,}\\b/.test(
          tex.replace(/\\\\[A-Za-z]+\\s*(\\{[^{}]*\\})?/g, ' '));
  const swallowed = texts.filter(prose).map(tex => tex.slice(0, 60));
  const apiEntries = document.querySelectorAll('dl.py').length;
  const rawDirectives = ['.. auto', '{eval-rst}', '.. py:'].filter(t => bodyText.includes(t));
  return {title: document.title, h1: h1Text, rawMath, apiEntries, rawDirectives, strayDollar,
          swallowed,
          traceback: bodyText.includes('Traceback (most recent call last)'),
          errorOutputs: errorOutputs.length, images, links, nMath: math.length, untypeset};
}
"""


# Display equations wider than their column. `cut` counts those that cannot be scrolled to
# their end either (neither the display nor its wrapper scrolls sideways).
DISPLAY_WIDTHS_JS = """
() => {
  const wide = [], cut = [];
  for (const el of document.querySelectorAll('mjx-container[display="true"]')) {
    const math = el.querySelector('mjx-math');
    if (!math || el.offsetParent === null) continue;
    const need = math.getBoundingClientRect().width, have = el.clientWidth;
    if (need <= have + 1) continue;
    const tex = (el.closest('.math') || el).getAttribute('data-tex') ||
                (el.querySelector('mjx-assistive-mml') || el).textContent.slice(0, 50);
    const label = `${Math.round(need)} px > ${Math.round(have)} px: ${tex.slice(0, 50)}`;
    wide.push(label);
    const scrolls = [el, el.parentElement].some(x => x &&
        ['auto', 'scroll'].includes(getComputedStyle(x).overflowX) &&
        x.scrollWidth > x.clientWidth);
    if (!scrolls) cut.push(label);
  }
  return {wide, cut};
}
"""

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


MATHJAX_READY_JS = """
async () => {
  if (!document.querySelector('span.math, div.math')) return 'no math';
  for (let i = 0; i < 100 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++) {
    await new Promise(r => setTimeout(r, 100));
  }
  if (!(window.MathJax && MathJax.startup)) return 'MathJax did not load';
  await MathJax.startup.promise;
  return 'typeset';
}
"""


ANIMATIONS_PLAY_JS = """
async () => {
  const results = [];
  for (const img of document.querySelectorAll('img[id^="_anim_img"]')) {
    const id = img.id.slice('_anim_img'.length);
    const play = document.querySelector(`button[onclick="anim${id}.play_animation()"]`);
    const before = img.src;
    if (!play) { results.push(false); continue; }
    play.click();
    await new Promise(r => setTimeout(r, 800));
    results.push(img.src !== before && img.naturalWidth > 0);
    const pause = document.querySelector(`button[onclick="anim${id}.pause_animation()"]`);
    if (pause) pause.click();
  }
  return results;
}
"""


def display_problems(page) -> list[str]:
    """Displays too wide for the column at desktop width, or cut off on a phone."""
    problems = []
    wide = page.evaluate(DISPLAY_WIDTHS_JS)["wide"]
    if wide:
        problems.append(f"{len(wide)} display(s) wider than the column at 1280 px: {wide[:3]}")
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(100)
    cut = page.evaluate(DISPLAY_WIDTHS_JS)["cut"]
    page.set_viewport_size(DESKTOP)
    if cut:
        problems.append(
            f"{len(cut)} display(s) cut off at 390 px (wider, not scrollable): {cut[:3]}"
        )
    return problems


# Pages broken on purpose, each with the problem the check must report on it.
BROKEN_PAGES = {
    "stray-dollar": (
        "<p>The flow $$z(t) = z_0 + \\int_0^t f(s, z(s))\\,ds is the solution.</p>",
        "a $ left in the prose",
    ),
    "swallowed-prose": (
        '<div class="math notranslate nohighlight">\\[ x **bold prose** y \\]</div>',
        "prose swallowed into math",
    ),
    "too-wide": (
        '<div class="math notranslate nohighlight">\\['
        + " + ".join(f"a_{{{i}}} b_{{{i}}}" for i in range(40))
        + "\\]</div>",
        "wider than the column at 1280 px",
    ),
    "cut-off": (
        '<style>mjx-container[display="true"] {overflow: visible !important}</style>'
        '<div class="math notranslate nohighlight">\\['
        + " + ".join(f"a_{{{i}}}" for i in range(30))
        + "\\]</div>",
        "cut off at 390 px",
    ),
}


def self_test(page, base: str, html: Path) -> list[str]:
    """The check's own test: every page broken on purpose must be reported as broken."""
    folder = html / "_browser_check"
    folder.mkdir(exist_ok=True)
    css = (
        ""
        if not (html / "_static" / "math-scroll.css").exists()
        else ('<link rel="stylesheet" href="../_static/math-scroll.css">')
    )
    failures = []
    for name, (body, expected) in BROKEN_PAGES.items():
        (folder / f"{name}.html").write_text(
            f"<!DOCTYPE html><html><head><title>{name}</title>{css}"
            '<script defer src="../_static/mathjax/tex-mml-chtml.js"></script></head>'
            f'<body><main style="max-width: 700px">{body}</main></body></html>',
            encoding="utf-8",
        )
        page.goto(f"{base}/_browser_check/{name}.html", wait_until="load")
        page.evaluate(MATHJAX_READY_JS)
        page.wait_for_timeout(200)
        info = page.evaluate(CHECKS_JS)
        found = display_problems(page)
        if info["strayDollar"]:
            found.append("a $ left in the prose")
        if info["swallowed"]:
            found.append("prose swallowed into math")
        if not any(expected in problem for problem in found):
            failures.append(f"the page broken by '{name}' was not reported ({expected}): {found}")
    return failures


def check_page(page, base: str, source: str, shots: Path, slug: str) -> tuple[list[str], int, int]:
    """Problems found on one page, and the numbers of equations and animations on it."""
    problems: list[str] = []
    url = f"{base}/{source}.html"
    response = page.goto(url, wait_until="load")
    if response is None or response.status != 200:
        return [f"HTTP {response.status if response else 'no response'} for {url}"], 0, 0
    mathjax = page.evaluate(MATHJAX_READY_JS)
    page.wait_for_timeout(200)
    info = page.evaluate(CHECKS_JS)
    animations = page.evaluate(ANIMATIONS_PLAY_JS)
    if not all(animations):
        problems.append(f"{animations.count(False)} of {len(animations)} animations did not play")
    if mathjax == "MathJax did not load":
        problems.append("the page has math but MathJax did not load")
    if info["rawMath"]:
        problems.append(f"raw TeX delimiters left in the page text: {info['rawMath']}")
    if info["strayDollar"]:
        problems.append("a $ left in the prose (a display or inline formula that did not pair)")
    if info["swallowed"]:
        problems.append(f"prose swallowed into math: {info['swallowed'][:2]}")
    if info["untypeset"]:
        n, examples = len(info["untypeset"]), info["untypeset"][:2]
        problems.append(f"{n} of {info['nMath']} equations not typeset, e.g. {examples}")
    problems += display_problems(page)
    title = source_title(source)
    if title not in info["h1"]:
        problems.append(f"heading {info['h1']!r} does not show the title {title!r}")
    if not info["title"].startswith(title):
        problems.append(f"<title> {info['title']!r} does not start with {title!r}")
    if info["traceback"]:
        problems.append("the page shows a Python traceback")
    if info["rawDirectives"]:
        problems.append(f"directives shown as text: {info['rawDirectives']}")
    if source.startswith("book/reference/") and source != "book/reference/index":
        if info["apiEntries"] == 0:
            problems.append("a reference page that documents no function, class or constant")
    if info["errorOutputs"]:
        problems.append(
            f"{info['errorOutputs']} error/stderr output(s) or docutils system messages"
        )
    broken = [img["src"] for img in info["images"] if not img["ok"]]
    if broken:
        problems.append(f"images that did not load: {broken}")
    if (ROOT / f"{source}.ipynb").exists():
        name = Path(source).name + ".ipynb"
        want = colab_url(slug, name)
        if want not in info["links"]:
            colab = [link for link in info["links"] if "colab.research.google.com" in link]
            problems.append(f"no Colab launch link {want}; found {colab}")
        for what, link in (
            ("download", f"{base}/_sources/{source}.ipynb"),
            ("student edition", f"{base}/student/{name}"),
        ):
            if link not in info["links"]:
                problems.append(f"no {what} link {link}")
                continue
            reply = page.request.get(link)
            body = reply.text() if reply.ok else ""
            if not reply.ok or '"cells"' not in body:
                problems.append(f"the {what} link {link} does not serve a notebook")
            elif what == "student edition" and "solution-start" in body:
                problems.append("the student edition still contains a solution")
    shot = shots / (source.replace("/", "__") + ".png")
    page.screenshot(path=str(shot), full_page=True)
    return problems, info["nMath"], len(animations)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium executable")
    parser.add_argument("--html", default=str(ROOT / "_build" / "html"), help="built book")
    parser.add_argument("--screenshots", default=str(ROOT / "_build" / "screenshots"))
    args = parser.parse_args()

    html = Path(args.html)
    if not (html / "index.html").exists():
        print(f"no built book at {html}: run `make html` first", file=sys.stderr)
        return 2
    shots = Path(args.screenshots)
    shots.mkdir(parents=True, exist_ok=True)
    slug = repo_slug()
    server = serve(html)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    external: list[str] = []
    passed = failed = math_pages = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=DESKTOP)

        def only_local(route) -> None:
            host = urlparse(route.request.url).hostname
            if host in ("127.0.0.1", "localhost") or route.request.url.startswith("data:"):
                route.continue_()
            else:  # the book must not depend on the network to be read
                external.append(route.request.url)
                route.abort()

        page.route("**/*", only_local)
        broken = self_test(page, base, html)
        for failure in broken:
            print(f"FAIL self-test: {failure}")
        if not broken:
            print(f"ok   self-test: the {len(BROKEN_PAGES)} pages broken on purpose are reported")
        failed += len(broken)
        for source in toc_pages():
            external.clear()
            problems, n_math, n_anim = check_page(page, base, source, shots, slug)
            math_pages += n_math > 0
            if external:
                problems.append(f"requests left 127.0.0.1: {sorted(set(external))[:3]}")
            if problems:
                failed += 1
                print(f"FAIL {source}")
                for problem in problems:
                    print(f"     - {problem}")
            else:
                passed += 1
                print(f"ok   {source} ({n_math} equations typeset, {n_anim} animations played)")
        browser.close()
    server.shutdown()
    print(f"{math_pages} pages with math, all typeset by the book's own MathJax")
    print(f"screenshots in {shots}")
    print(f"browser check: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
