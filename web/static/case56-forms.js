// case56 — "Thêm dòng" / "Xoá dòng" of a legal form's repeatable rows (plan activities, participants) in place,
// without posting the form and reloading the page. A plain file: the Content-Security-Policy allows no inline
// script. Without it the same buttons post the form and the server sends the page back with one row more or
// less (web/formrender.py row_action), scrolled to the row; the names below follow the same rule as there:
// an input is named by its dotted path ("activities.2.end"), its id is "f-" + that path with "." as "-".
(function () {
  "use strict";

  function fieldId(path) { return "f-" + path.replace(/[^A-Za-z0-9_-]/g, "-"); }

  function rowsOf(list) {
    return Array.prototype.filter.call(list.children, function (el) { return el.matches("fieldset.row"); });
  }

  function text(list, key, n) { return (list.getAttribute("data-" + key) || "").replace("{n}", String(n)); }

  var live = null;
  function announce(message) {
    if (!live) {
      live = document.createElement("p");
      live.className = "visually-hidden";
      live.setAttribute("aria-live", "polite");
      document.body.appendChild(live);
    }
    live.textContent = message;
  }

  // Rename one row (and everything inside it, nested lists included) from index `from` to index `to`.
  function renumber(row, path, from, to) {
    var namePrefix = path + "." + from;
    var nameTo = path + "." + to;
    var idPrefix = fieldId(path) + "-" + from;
    var idTo = fieldId(path) + "-" + to;
    function swap(value, prefix, replacement, sep) {
      if (value === prefix) { return replacement; }
      if (value.indexOf(prefix + sep) === 0) { return replacement + value.slice(prefix.length); }
      return value;
    }
    var all = [row].concat(Array.prototype.slice.call(row.querySelectorAll("*")));
    all.forEach(function (el) {
      ["id", "for", "list"].forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v) { el.setAttribute(attr, swap(v, idPrefix, idTo, "-")); }
      });
      var described = el.getAttribute("aria-describedby");
      if (described) {
        el.setAttribute("aria-describedby", described.split(/\s+/).map(function (token) {
          return swap(token, idPrefix, idTo, "-");
        }).join(" "));
      }
      var name = el.getAttribute("name");
      if (name === "_add" || name === "_remove") {
        el.value = swap(el.value, namePrefix, nameTo, ".");
      } else if (name) {
        el.setAttribute("name", swap(name, namePrefix, nameTo, "."));
      }
      var nested = el.getAttribute("data-path");
      if (nested && el !== row) { el.setAttribute("data-path", swap(nested, namePrefix, nameTo, ".")); }
    });
    row.setAttribute("data-index", String(to));
  }

  // Every row of a list numbered 0..n-1 in order, with its legend and remove button saying its number.
  function renumberAll(list) {
    var path = list.getAttribute("data-path");
    rowsOf(list).forEach(function (row, i) {
      var from = parseInt(row.getAttribute("data-index"), 10);
      if (from !== i) { renumber(row, path, from, i); }
      var legend = row.querySelector(":scope > legend");
      if (legend) { legend.textContent = text(list, "row-label", i + 1); }
      var remove = row.querySelector(":scope > .row-actions > button[name='_remove']");
      if (remove) {
        remove.textContent = text(list, "remove-label", i + 1);
        remove.removeAttribute("formaction");  // the no-JavaScript scroll target; not used here
      }
    });
    var add = list.querySelector(":scope > button[name='_add']");
    if (add) { add.removeAttribute("formaction"); }
  }

  // A blank row, as the server renders a new one: no values, no errors, one row in each nested list.
  function clear(row) {
    row.querySelectorAll("fieldset.rows").forEach(function (nested) {
      rowsOf(nested).slice(1).forEach(function (extra) { extra.remove(); });
    });
    row.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
    row.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    if (row.classList.contains("has-error")) { row.classList.remove("has-error"); }
    row.querySelectorAll("input, textarea, select").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      var described = (el.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (token) {
        return token && !/-err$/.test(token);
      });
      if (described.length) { el.setAttribute("aria-describedby", described.join(" ")); }
      else { el.removeAttribute("aria-describedby"); }
      if (el.type === "checkbox") { el.checked = el.defaultChecked = false; }
      else if (el.type === "radio") { el.checked = el.defaultChecked = el.value === ""; }
      else if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.options, function (option) { option.selected = option.defaultSelected = false; });
        el.selectedIndex = 0;
      } else if (el.type !== "hidden" && el.type !== "submit" && el.type !== "button") {
        el.value = "";
        if (el.tagName === "TEXTAREA") { el.textContent = ""; } else { el.removeAttribute("value"); }
      }
    });
    // Re-number the rows of nested lists, the one kept now being row 1.
    row.querySelectorAll("fieldset.rows").forEach(renumberAll);
  }

  function firstInput(row) {
    return row.querySelector("input:not([type=hidden]):not([disabled]), select, textarea");
  }

  function add(list) {
    var rows = rowsOf(list);
    var max = parseInt(list.getAttribute("data-max") || "0", 10);
    if (max && rows.length >= max) { announce(text(list, "full", max)); return; }
    var last = rows[rows.length - 1];
    var row = last.cloneNode(true);
    // Blanked and renamed while still detached: a checked radio inserted under the same name would uncheck
    // the row it was copied from.
    clear(row);
    renumber(row, list.getAttribute("data-path"), parseInt(last.getAttribute("data-index"), 10), rows.length);
    last.after(row);
    renumberAll(list);
    var input = firstInput(row);
    if (input) { input.focus(); }
    announce(text(list, "added", rows.length + 1));
  }

  function remove(list, row) {
    var rows = rowsOf(list);
    var index = rows.indexOf(row);
    if (rows.length === 1) {
      clear(row);  // the server too shows one blank row when the last one goes
    } else {
      row.remove();
    }
    renumberAll(list);
    var left = rowsOf(list);
    var next = left[Math.min(index, left.length - 1)];
    var target = (next && firstInput(next)) || list.querySelector(":scope > button[name='_add']");
    if (target) { target.focus(); }
    announce(text(list, "removed", left.length));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[name='_add'], button[name='_remove']");
    if (!button || !button.form) { return; }
    var list = button.closest("fieldset.rows[data-path]");
    if (!list) { return; }
    event.preventDefault();
    if (button.name === "_add") { add(list); } else { remove(list, button.closest("fieldset.row")); }
  });
}());
