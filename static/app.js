// Site-wide behaviour. Loaded with `defer`; no inline scripts (the CSP forbids them).
(function () {
  "use strict";

  // Send the CSRF token with every htmx request. Read per request, so a token
  // rotated by a swapped-in <meta name="csrf-token"> (e.g. after login) is used.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      event.detail.headers["X-CSRFToken"] = meta.content;
    }
  });
})();
