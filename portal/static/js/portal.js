// Small enhancements; every page works without them (the CSP forbids inline scripts).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

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

  // Live character counter for text areas that declare data-counter.
  function setUpCounters() {
    document.querySelectorAll("textarea[data-counter]").forEach(function (area) {
      var out = document.getElementById(area.getAttribute("data-counter"));
      if (!out) return;
      var max = out.getAttribute("data-max");
      var template = out.getAttribute("data-template");
      var update = function () {
        out.textContent = template.replace("{n}", area.value.length).replace("{max}", max);
        out.classList.toggle("text-danger", area.value.length > max * 0.95);
      };
      area.addEventListener("input", update);
      update();
    });
  }

  // Copy and print buttons on the receipt.
  function setUpReceipt() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.querySelector(button.getAttribute("data-copy"));
        if (!source || !navigator.clipboard) return;
        var text = "value" in source ? source.value : source.textContent;
        navigator.clipboard.writeText(text.trim()).then(function () {
          button.textContent = button.getAttribute("data-copied");
        });
      });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  // One click, one submission: a second click while the first is on its way does nothing.
  function setUpSubmitOnce() {
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.submitting === "1") { event.preventDefault(); return; }
        form.dataset.submitting = "1";
        window.setTimeout(function () { form.dataset.submitting = ""; }, 8000);
      });
    });
  }

  // The clause-by-clause review and similar pages: keys to step between items.
  function setUpKeySteps() {
    var next = document.querySelector("[data-key-next]");
    var prev = document.querySelector("[data-key-prev]");
    if (!next && !prev) return;
    document.addEventListener("keydown", function (event) {
      var tag = (event.target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "textarea" || tag === "select" || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "j" && next) { window.location.href = next.href; }
      if (event.key === "k" && prev) { window.location.href = prev.href; }
    });
  }

  // On a phone the table of contents starts folded, so the text comes first.
  function foldContentsOnPhones() {
    var box = document.querySelector("details.toc-box");
    if (box && window.matchMedia("(max-width: 575.98px)").matches && !window.location.hash) {
      box.removeAttribute("open");
    }
  }

  // A job's page follows its progress and shows the result when it is ready.
  function setUpJobStatus() {
    var box = document.querySelector("[data-job-status]");
    if (!box || !window.fetch) return;
    var url = box.getAttribute("data-job-status");
    var bar = box.querySelector("[data-job-progress]");
    var count = box.querySelector("[data-job-count]");
    var delay = 1000;
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (job) {
          if (!job) return;
          if (job.finished || job.state !== box.getAttribute("data-job-state")) {
            window.location.reload();
            return;
          }
          if (bar && job.percent !== null) bar.value = job.percent;
          if (count) count.textContent = job.count_text;
          delay = Math.min(delay * 1.3, 5000);
          window.setTimeout(poll, delay);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    window.setTimeout(poll, delay);
  }

  window.addEventListener("hashchange", focusTarget);
  document.addEventListener("DOMContentLoaded", function () {
    foldContentsOnPhones();
    focusTarget();
    setUpCounters();
    setUpReceipt();
    setUpSubmitOnce();
    setUpKeySteps();
    setUpJobStatus();
  });
})();
