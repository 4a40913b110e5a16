/* The evidence on the original article: served at /embed/overlay.js for a publisher's page or a bookmarklet.
 *
 * It fetches our Web Annotations of the page (annotations.jsonld, by the script's data-article slug or by the
 * page's own address), finds each claim in the page's text with its TextQuoteSelector (exact, prefix and suffix,
 * compared with runs of whitespace collapsed, so markup and line breaks in the publisher's HTML do not matter;
 * when the quote occurs more than once and the context does not decide, the TextPositionSelector's position
 * does), marks it in the verdict's colour, and opens a small panel with the verdict and a link to the claim's
 * page. A quote the page does not contain is reported in the console and skipped. No third-party code, no
 * cookie, no inline style sheet (styles are set through the DOM, which a publisher's CSP allows).
 */
(function () {
  "use strict";
  const script = document.currentScript || Array.from(document.scripts).find((s) => /\/embed\/overlay\.js/.test(s.src));
  if (!script || window.__evidenceOverlay) return;
  window.__evidenceOverlay = true;
  const origin = new URL(script.src).origin;
  const slug = script.dataset.article;
  const COLOURS = {
    supported: ["#1e7b45", "#e3f4ea"],
    partly_supported: ["#8a6100", "#fff3d1"],
    unsupported: ["#a33a1b", "#fde6de"],
    contradicted: ["#8e1c3b", "#f9dde5"],
    unreviewed: ["#4a5567", "#eceff3"],
  };

  function source() {
    if (slug) return `${origin}/articles/${encodeURIComponent(slug)}/annotations.jsonld`;
    const page = location.href.split("#")[0];
    return `${origin}/annotations.jsonld?url=${encodeURIComponent(page)}`;
  }

  /* The page's text as one string with whitespace runs collapsed to one space, and for each of its characters
   * the text node and offset it came from. */
  function pageText() {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
      acceptNode(node) {
        const parent = node.parentElement;
        if (!parent || parent.closest("script, style, noscript, template, [data-evidence-panel]")) {
          return NodeFilter.FILTER_REJECT;
        }
        return NodeFilter.FILTER_ACCEPT;
      },
    });
    let text = "";
    const where = [];
    let lastSpace = true;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const value = node.nodeValue;
      for (let i = 0; i < value.length; i += 1) {
        const space = /\s/.test(value[i]);
        if (space && lastSpace) continue;
        text += space ? " " : value[i];
        where.push([node, i]);
        lastSpace = space;
      }
    }
    return { text, where };
  }

  const squash = (value) => (value || "").replace(/\s+/g, " ");

  function occurrences(text, exact) {
    const found = [];
    for (let at = text.indexOf(exact); at !== -1; at = text.indexOf(exact, at + 1)) found.push(at);
    return found;
  }

  /* The start of the quote in the page's text, or -1. */
  function locate(text, quote, position) {
    const exact = squash(quote.exact).trim();
    const found = occurrences(text, exact);
    if (found.length <= 1) return { start: found.length ? found[0] : -1, exact };
    const prefix = squash(quote.prefix).trimStart();
    const suffix = squash(quote.suffix).trimEnd();
    const score = (at) => {
      let s = 0;
      const before = text.slice(Math.max(0, at - prefix.length - 1), at).trimEnd();
      const after = text.slice(at + exact.length, at + exact.length + suffix.length + 1).trimStart();
      for (let i = 1; i <= prefix.trim().length && before.endsWith(prefix.trim().slice(-i)); i += 1) s += 1;
      for (let i = 1; i <= suffix.trim().length && after.startsWith(suffix.trim().slice(0, i)); i += 1) s += 1;
      return s;
    };
    const scored = found.map((at) => ({ at, score: score(at) }));
    const best = Math.max(...scored.map((item) => item.score));
    const tied = scored.filter((item) => item.score === best);
    if (tied.length === 1 || !position) return { start: tied[0].at, exact };
    // the context does not decide: the occurrence nearest the position the annotation gives
    tied.sort((a, b) => Math.abs(a.at - position.start) - Math.abs(b.at - position.start));
    return { start: tied[0].at, exact };
  }

  /* Wrap the characters [start, end) of the collapsed text in <mark>s, one per text node they span. */
  function mark(where, start, end, annotation, status) {
    const pieces = new Map();
    for (let i = start; i < end; i += 1) {
      const [node, offset] = where[i];
      const piece = pieces.get(node) || { from: offset, to: offset };
      piece.to = offset + 1;
      pieces.set(node, piece);
    }
    const marks = [];
    for (const [node, piece] of pieces) {
      const range = document.createRange();
      range.setStart(node, piece.from);
      range.setEnd(node, piece.to);
      const el = document.createElement("mark");
      el.dataset.evidenceClaim = annotation.id;
      el.dataset.evidenceStatus = status;
      const [ink, paper] = COLOURS[status] || COLOURS.unreviewed;
      el.style.background = paper;
      el.style.color = "inherit";
      el.style.borderBottom = `2px solid ${ink}`;
      el.style.cursor = "pointer";
      range.surroundContents(el);
      marks.push(el);
    }
    return marks;
  }

  function statusOf(annotation) {
    const text = (annotation.body.find((b) => b.type === "TextualBody") || {}).value || "";
    const key = text.split(/[:.(]/)[0].trim().toLowerCase().replace(/ /g, "_");
    return COLOURS[key] ? key : "unreviewed";
  }

  let panel = null;
  function show(annotation, status, anchor) {
    if (!panel) {
      panel = document.createElement("aside");
      panel.dataset.evidencePanel = "";
      panel.setAttribute("role", "dialog");
      panel.setAttribute("aria-label", "Evidence review");
      Object.assign(panel.style, {
        position: "fixed", right: "1rem", bottom: "1rem", maxWidth: "22rem", zIndex: "2147483647",
        background: "#fff", color: "#1d2430", border: "1px solid #d9dee6", borderRadius: "6px",
        padding: ".75rem 1rem", font: "15px/1.4 system-ui, sans-serif", boxShadow: "0 4px 16px rgba(0,0,0,.2)",
      });
      document.body.appendChild(panel);
    }
    const [ink] = COLOURS[status] || COLOURS.unreviewed;
    panel.style.borderLeft = `6px solid ${ink}`;
    panel.replaceChildren();
    const title = document.createElement("p");
    title.style.margin = "0 0 .4rem";
    title.style.fontWeight = "700";
    title.textContent = "Evidence review";
    const verdict = document.createElement("p");
    verdict.style.margin = "0 0 .4rem";
    verdict.textContent = (annotation.body.find((b) => b.type === "TextualBody") || {}).value || "";
    const page = annotation.body.find((b) => b.type === "Text");
    const link = document.createElement("a");
    link.href = page ? page.id : origin;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = "See the evidence →";
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "Close";
    close.style.marginLeft = "1rem";
    close.addEventListener("click", () => { panel.hidden = true; anchor.focus(); });
    panel.append(title, verdict, link, close);
    panel.hidden = false;
    link.focus();
  }

  function anchorAll(collection) {
    const items = (collection.first && collection.first.items) || [];
    const { text, where } = pageText();
    const placed = [];
    for (const annotation of items) {
      const selectors = annotation.target.selector || [];
      const quote = selectors.find((s) => s.type === "TextQuoteSelector");
      const position = selectors.find((s) => s.type === "TextPositionSelector");
      if (!quote) continue;
      const { start, exact } = locate(text, quote, position);
      if (start < 0) {
        console.warn(`Evidence review: this page does not contain the claim “${quote.exact}” (${annotation.id}); skipped.`);
        continue;
      }
      placed.push({ annotation, start, end: start + exact.length });
    }
    // from the end backwards, so that wrapping one claim never moves the nodes of another still to wrap
    placed.sort((a, b) => b.start - a.start);
    for (const { annotation, start, end } of placed) {
      const status = statusOf(annotation);
      const marks = mark(where, start, end, annotation, status);
      const first = marks[0];
      first.tabIndex = 0;
      first.setAttribute("role", "button");
      first.setAttribute("aria-label", `Evidence review: ${status.replace(/_/g, " ")}`);
      for (const el of marks) el.addEventListener("click", () => show(annotation, status, first));
      first.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); show(annotation, status, first); }
      });
    }
    document.documentElement.dataset.evidenceOverlay = String(placed.length);
  }

  fetch(source(), { credentials: "omit" })
    .then((response) => {
      if (!response.ok) throw new Error(`${response.status} from ${response.url}`);
      return response.json();
    })
    .then(anchorAll)
    .catch((error) => console.warn(`Evidence review: no claims for this page (${error.message}).`));
})();
