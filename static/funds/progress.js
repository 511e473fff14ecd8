// Poll the import job's status and move the progress bar; reload when the job is done.
(function () {
  "use strict";
  var box = document.querySelector("[data-status-url]");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("job-progress");
  var percent = document.getElementById("job-percent");
  var message = document.getElementById("job-message");
  var status = document.getElementById("job-status");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { setTimeout(poll, 3000); return; }
        bar.value = data.progress;
        bar.textContent = data.progress + "%";
        percent.textContent = data.progress + "%";
        message.textContent = data.message;
        status.textContent = data.status_display;
        if (data.done) { window.location.reload(); } else { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
