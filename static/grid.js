// Keyboard-first entry for reading grids (SPEC §5).
//
// DOM contract: <form data-grid> containing one <input class="grid-value"> per row,
// in row order, plus <button name="action" value="save"> and
// <button name="action" value="transmit">.
//
//   Enter / ArrowDown     next row's value (text selected); Shift+Enter / ArrowUp previous
//   Ctrl+S  (Cmd+S)       clicks "save" (instead of the browser's save dialog)
//   Ctrl+Enter (Cmd+Enter) clicks "transmit"
//   paste of several lines (e.g. a spreadsheet column; tabs: first column is used)
//                         fills this row and the following ones, firing input+change
//                         so the htmx inline checks run; focus ends on the last filled.
//
// Listeners sit on `document`, so rows swapped in by htmx keep working.
(function () {
  "use strict";

  var GRID = "form[data-grid]";
  var VALUE = "input.grid-value";

  function gridOf(el) {
    if (el && el.closest) {
      var form = el.closest(GRID);
      if (form) return form;
    }
    // Focus outside any grid (e.g. on <body>): use the page's grid if there is one.
    var all = document.querySelectorAll(GRID);
    return all.length === 1 ? all[0] : null;
  }

  // Rows one can move to; disabled inputs cannot take focus.
  function focusable(form) {
    return Array.prototype.filter.call(form.querySelectorAll(VALUE), function (input) {
      return !input.disabled && input.type !== "hidden";
    });
  }

  function focusInput(input) {
    input.focus();
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

  function clickAction(form, action) {
    var button = form.querySelector('button[name="action"][value="' + action + '"]');
    if (button && !button.disabled) button.click();
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

  // One value per line; a tab-separated line contributes its first column.
  // Blank lines keep their position (a blank cell leaves that row untouched),
  // trailing blank lines are dropped. Spaces inside a number ("1 234") are removed.
  function pastedValues(text) {
    var lines = text.replace(/\r\n?/g, "\n").split("\n").map(function (line) {
      return line.split("\t")[0].replace(/[\s\u00a0\u202f]+/g, "");
    });
    while (lines.length && lines[lines.length - 1] === "") lines.pop();
    return lines;
  }

  document.addEventListener("paste", function (event) {
    var target = event.target;
    if (!target.matches || !target.matches(VALUE) || !target.closest(GRID)) return;
    var data = event.clipboardData || window.clipboardData;
    var text = data ? data.getData("text") : "";
    if (!/[\n\r\t]/.test(text)) return; // a single value: the browser's paste is fine

    event.preventDefault();
    var values = pastedValues(text);
    // Fill only editable rows, in order, starting with the one pasted into.
    var inputs = focusable(target.form || gridOf(target)).filter(function (input) {
      return !input.readOnly || input === target;
    });
    var start = inputs.indexOf(target);
    var last = null;
    for (var i = 0; i < values.length && start + i < inputs.length; i++) {
      var input = inputs[start + i];
      if (values[i] === "" || input.readOnly) continue;
      input.value = values[i];
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.dispatchEvent(new Event("change", { bubbles: true }));
      last = input;
    }
    if (last) focusInput(last);
  });
})();
