// Progressive enhancement for the article page: a claim's summary opens beside the text.
// Without this script every highlight is an ordinary link to the claim's page.
(function () {
  "use strict";
  var panel = document.getElementById("claim-panel");
  if (!panel || !("content" in document.createElement("template"))) return;
  var inner = panel.querySelector(".claim-panel-inner");
  var body = panel.querySelector(".claim-panel-body");
  var closeButton = panel.querySelector(".claim-panel-close");
  var opener = null;

  function open(link) {
    var template = document.getElementById("claim-summary-" + link.dataset.claim);
    if (!template) return false;
    body.replaceChildren(template.content.cloneNode(true));
    var current = document.querySelector(".claim[aria-expanded='true']");
    if (current) current.setAttribute("aria-expanded", "false");
    link.setAttribute("aria-expanded", "true");
    panel.hidden = false;
    opener = link;
    inner.focus();
    return true;
  }

  // Close the panel and put focus on `target`: the claim that opened it unless told otherwise.
  function close(target) {
    panel.hidden = true;
    if (opener) {
      opener.setAttribute("aria-expanded", "false");
      (target || opener).focus();
      opener = null;
    }
  }

  var claims = Array.prototype.slice.call(document.querySelectorAll("a.claim[data-claim]"));

  function focusable() {
    return Array.prototype.filter.call(
      inner.querySelectorAll("a[href], button, input, select, textarea, [tabindex]:not([tabindex='-1'])"),
      function (element) { return !element.disabled && element.getClientRects().length > 0; }
    );
  }

  // The panel sits after the whole text in the page, but belongs to the claim that opened it: Tab past
  // its last control goes on to the next claim (closing the panel), and Shift+Tab before its first
  // control goes back to the claim. Otherwise focus would fall off the end of the page.
  panel.addEventListener("keydown", function (event) {
    if (event.key !== "Tab" || !opener) return;
    var controls = focusable();
    var first = controls[0];
    var last = controls[controls.length - 1];
    if (event.shiftKey && (document.activeElement === inner || document.activeElement === first)) {
      event.preventDefault();
      opener.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !last)) {
      event.preventDefault();
      close(claims[claims.indexOf(opener) + 1]);
    }
  });

  document.querySelectorAll("a.claim[data-claim]").forEach(function (link) {
    link.setAttribute("aria-controls", "claim-panel");
    link.setAttribute("aria-expanded", "false");
    link.addEventListener("click", function (event) {
      // Let modified clicks (new tab, new window) follow the link.
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || event.button !== 0) return;
      if (open(link)) event.preventDefault();
    });
  });
  closeButton.addEventListener("click", function () { close(); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden) close();
  });
})();
