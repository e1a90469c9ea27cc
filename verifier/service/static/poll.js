/* Live status of one OpenID4VP request: polls the page's own status route (state only) and
   moves to the result page once the wallet has answered, failed or the request expired. */
(function () {
  "use strict";
  var box = document.getElementById("live-status");
  if (!box || !window.fetch) { return; }
  var statusUrl = box.getAttribute("data-status-url");
  var resultUrl = box.getAttribute("data-result-url");
  var line = box.querySelector("[data-status-text]");
  var delay = 2000;

  function show(state) {
    var text = box.getAttribute("data-text-" + state);
    if (text && line) { line.textContent = text; }
  }

  function tick() {
    fetch(statusUrl, { credentials: "same-origin", cache: "no-store",
                       headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body && typeof body.state === "string" && body.state !== "pending") {
          show(body.state);
          window.location.assign(resultUrl);
          return;
        }
        window.setTimeout(tick, delay);
      })
      .catch(function () { window.setTimeout(tick, delay * 2); });
  }

  window.setTimeout(tick, delay);
}());
