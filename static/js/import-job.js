// Follows a background import on its page (templates/admin/evidence/study/import_job.html and
// templates/evidence/curate/import_job.html): asks the job's
// status every few seconds, moves the progress bar, and reloads the page once the job has finished so the
// report shows. Without this script the page reloads itself (a <noscript> refresh).
(function () {
  "use strict";
  var section = document.getElementById("import-job");
  if (!section) return;
  var url = section.getAttribute("data-status-url");
  var every = parseInt(section.getAttribute("data-poll-seconds"), 10) * 1000 || 2000;
  var state = document.getElementById("import-job-state");
  var bar = document.getElementById("import-job-progress");
  var counts = document.getElementById("import-job-counts");

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (status) {
        if (status.finished) {
          window.location.reload();
          return;
        }
        state.textContent = status.state_display;
        if (bar) {
          bar.max = Math.max(status.total, 1);
          bar.value = status.done;
        }
        if (counts) counts.textContent = status.done + " / " + status.total;
        window.setTimeout(poll, every);
      })
      .catch(function () {
        window.setTimeout(poll, every * 2);
      });
  }
  window.setTimeout(poll, every);
})();
