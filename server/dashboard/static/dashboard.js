// A little help on top of pages that work without it: the owner filter applies when it changes,
// and a "Complete" button cannot be pressed twice while its request runs.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.form) {
        select.form.submit();
      }
    });
  });
  document.querySelectorAll("form.complete").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button");
      if (button) {
        button.disabled = true;
        button.textContent = "Completing…";
      }
    });
  });
});
