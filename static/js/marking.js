// Progressive enhancement for an editor's marking page (evidence/article_marking.html): "Mark as claim"
// turns the selection in the article's text into a W3C TextQuoteSelector (exact, prefix, suffix) and
// TextPositionSelector (start, end) and puts them in the form beside the text, which the editor then
// completes and saves. The server places the quote itself (evidence.anchoring.locate) and refuses a
// passage the text repeats with the same words around it. Without this script the form takes a pasted quote.
(function () {
  "use strict";
  var region = document.getElementById("marking-text");
  var source = document.getElementById("article-source");
  var form = document.getElementById("mark-form");
  var button = document.getElementById("mark-selection");
  var status = document.getElementById("mark-status");
  if (!region || !source || !form || !button || !status) return;
  var text = JSON.parse(source.textContent);
  var CONTEXT = 32; // characters either side, as evidence.anchoring.CONTEXT_LENGTH keeps
  var fields = form.elements;
  var last = null; // the last selection made in the text: focusing the button must not lose it

  // The offset in the article's text of a point of the page: its block's offset (data-start) plus the
  // length of the block's text before it. Null outside the text's blocks.
  function offsetOf(node, offset) {
    var element = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    var block = element && element.closest("[data-start]");
    if (!block || !region.contains(block)) return null;
    var range = document.createRange();
    range.setStart(block, 0);
    range.setEnd(node, offset);
    return parseInt(block.dataset.start, 10) + range.toString().length;
  }

  function currentSelector() {
    var selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    var range = selection.getRangeAt(0);
    if (!region.contains(range.commonAncestorContainer)) return null;
    var start = offsetOf(range.startContainer, range.startOffset);
    var end = offsetOf(range.endContainer, range.endOffset);
    if (start === null || end === null) return null;
    // a selection by double- or triple-click takes the space or line break after it too
    while (start < end && /\s/.test(text.charAt(start))) start++;
    while (end > start && /\s/.test(text.charAt(end - 1))) end--;
    if (end <= start) return null;
    return {
      exact: text.slice(start, end),
      prefix: text.slice(Math.max(0, start - CONTEXT), start),
      suffix: text.slice(end, end + CONTEXT),
      start: start,
      end: end
    };
  }

  function say(message, isError) {
    status.textContent = message;
    status.classList.toggle("is-error", Boolean(isError));
  }

  document.addEventListener("selectionchange", function () {
    var selector = currentSelector();
    if (selector) last = selector;
  });

  // Keyboard: entering the text puts a caret at its start. Browsers move a caret through text that is not
  // editable only in caret browsing (F7), and extend a selection with Shift and the arrow keys only once it
  // is a range; so, inside the text, the arrow keys move the caret (Ctrl or Alt: by word; Home and End: to
  // the line's ends) and with Shift select, through Selection.modify, as in an editor.
  function caretInside() {
    var selection = window.getSelection();
    if (selection.rangeCount && region.contains(selection.getRangeAt(0).commonAncestorContainer)) return;
    var walker = document.createTreeWalker(region, NodeFilter.SHOW_TEXT, {
      acceptNode: function (node) {
        return node.parentElement.closest("[data-start]") && node.data.trim()
          ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_SKIP;
      }
    });
    var first = walker.nextNode();
    if (first) selection.collapse(first, 0);
  }
  var MOVES = {
    ArrowLeft: ["backward", "character"],
    ArrowRight: ["forward", "character"],
    ArrowUp: ["backward", "line"],
    ArrowDown: ["forward", "line"],
    Home: ["backward", "lineboundary"],
    End: ["forward", "lineboundary"]
  };
  region.addEventListener("focus", caretInside);
  region.addEventListener("keydown", function (event) {
    var move = MOVES[event.key];
    var selection = window.getSelection();
    if (!move || !selection.modify || event.metaKey) return;
    caretInside();
    var granularity = (event.ctrlKey || event.altKey) && move[1] === "character" ? "word" : move[1];
    event.preventDefault();
    selection.modify(event.shiftKey ? "extend" : "move", move[0], granularity);
  });

  button.hidden = false;
  button.addEventListener("click", function () {
    var selector = currentSelector() || last;
    if (!selector) {
      say("Select a passage of the article's text first.", true);
      return;
    }
    fields.quote.value = selector.exact;
    fields.prefix.value = selector.prefix;
    fields.suffix.value = selector.suffix;
    fields.start.value = String(selector.start);
    fields.end.value = String(selector.end);
    var shown = selector.exact.length > 80 ? selector.exact.slice(0, 79) + "…" : selector.exact;
    say("Selected “" + shown + "”. Choose its type, then save the claim.", false);
    fields.claim_type.focus();
  });

  // A quote typed or changed by hand no longer comes with the selection's context and position.
  fields.quote.addEventListener("input", function () {
    fields.prefix.value = "";
    fields.suffix.value = "";
    fields.start.value = "";
    fields.end.value = "";
  });
})();
