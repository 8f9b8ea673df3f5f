// Site-wide behaviour. Loaded with `defer`; no inline scripts (the CSP forbids them).
(function () {
  "use strict";

  // The CSRF header comes from hx-headers on <body> (templates/base.html).

  // A failed htmx request (5xx, or no connection): htmx swaps nothing (see htmx-config in
  // base.html), so the form keeps what the user typed; say what happened. The texts come
  // from data attributes rendered by the template, so they are translated.
  function requestError(kind) {
    var box = document.getElementById("request-error");
    if (!box) return;
    box.textContent = box.getAttribute(kind === "send" ? "data-send-error" : "data-response-error");
    box.hidden = false;
  }
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.status >= 500) requestError("response");
  });
  document.addEventListener("htmx:sendError", function () { requestError("send"); });
  document.addEventListener("htmx:afterRequest", function (event) {
    var box = document.getElementById("request-error");
    if (box && event.detail.successful) box.hidden = true;
  });
})();
