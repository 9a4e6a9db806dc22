// Smaller / Larger text, remembered on this device (localStorage, nothing sent anywhere).
// Scales the root font size, so every size on the page, all in rem/em, follows; 100% is
// the browser's own default, so its font size setting keeps working. No imports, no
// exports: loaded as a plain script in <head> (before the page paints, so no jump) and
// inlined in the offline Results Overview.
(function () {
  "use strict";
  var KEY = "results-online-text-size";
  var STEPS = [87.5, 100, 112.5, 125, 150, 175, 200];

  function stored() {
    try {
      var value = Number(window.localStorage.getItem(KEY));
      return STEPS.indexOf(value) >= 0 ? value : 100;
    } catch (err) {
      return 100;  // storage blocked (private mode, file:// in some browsers)
    }
  }

  function apply(value) {
    document.documentElement.style.fontSize = value === 100 ? "" : value + "%";
  }

  function change(step) {
    var at = STEPS.indexOf(stored());
    var value = STEPS[Math.min(STEPS.length - 1, Math.max(0, at + step))];
    apply(value);
    try {
      if (value === 100) { window.localStorage.removeItem(KEY); }
      else { window.localStorage.setItem(KEY, String(value)); }
    } catch (err) { /* the size still changes for this page */ }
    announce(value);
  }

  function announce(value) {
    document.querySelectorAll("[data-text-size-now]").forEach(function (el) {
      el.textContent = value === 100 ? "" : "Text size " + value + "%";
    });
  }

  function bind() {
    document.querySelectorAll("[data-text-size]").forEach(function (button) {
      button.addEventListener("click", function () {
        change(Number(button.getAttribute("data-text-size")));
      });
    });
    document.querySelectorAll(".textsize").forEach(function (el) { el.hidden = false; });
  }

  apply(stored());
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", bind);
  } else {
    bind();
  }
}());
