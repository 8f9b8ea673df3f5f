// /api/v1/docs: Swagger UI (vendored under /static/swagger/) on the portal's OpenAPI document.
// A file of its own because the CSP allows no inline script.
//
// Made to pass axe-core with no serious/critical violation (tests/e2e/test_axe_e2e.py), with
// static/api-docs.css for the colours:
//   deepLinking off    the path in an operation's summary is then text, not a link inside
//                      the summary's button (nested-interactive)
//   syntaxHighlight off  the highlighted examples set low-contrast colours in style attributes
//   a11y() after each render: every select/input of Swagger's named (the servers list and
//                      the enum parameters have an empty <label>), headings without a
//                      skipped level (Swagger puts h3/h4 straight under the h1 title), and
//                      the blocks outside Swagger's <main> named regions.
(function () {
  "use strict";

  function nameOf(field) {
    if (field.id === "servers") return "Servers";
    var row = field.closest("tr");
    var name = row && row.querySelector(".parameter__name");
    if (name) return name.textContent.replace(/\*/g, "").trim();
    if (field.closest(".body-param, .opblock-section-request-body")) return "Request body";
    return field.getAttribute("placeholder") || field.getAttribute("title") || field.name ||
      "Value";
  }

  // Swagger puts the operations in its own <main>; the title block and the servers above
  // it are named regions, so no content is outside a landmark.
  var REGIONS = [[".information-container", "Information"], [".schemes-server-container", "Servers"]];

  function a11y(root) {
    REGIONS.forEach(function (pair) {
      var box = root.querySelector(pair[0]);
      if (box && !box.getAttribute("role")) {
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", pair[1]);
      }
    });
    Array.prototype.forEach.call(root.querySelectorAll("select, input:not([type=hidden]), textarea"),
      function (field) {
        if (field.getAttribute("aria-label") || field.getAttribute("aria-labelledby")) return;
        // a label's own words (one that wraps a select also holds the options' text)
        var label = field.labels && field.labels[0];
        var words = label ? label.textContent.replace(field.textContent, "").trim() : "";
        if (words) return;
        var name = nameOf(field);
        if (name) field.setAttribute("aria-label", name);
      });
    // Each heading at most one level below the one before it.
    var previous = 1;
    Array.prototype.forEach.call(root.querySelectorAll("h1, h2, h3, h4, h5, h6"), function (h) {
      var level = Number(h.tagName.slice(1));
      if (level > previous + 1) {
        level = previous + 1;
        h.setAttribute("role", "heading");
        h.setAttribute("aria-level", String(level));
      } else if (h.hasAttribute("aria-level")) {
        level = Number(h.getAttribute("aria-level"));
      }
      previous = level;
    });
  }

  window.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("swagger-ui");
    window.ui = SwaggerUIBundle({
      url: root.dataset.specUrl,
      dom_id: "#swagger-ui",
      deepLinking: false,
      syntaxHighlight: false,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
    });
    var pending = false;
    new MutationObserver(function () {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        a11y(root);
      });
    }).observe(root, { childList: true, subtree: true });
  });
})();
