// Reading grids (SPEC §5, issue 19): keyboard-first entry for hundreds of meters, and nothing
// typed is ever lost. Without JavaScript the grid is a plain form that works as well.
//
// DOM contract (templates/readings/grid.html): <form data-grid data-draft="user:contract:kind:
// period"> with one <input class="grid-value" data-stored> and <input class="grid-date"
// data-stored> per row (data-stored: what the database holds), the buttons
// <button name="action" value="save|transmit">, the hidden button #paste-submit, the
// sticky bar #grid-bar (#grid-counter, #grid-message, #first-error), the tools #grid-tools,
// and #grid-live outside #grid: the one polite live region.
//
//   Enter / ArrowDown     next visible row's value; Shift+Enter / ArrowUp previous
//   Ctrl+S  (Cmd+S)       «Сохранить значения»;  Ctrl+Enter (Cmd+Enter) «Передать значения»
//   paste of a block      the grid form goes to /paste with it: the server matches the rows
//                         by a meter column, or fills them in order (app/domain/spreadsheet.py)
//   typing                kept as a draft in localStorage until it is saved (values, dates and
//                         the ticked rollover/anomaly confirmations); restored on load; a
//                         warning before leaving the page with unsaved values
//
// Listeners sit on `document`, so a grid swapped in by htmx keeps working.
(function () {
  "use strict";

  var GRID = "form[data-grid]";
  var VALUE = "input.grid-value";
  var DRAFT_DAYS = 30;

  function gridOf(el) {
    if (el && el.closest) {
      var form = el.closest(GRID);
      if (form) return form;
    }
    // Focus outside any grid (e.g. on <body>): use the page's grid if there is one.
    var all = document.querySelectorAll(GRID);
    return all.length === 1 ? all[0] : null;
  }

  function rowOf(input) {
    return input.closest("tr");
  }

  function dateOf(valueInput) {
    return document.getElementById("date-" + valueInput.id.slice("value-".length));
  }

  // Rows one can move to: drawn (not a hidden input carrying another page's row of a long
  // grid), not disabled, not filtered out.
  function focusable(form) {
    return Array.prototype.filter.call(form.querySelectorAll(VALUE), function (input) {
      return input.type !== "hidden" && !input.disabled && !rowOf(input).hidden;
    });
  }

  function text(form, name, values) {
    var s = form.getAttribute("data-" + name) || "";
    Object.keys(values || {}).forEach(function (key) {
      s = s.replace("{" + key + "}", values[key]);
    });
    return s;
  }

  // ---------------------------------------------------------------- announcing

  function announce(message) {
    var live = document.getElementById("grid-live");
    if (!live || !message) return;
    live.textContent = "";
    // A new text node a moment later: the same sentence twice is announced twice.
    window.setTimeout(function () { live.textContent = message; }, 60);
  }

  // ---------------------------------------------------------------- scrolling and focus

  // The element whose scrolling moves the rows: the grid's own box when it scrolls (narrow
  // screens), else the page.
  function scrollBox(el) {
    var box = el.closest(".grid-scroll");
    return box && box.scrollHeight > box.clientHeight + 1 &&
      /(auto|scroll)/.test(getComputedStyle(box).overflowY) ? box : null;
  }

  function scrollByPx(el, dy) {
    var box = scrollBox(el);
    if (box) box.scrollTop += dy;
    else window.scrollBy(0, dy);
  }

  // Keep an input clear of the sticky table header and the sticky action bar.
  function ensureVisible(input) {
    var r = input.getBoundingClientRect();
    var box = scrollBox(input);
    var top = box ? box.getBoundingClientRect().top : 0;
    var bottom = box ? box.getBoundingClientRect().bottom : window.innerHeight;
    var head = input.closest("table").tHead;
    if (head) top = Math.max(top, head.getBoundingClientRect().bottom);
    var bar = document.getElementById("grid-bar");
    if (bar && !box) bottom = Math.min(bottom, bar.getBoundingClientRect().top);
    var cell = input.closest("td").getBoundingClientRect();
    var margin = 8;
    if (cell.bottom > bottom - margin) scrollByPx(input, cell.bottom - bottom + margin);
    else if (r.top < top + margin) scrollByPx(input, r.top - top - margin);
  }

  function focusInput(input) {
    input.focus({ preventScroll: true });
    ensureVisible(input);
    try {
      input.select();
    } catch (e) {
      /* some input types do not support selection */
    }
  }

  function move(input, step) {
    var inputs = focusable(input.form || gridOf(input));
    var next = inputs[inputs.indexOf(input) + step];
    if (next) focusInput(next);
  }

  // ---------------------------------------------------------------- drafts

  function draftKey(form) {
    var key = form.getAttribute("data-draft");
    return key ? "grid-draft:" + key : null;
  }

  function isDirty(valueInput) {
    if (valueInput.readOnly) return false;
    var value = valueInput.value.trim();
    var date = dateOf(valueInput);
    if (value !== (valueInput.getAttribute("data-stored") || "")) return true;
    return value !== "" && date && date.value.trim() !== (date.getAttribute("data-stored") || "");
  }

  function dirtyInputs(form) {
    return Array.prototype.filter.call(form.querySelectorAll(VALUE), isDirty);
  }

  // Confirmations waiting for their question: a restored value is checked again, and the
  // check's answer brings the rollover/anomaly box, unticked; the draft's tick goes on it then.
  var pendingTicks = {};

  // The rollover/anomaly confirmations ticked in a row (the boxes the inline check asks for).
  // A restored tick whose question has not come back yet still counts.
  function ticks(input) {
    var tr = rowOf(input);
    if (!tr) return []; // a row of another page of a long grid: its ticks are not drafted
    var names = Array.prototype.filter.call(
      tr.querySelectorAll("label.confirm input"),
      function (box) { return box.checked; }).map(function (box) { return box.name; });
    var pending = pendingTicks[input.id.slice("value-".length)];
    return pending && pending.value === input.value ? names.concat(pending.names) : names;
  }

  // Keep the unsaved rows: [value, date, ticked confirmation names]. True when whatever is
  // unsaved is now in the draft (nothing to keep counts too), false when storage refused it.
  function saveDraft(form) {
    var key = draftKey(form);
    if (!key) return false;
    var rows = {};
    var dirty = dirtyInputs(form);
    dirty.forEach(function (input) {
      var date = dateOf(input);
      rows[input.id.slice("value-".length)] = [input.value, date ? date.value : "", ticks(input)];
    });
    try {
      if (dirty.length) localStorage.setItem(key, JSON.stringify({ t: Date.now(), rows: rows }));
      else localStorage.removeItem(key);
      return true;
    } catch (e) {
      /* storage full or disabled: the warning before leaving still protects the values */
      return false;
    }
  }

  function readDraft(form) {
    var key = draftKey(form);
    if (!key) return null;
    try {
      var draft = JSON.parse(localStorage.getItem(key) || "null");
      if (draft && Date.now() - draft.t < DRAFT_DAYS * 864e5) return draft.rows;
      localStorage.removeItem(key);
    } catch (e) {
      /* unreadable: ignore */
    }
    return null;
  }

  function applyTicks(tr, names) {
    var left = [];
    names.forEach(function (name) {
      var box = tr.querySelector('label.confirm input[name="' + name + '"]');
      if (box) box.checked = true;
      else left.push(name);
    });
    return left;
  }

  // Put back what was typed and not saved; each restored row gets its inline check.
  function restoreDraft(form) {
    var rows = readDraft(form);
    if (!rows) return;
    var restored = [];
    Object.keys(rows).forEach(function (id) {
      var input = document.getElementById("value-" + id);
      if (!input || input.readOnly || input.form !== form) return;
      // Only over what the database holds: a page that came back with typed values (after
      // a no-JavaScript POST) already shows the newer text.
      if (input.value !== (input.getAttribute("data-stored") || "")) return;
      var date = dateOf(input);
      input.value = rows[id][0];
      if (date && rows[id][1]) date.value = rows[id][1];
      if (isDirty(input)) {
        restored.push(input);
        var left = rowOf(input) ? applyTicks(rowOf(input), rows[id][2] || []) : [];
        if (left.length) pendingTicks[id] = { value: input.value, names: left };
      }
    });
    restored.forEach(function (input) {
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
    if (restored.length) {
      var message = text(form, "restored", { count: restored.length });
      var note = document.createElement("p");
      note.className = "flash flash-info";
      note.id = "grid-draft-note";
      note.textContent = message;
      var bar = document.getElementById("grid-bar");
      if (bar) bar.appendChild(note);
      announce(message);
    }
    saveDraft(form);
  }

  // Leaving with unsaved values asks first — except where the values come back by
  // themselves, from the draft: the language switch (the same grid again), the contract and
  // period selector (the draft is per contract and period: going back to that grid puts the
  // values back, with the «Восстановлены…» note) and the login that an expired session leads
  // to (back to this grid after it). Only when the draft really holds them: with storage
  // full or disabled those ask too.
  var leavingSafely = false;
  window.addEventListener("beforeunload", function (event) {
    var form = gridOf(null);
    if (leavingSafely || !form || !dirtyInputs(form).length) return;
    event.preventDefault();
    event.returnValue = "";
  });
  document.addEventListener("submit", function (event) {
    var target = event.target;
    // «Скачать шаблон» is a native POST of the grid form (a file download, the page stays):
    // stopped here, in the capture phase, before htmx on the form turns it into a swap.
    // The download does not leave the page, so the warning about unsaved values is not
    // asked for that one navigation.
    if (event.submitter && event.submitter.id === "template-button") {
      event.stopPropagation();
      leavingSafely = true;
      window.setTimeout(function () { leavingSafely = false; }, 2000);
      return;
    }
    if (!target.closest || !target.closest(".lang-switch, form.grid-select")) return;
    // A contract or period chosen: the next grid opens with the focus in its first empty
    // row, not 14+ Tabs away behind the header, menu and selector (issue 19 item 8).
    if (target.closest("form.grid-select")) {
      try { window.sessionStorage.setItem("grid-focus", "1"); } catch (e) { /* no storage */ }
    }
    var form = gridOf(null);
    leavingSafely = !form || saveDraft(form);
  }, true);
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.status === 401) leavingSafely = true;
  });

  // ---------------------------------------------------------------- counter, filter, errors

  function hasError(tr) {
    if (tr.classList.contains("row-error") || tr.querySelector('[aria-invalid="true"]')) return true;
    var box = tr.querySelector("label.confirm input");
    return !!(box && !box.checked);
  }

  function updateCounter(form) {
    var inputs = form.querySelectorAll(VALUE);
    var filled = Array.prototype.filter.call(inputs, function (i) { return i.value.trim(); });
    var counter = document.getElementById("grid-counter");
    if (counter) {
      counter.textContent = text(form, "filled", { filled: filled.length, total: inputs.length });
    }
    var first = document.getElementById("first-error");
    if (first) {
      first.hidden = !Array.prototype.some.call(form.querySelectorAll("tbody tr"), hasError);
    }
  }

  var filter = { q: "", show: "all" };

  function rowText(tr) {
    var cells = tr.querySelectorAll("td.serial, td.addr");
    return Array.prototype.map.call(cells, function (td) { return td.textContent; })
      .join(" ").toLowerCase();
  }

  function applyFilter(form) {
    var rows = form.querySelectorAll("tbody tr");
    var q = filter.q.trim().toLowerCase();
    var shown = 0;
    Array.prototype.forEach.call(rows, function (tr) {
      var input = tr.querySelector(VALUE);
      var ok = (!q || rowText(tr).indexOf(q) !== -1) &&
        (filter.show !== "empty" || (input && !input.value.trim())) &&
        (filter.show !== "errors" || hasError(tr));
      tr.hidden = !ok;
      if (ok) shown += 1;
    });
    var out = document.getElementById("grid-shown");
    var active = q || filter.show !== "all";
    if (out) out.textContent = active ? text(form, "shown", { shown: shown, total: rows.length }) : "";
    return shown;
  }

  function firstErrorInput(form) {
    var tr = Array.prototype.find.call(form.querySelectorAll("tbody tr"), function (row) {
      return !row.hidden && hasError(row);
    });
    if (!tr) return null;
    return tr.querySelector('input[aria-invalid="true"]') || tr.querySelector(VALUE);
  }

  // ---------------------------------------------------------------- a grid on the page

  function setUp(form, swapped) {
    var tools = document.getElementById("grid-tools");
    if (tools) {
      tools.hidden = false;
      document.getElementById("grid-search").value = filter.q;
      document.getElementById("grid-show").value = filter.show;
      applyFilter(form);
    }
    updateCounter(form);
    if (!swapped) {
      restoreDraft(form);
      updateCounter(form);
      focusAfterSelector(form);
      return;
    }
    saveDraft(form);
    var message = document.getElementById("grid-message");
    var notes = document.getElementById("file-notes");
    if (message) announce(message.textContent.trim() + (notes ? " " + notes.textContent.trim() : ""));
    // Focus: the row a paste went into, else the first invalid field, else the result.
    var focusId = form.getAttribute("data-focus");
    var target = focusId && document.getElementById("value-" + focusId);
    if (!target && message && message.classList.contains("flash-error")) target = firstErrorInput(form);
    if (target) focusInput(target);
    else if (message) message.focus({ preventScroll: true });
  }

  function focusAfterSelector(form) {
    var asked = false;
    try {
      asked = window.sessionStorage.getItem("grid-focus") === "1";
      window.sessionStorage.removeItem("grid-focus");
    } catch (e) { /* no storage: no focus move */ }
    if (!asked) return;
    var inputs = focusable(form).filter(function (input) { return !input.readOnly; });
    var empty = inputs.filter(function (input) { return !input.value.trim(); });
    var first = empty[0] || inputs[0];
    if (first) focusInput(first);
  }

  var currentGrid = null;

  function scan(swapped) {
    var form = document.querySelector(GRID);
    if (!form || form === currentGrid) return;
    currentGrid = form;
    setUp(form, swapped);
  }

  // After htmx has processed the page (its DOMContentLoaded handler was registered first,
  // by the earlier deferred script): a restored row's input event must reach the row's
  // hx-trigger to get its inline check. A deferred script runs while readyState is already
  // "interactive", before DOMContentLoaded, so that is not a sign htmx is ready. `load` is a
  // fallback for a script that came late (scan runs once per grid).
  if (document.readyState === "complete") {
    scan(false);
  } else {
    document.addEventListener("DOMContentLoaded", function () { scan(false); });
    window.addEventListener("load", function () { scan(false); });
  }

  // ---------------------------------------------------------------- htmx swaps

  function isCheck(detail) {
    var config = detail && detail.requestConfig;
    return !!(config && /\/check\?/.test(config.path || ""));
  }

  // The inline check may add a question or a message to a row above the one being typed
  // in; the focused input must not move: whatever grew above it is scrolled away.
  var anchor = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    anchor = isCheck(event.detail) && active && active.closest && active.closest(GRID)
      ? { el: active, top: active.getBoundingClientRect().top } : null;
  });

  function syncInvalid(tr) {
    Array.prototype.forEach.call(tr.querySelectorAll("input.grid-value, input.grid-date"), function (input) {
      var message = document.getElementById(input.getAttribute("aria-describedby"));
      if (message && message.textContent.trim()) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (anchor && anchor.el.isConnected) {
      var dy = anchor.el.getBoundingClientRect().top - anchor.top;
      if (Math.abs(dy) >= 1) scrollByPx(anchor.el, dy);
    }
    anchor = null;
    if (isCheck(event.detail)) {
      var tr = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("tr");
      if (!tr) return;
      var id = tr.id.slice("row-".length);
      var pending = pendingTicks[id];
      if (pending) {
        var input = tr.querySelector(VALUE);
        // Ticks belong to the value they were given for: a value typed since drops them.
        var left = input && input.value === pending.value ? applyTicks(tr, pending.names) : [];
        if (left.length) pending.names = left;
        else delete pendingTicks[id];
        saveDraft(tr.closest(GRID));
      }
      syncInvalid(tr);
      updateCounter(tr.closest(GRID));
      // Only what needs the user: an error or a question, said once, politely.
      var says = Array.prototype.map.call(
        tr.querySelectorAll(".field-error, .row-question"),
        function (el) { return el.textContent.trim(); }).filter(Boolean);
      var first = tr.querySelector("td");
      if (says.length) announce((first ? first.textContent.trim() + ": " : "") + says.join(" "));
      return;
    }
    scan(true);
  });

  document.addEventListener("htmx:afterRequest", function () {
    var form = gridOf(null);
    if (form && form.elements.pasted) {
      form.elements.pasted.value = "";
      form.elements.paste_order.value = "";
      form.elements.paste_start.value = "";
    }
  });

  // ---------------------------------------------------------------- typing

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target.id === "grid-search") {
      filter.q = target.value;
      applyFilter(gridOf(target));
      return;
    }
    var form = target.closest && target.closest(GRID);
    if (!form || !target.matches("input.grid-value, input.grid-date")) return;
    // A tick confirms the value it was given for («прошёл через ноль», «показание верное»):
    // a value typed since needs its own, so the row's boxes are cleared before its check
    // asks again. Only for what the user types, not for a draft being put back.
    if (event.isTrusted && target.matches(VALUE)) {
      Array.prototype.forEach.call(rowOf(target).querySelectorAll("label.confirm input"),
        function (box) { box.checked = false; });
    }
    saveDraft(form);
    updateCounter(form);
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.id === "grid-show") {
      filter.show = target.value;
      var form = gridOf(target);
      applyFilter(form);
      return;
    }
    if (target.matches && target.matches("label.confirm input")) {
      var grid = gridOf(target);
      saveDraft(grid);  // the tick is part of the draft (a reload keeps it)
      updateCounter(grid);
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#first-error");
    if (!button) return;
    var form = gridOf(button);
    var input = firstErrorInput(form);
    if (!input && filter.show !== "all") {
      filter.show = "all";
      document.getElementById("grid-show").value = "all";
      applyFilter(form);
      input = firstErrorInput(form);
    }
    if (input) focusInput(input);
  });

  function clickAction(form, action) {
    var button = form.querySelector('button[name="action"][value="' + action + '"]');
    if (!button) return;
    if (!button.disabled) {
      button.click();
      return;
    }
    var reason = document.getElementById(button.getAttribute("aria-describedby"));
    if (reason) announce(reason.textContent.trim());
  }

  function isSaveKey(event) {
    // event.code is layout independent (Ctrl+S also on a Russian layout: «ы»).
    return event.code === "KeyS" || /^[sы]$/i.test(event.key);
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing || event.altKey) return;
    var target = event.target;
    var mod = event.ctrlKey || event.metaKey;

    if (mod && (isSaveKey(event) || event.key === "Enter")) {
      var form = gridOf(target);
      if (!form) return;
      event.preventDefault();
      clickAction(form, event.key === "Enter" ? "transmit" : "save");
      return;
    }

    if (mod || !target.matches || !target.matches(VALUE) || !target.closest(GRID)) return;
    if (event.key === "Enter" || event.key === "ArrowDown" || event.key === "ArrowUp") {
      // Also stops Enter from submitting the form and arrows from stepping numbers.
      event.preventDefault();
      move(target, event.key === "ArrowUp" || (event.key === "Enter" && event.shiftKey) ? -1 : 1);
    }
  });

  // ---------------------------------------------------------------- paste

  // A block (several lines or cells) goes to the server with the grid form: it matches the
  // rows by a «Код прибора»/serial column or fills them in order from this row, the way an
  // uploaded file is matched (one rule: app/domain/spreadsheet.py fill_from_paste).
  document.addEventListener("paste", function (event) {
    var target = event.target;
    if (!target.matches || !target.matches(VALUE) || !target.closest(GRID)) return;
    var data = event.clipboardData || window.clipboardData;
    var block = data ? data.getData("text") : "";
    if (!/[\n\r\t]/.test(block.replace(/[\r\n]+$/, ""))) return; // one value: the browser pastes
    event.preventDefault();
    var form = target.form;
    var submit = document.getElementById("paste-submit");
    if (!submit || !window.htmx) return;
    var rows = focusable(form);
    var order = rows.slice(Math.max(0, rows.indexOf(target)))
      .filter(function (input) { return !input.readOnly; });
    form.elements.pasted.value = block;
    form.elements.paste_order.value = order.map(function (i) { return i.id.slice(6); }).join(",");
    form.elements.paste_start.value = target.id.slice("value-".length);
    saveDraft(form);
    submit.click();
  });
})();
