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

  function close() {
    panel.hidden = true;
    if (opener) {
      opener.setAttribute("aria-expanded", "false");
      opener.focus();
      opener = null;
    }
  }

  document.querySelectorAll("a.claim[data-claim]").forEach(function (link) {
    link.setAttribute("aria-controls", "claim-panel");
    link.setAttribute("aria-expanded", "false");
    link.addEventListener("click", function (event) {
      // Let modified clicks (new tab, new window) follow the link.
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || event.button !== 0) return;
      if (open(link)) event.preventDefault();
    });
  });
  closeButton.addEventListener("click", close);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden) close();
  });
})();
