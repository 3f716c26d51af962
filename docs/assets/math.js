// Typesets the math that pymdownx.arithmatex (generic mode) leaves in each page: inline math in
// a span.arithmatex as \( … \), display math in a div.arithmatex as \[ … \]. KaTeX is served by
// this site (assets/katex/), so a page renders offline. \d is the d of dh = dL/dh (cells.md).
// TeX that KaTeX cannot typeset (an unknown command, a stray brace) stays as written and is
// reported on the console, where the site's browser test (tests/test_site.py) sees it.
const KATEX_OPTIONS = { strict: "error", throwOnError: true, macros: { "\\d": "\\mathrm{d}" } };

function typesetMath(root) {
  for (const element of root.querySelectorAll(".arithmatex")) {
    const tex = element.textContent.trim().replace(/^\\[([]/, "").replace(/\\[)\]]$/, "");
    try {
      katex.render(tex, element, { ...KATEX_OPTIONS, displayMode: element.tagName === "DIV" });
    } catch (error) {
      console.error(`KaTeX cannot typeset ${tex}: ${error.message}`);
    }
  }
}

document$.subscribe(() => typesetMath(document));
