// Smaller / Larger text, remembered on this device (localStorage, nothing sent anywhere).
// Scales the root font size, so every size on the page, all in rem/em, follows; 100% is
// the browser's own default, so its font size setting keeps working. The one classic
// script (no imports, no exports), on purpose: it runs in <head> before the page paints,
// so the size does not jump, which a module (always deferred) cannot do; the offline
// Results Overview inlines it.
(() => {
  "use strict";
  const KEY = "results-online-text-size";
  const STEPS = [87.5, 100, 112.5, 125, 150, 175, 200];

  const stored = () => {
    try {
      const value = Number(window.localStorage.getItem(KEY));
      return STEPS.includes(value) ? value : 100;
    } catch {
      return 100;  // storage blocked (private mode, file:// in some browsers)
    }
  };

  const apply = (value) => {
    document.documentElement.style.fontSize = value === 100 ? "" : `${value}%`;
  };

  const announce = (value) => {
    for (const el of document.querySelectorAll("[data-text-size-now]")) {
      el.textContent = value === 100 ? "" : `Text size ${value}%`;
    }
  };

  const change = (step) => {
    const at = STEPS.indexOf(stored());
    const value = STEPS[Math.min(STEPS.length - 1, Math.max(0, at + step))];
    apply(value);
    try {
      if (value === 100) window.localStorage.removeItem(KEY);
      else window.localStorage.setItem(KEY, String(value));
    } catch { /* the size still changes for this page */ }
    announce(value);
  };

  const bind = () => {
    for (const button of document.querySelectorAll("[data-text-size]")) {
      button.addEventListener("click", () => change(Number(button.dataset.textSize)));
    }
    for (const el of document.querySelectorAll(".textsize")) el.hidden = false;
  };

  apply(stored());
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", bind);
  else bind();
})();
