// Light or dark (issue 17). Loaded in <head>, before the page paints, so a chosen theme never
// flashes the other one. No choice stored: no data-theme, and CSS follows prefers-color-scheme.
// The header button flips the theme in effect and remembers it in localStorage.
(function () {
  "use strict";
  const KEY = "helpdesk-theme";
  const root = document.documentElement;
  function stored() {
    try { return localStorage.getItem(KEY); } catch (e) { return null; }  // storage may be blocked
  }
  function current() {
    if (root.dataset.theme) return root.dataset.theme;
    return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  const saved = stored();
  if (saved === "light" || saved === "dark") root.dataset.theme = saved;

  function wire() {
    const button = document.getElementById("theme-toggle");
    if (!button) return;
    const show = () => button.setAttribute("aria-pressed", String(current() === "dark"));
    show();
    button.addEventListener("click", () => {
      const next = current() === "dark" ? "light" : "dark";
      root.dataset.theme = next;
      try { localStorage.setItem(KEY, next); } catch (e) { /* still switched for this page */ }
      show();
    });
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", show);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})();
