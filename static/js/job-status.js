// Follows a background job shown on the page: while the job runs, asks the page's JSON status
// every few seconds and, once the status changes, reloads the page so it shows the outcome.
// Without JavaScript the page still says the job is running and a reload shows the outcome.
(function () {
  "use strict";

  var POLL_MS = 2000;
  var section = document.querySelector("[data-job-status-url]");
  if (!section) {
    return;
  }
  var url = section.getAttribute("data-job-status-url");
  var shown = section.getAttribute("data-job-status");
  var message = section.querySelector("[data-job-status-message]");

  function check() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (job) {
        if (job.status !== shown) {
          window.location.reload();
          return;
        }
        if (message && job.message) {
          message.textContent = job.message;
        }
        window.setTimeout(check, POLL_MS);
      })
      .catch(function () {
        // A missed answer (a restart, a dropped connection) is tried again a little later.
        window.setTimeout(check, POLL_MS * 3);
      });
  }

  if (section.getAttribute("data-job-running") === "true") {
    window.setTimeout(check, POLL_MS);
  }
})();
