// Progressive enhancement for includes/error_summary.html: following a link to a field brings the
// field's label (or its group's legend) into view with it, then focuses the field. Without this script
// the link still leads to the field, its label just above the top of the window.
(function () {
  "use strict";
  document.querySelectorAll(".error-summary a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var input = document.getElementById(decodeURIComponent(link.hash.slice(1)));
      if (!input) return;
      var group = input.closest("fieldset");
      var label = (group && group.querySelector("legend")) ||
        document.querySelector("label[for='" + CSS.escape(input.id) + "']");
      event.preventDefault();
      (label || input).scrollIntoView({ block: "start" });
      input.focus({ preventScroll: true });
    });
  });
})();
