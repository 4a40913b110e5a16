// Copy buttons for formatted references. Without JavaScript the buttons stay hidden and the text can
// be selected by hand. Where the Clipboard API is missing (a page served over plain HTTP, not
// localhost) or refuses, the button selects the reference instead, so that Ctrl+C (⌘C) copies it.
(function () {
  "use strict";

  function select(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function say(button, status, message) {
    if (status) status.textContent = message;
    clearTimeout(button.copyTimer);
    button.copyTimer = setTimeout(function () { if (status) status.textContent = ""; }, 4000);
  }

  function fallBack(button, text, status) {
    if (!text) return;
    select(text);
    var copied = false;
    try {
      // the older way, still honoured by most browsers outside secure contexts; the selection stays
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    say(button, status, copied ? "Copied." : "Selected: press Ctrl+C (⌘C on a Mac) to copy.");
  }

  document.querySelectorAll("button.copy-button[data-copy]").forEach(function (button) {
    var text = document.getElementById(button.getAttribute("aria-controls"));
    var status = button.parentElement.querySelector(".copy-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(button.dataset.copy).then(
          function () { say(button, status, "Copied."); },
          function () { fallBack(button, text, status); }
        );
      } else {
        fallBack(button, text, status);
      }
    });
  });
})();
