// case56 — bring the interesting part of a process diagram into view: the drawing is wider than the page,
// so scroll each .diagram box to the step waiting now (or, for a finished case, the furthest step taken).
// A plain file (the Content-Security-Policy allows no inline script); the page works without it.
(function () {
  "use strict";
  function focus(box) {
    var svg = box.querySelector("svg");
    if (!svg) { return; }
    var marks = svg.querySelectorAll('[data-state="current"]:not([data-kind="flow"])');
    if (!marks.length) { marks = svg.querySelectorAll('[data-state="done"]:not([data-kind="flow"])'); }
    var target = null;
    var right = -Infinity;
    Array.prototype.forEach.call(marks, function (mark) {
      var rect = mark.getBoundingClientRect();
      // The leftmost waiting step, or the rightmost step taken.
      var score = mark.getAttribute("data-state") === "current" ? -rect.left : rect.right;
      if (score > right) { right = score; target = rect; }
    });
    if (!target) { return; }
    var frame = box.getBoundingClientRect();
    box.scrollLeft += target.left - frame.left - box.clientWidth / 3;
    box.scrollTop += target.top - frame.top - box.clientHeight / 3;
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll(".diagram"), focus);
  });
}());
