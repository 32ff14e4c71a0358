// Small enhancements; every page works without them (the CSP forbids inline scripts).
(function () {
  "use strict";
  // After a jump from the table of contents, move keyboard focus to the article.
  function focusTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    if (!id) return;
    var el = document.getElementById(id);
    if (el && el.classList.contains("article")) {
      el.setAttribute("tabindex", "-1");
      el.focus({ preventScroll: true });
    }
  }
  window.addEventListener("hashchange", focusTarget);
  document.addEventListener("DOMContentLoaded", focusTarget);
})();
