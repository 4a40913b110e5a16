// Search-as-you-type on the "Link a study" page (templates/evidence/curate/link_study.html). The page is a
// plain GET search form that works without this script; with it, the results are fetched as the curator
// types (after a short pause) from the form's data-results-url and put in place, and the address follows
// the query so Back and reload show the same results. No inline script, so the CSP holds.
(function () {
  "use strict";
  var form = document.querySelector("form.study-search[data-results-url]");
  var results = document.getElementById("study-results");
  if (!form || !results || !window.fetch) return;
  var input = form.querySelector("input[name=q]");
  var url = form.getAttribute("data-results-url");
  var PAUSE = 250;
  var timer = null;
  var latest = 0;

  function search() {
    var q = input.value.trim();
    var asked = ++latest;
    var query = q ? "?q=" + encodeURIComponent(q) : "";
    fetch(url + query, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        if (asked !== latest) return; // an answer to an older query arrived late
        results.innerHTML = html; // rendered and escaped by the server's template
        results.setAttribute("data-query", q);
        window.history.replaceState(null, "", form.getAttribute("action") + query);
      })
      .catch(function () {
        // the plain form still works: pressing Search loads the page
      });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, PAUSE);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.clearTimeout(timer);
    search();
  });
})();
