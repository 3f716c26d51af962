// Typesets the math that pymdownx.arithmatex (generic mode) leaves in each page: inline math in
// a span.arithmatex as \( … \), display math in a div.arithmatex as \[ … \]. KaTeX is served by
// this site (assets/katex/), so a page renders offline. \d is the d of d_h = dL/dh (cells.md).
const KATEX_OPTIONS = { strict: "error", throwOnError: false, macros: { "\\d": "\\mathrm{d}" } };

function typesetMath(root) {
  for (const element of root.querySelectorAll(".arithmatex")) {
    const tex = element.textContent.trim().replace(/^\\[([]/, "").replace(/\\[)\]]$/, "");
    const displayMode = element.tagName === "DIV";
    katex.render(tex, element, { ...KATEX_OPTIONS, displayMode });
  }
}

document$.subscribe(() => typesetMath(document));
