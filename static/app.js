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
  // Focus after an htmx swap (issue 19 item 8). The answer marks where focus goes with
  // `autofocus` (an error summary, the first invalid field, a result or a status line) and
  // htmx focuses it. Whatever else leaves focus on <body> — the focused element was
  // swapped away — lands on <main> (tabindex=-1), so the next Tab continues in the content,
  // never from the top of the page.
  document.addEventListener("htmx:afterSettle", function () {
    window.setTimeout(function () {
      var active = document.activeElement;
      if (active && active !== document.body && document.contains(active)) return;
      var main = document.getElementById("main");
      if (main) main.focus({ preventScroll: true });
    }, 0);
  });

  // Phones: the menu is one line that scrolls sideways; show its current item.
  document.addEventListener("DOMContentLoaded", function () {
    var current = document.querySelector("nav.menu [aria-current=page]");
    var menu = current && current.parentElement;
    if (menu && menu.scrollWidth > menu.clientWidth) {
      menu.scrollLeft = current.offsetLeft - (menu.clientWidth - current.offsetWidth) / 2;
    }
  });
})();
