/* Guardrail's page behaviour. The Content-Security-Policy allows no inline script, event handler or style
   attribute, so templates say what they want with data attributes and this file does it:
     <form data-confirm="Delete X?">          asks before submitting (cancel: nothing is sent)
     <select data-reload-with="version">      reloads the page with ?version=<the chosen value>
     <select data-autosubmit>                 submits its form when changed
     <button data-back>                       goes back one page
     <el data-width="42%">                    sets the element's width (bars and charts); % or px only
     <button data-copy="#id">                 copies the text of #id (an input's value) to the clipboard
   It works on the page as loaded and on whatever htmx swaps in. */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target.closest ? event.target.closest("form[data-confirm]") : null;
    if (form && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches("select[data-reload-with]")) {
      var query = new URLSearchParams();
      query.set(el.getAttribute("data-reload-with"), el.value);
      window.location.search = query.toString();
    } else if (el.matches("select[data-autosubmit]") && el.form) {
      el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
    }
  });

  document.addEventListener("click", function (event) {
    var back = event.target.closest ? event.target.closest("[data-back]") : null;
    if (back) {
      event.preventDefault();
      window.history.back();
    }
    var copy = event.target.closest ? event.target.closest("[data-copy]") : null;
    var source = copy ? document.querySelector(copy.getAttribute("data-copy")) : null;
    if (source && navigator.clipboard) {
      event.preventDefault();
      navigator.clipboard.writeText("value" in source ? source.value : source.textContent).then(function () {
        copy.textContent = "Copied";
      });
    }
  });

  var LENGTH = /^\d+(\.\d+)?(%|px)$/;

  function applyWidths(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var nodes = Array.prototype.slice.call(scope.querySelectorAll("[data-width]"));
    if (scope.matches && scope.matches("[data-width]")) nodes.push(scope);
    nodes.forEach(function (el) {
      var width = el.getAttribute("data-width");
      if (LENGTH.test(width)) el.style.width = width;  // CSSOM: allowed by the policy, unlike style=""
    });
  }

  document.addEventListener("DOMContentLoaded", function () { applyWidths(document); });
  document.addEventListener("htmx:load", function (event) { applyWidths(event.target); });
})();
