// One date formatter for the console (issue 17), the twin of tickets/console/timefmt.py: a
// <time datetime=... data-rel> reads "3 min ago", "yesterday 14:02", "Mon 14:02", "12 Mar 14:02"
// or "12 Mar 2025", with the exact date and time on hover, in the agent's time zone
// (body[data-tz], their setting) or else the browser's, and in the page's language (<html lang>).
// Everything with data-rel is refreshed every 30 s. Other scripts call:
//   helpdeskTime.formatTime(el)      re-format one <time> element
//   helpdeskTime.timeNode(iso, cls)  a new <time> element for a live-rendered row
//   helpdeskTime.refresh(root)       re-format every <time data-rel> under root
//   helpdeskTime.exact(iso)          the full date and time as text (hover titles, sentences)
(function () {
  "use strict";
  const _ = window.gettext || ((s) => s);
  const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));
  const fill = (s, values) => s.replace(/%\((\w+)\)s/g, (_m, k) => String(values[k]));
  const lang = document.documentElement.lang || undefined;
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  let zone = browserZone;

  // The server renders in the zone it knows; tell it the browser's so the next page's text
  // (before this script runs) already matches when the agent chose none.
  try {
    if (browserZone && !document.cookie.includes(`helpdesk_tz=${encodeURIComponent(browserZone)}`)) {
      document.cookie = `helpdesk_tz=${encodeURIComponent(browserZone)}; path=/; max-age=31536000; samesite=lax`;
    }
  } catch (e) { /* cookies blocked: the server keeps its own zone */ }

  function formatter(options) {
    try { return new Intl.DateTimeFormat(lang, { timeZone: zone, ...options }); }
    catch (e) { return new Intl.DateTimeFormat(undefined, options); }  // an unknown zone or language
  }
  let clock, weekday, dayMonthYear, full, dayKey;
  function setZone(name) {
    zone = name || browserZone;
    clock = formatter({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    weekday = formatter({ weekday: "short" });
    dayMonthYear = formatter({ day: "numeric", month: "short", year: "numeric" });
    full = formatter({ weekday: "long", day: "numeric", month: "long", year: "numeric",
                       hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" });
    dayKey = formatter({ year: "numeric", month: "2-digit", day: "2-digit" });
  }
  // Whole days between two instants as the agent's calendar sees them.
  function dayNumber(date) {
    const parts = Object.fromEntries(dayKey.formatToParts(date).map((p) => [p.type, p.value]));
    return Date.UTC(+parts.year, +parts.month - 1, +parts.day) / 86400000;
  }

  function relative(date, now) {
    const seconds = (now - date) / 1000;
    if (Math.abs(seconds) < 60) return seconds >= 0 ? _("just now") : _("in a moment");
    if (Math.abs(seconds) < 3600) {
      const n = Math.floor(Math.abs(seconds) / 60);
      return seconds > 0 ? fill(ngettext("%(n)s min ago", "%(n)s min ago", n), { n })
        : fill(ngettext("in %(n)s min", "in %(n)s min", n), { n });
    }
    const time = clock.format(date);
    const days = dayNumber(now) - dayNumber(date);
    if (days === 0) return time;
    if (days === 1) return fill(_("yesterday %(time)s"), { time });
    if (days === -1) return fill(_("tomorrow %(time)s"), { time });
    if (days > 1 && days < 7) return `${weekday.format(date)} ${time}`;
    // Day before month ("16 Feb"), as timefmt.py writes it, whatever order the locale prefers.
    const parts = Object.fromEntries(dayMonthYear.formatToParts(date).map((p) => [p.type, p.value]));
    const year = dayMonthYear.formatToParts(now).find((p) => p.type === "year").value;
    return parts.year === year ? `${parts.day} ${parts.month} ${time}` : `${parts.day} ${parts.month} ${parts.year}`;
  }

  function formatTime(node, now) {
    const date = new Date(node.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) return;
    node.textContent = relative(date, now || new Date());
    node.title = full.format(date);
  }
  function exact(iso) { return full.format(new Date(iso)); }
  function timeNode(iso, cls) {
    const node = document.createElement("time");
    if (cls) node.className = cls;
    node.setAttribute("datetime", iso);
    node.dataset.rel = "";
    formatTime(node);
    return node;
  }
  function refresh(root) {
    const now = new Date();
    for (const node of (root || document).querySelectorAll("time[data-rel]")) formatTime(node, now);
  }

  setZone(document.body ? document.body.dataset.tz : "");
  window.helpdeskTime = { formatTime, timeNode, refresh, relative, exact, setZone };
  // The agent chose another zone in another tab or browser: a push to their own consoles
  // (console.js passes it on as helpdesk:notice) carries it; every time is re-written in it.
  document.addEventListener("helpdesk:notice", (event) => {
    const detail = event.detail || {};
    if (typeof detail.time_zone !== "string") return;
    document.body.dataset.tz = detail.time_zone;
    setZone(detail.time_zone);
    refresh();
  });
  function start() {
    setZone(document.body.dataset.tz);
    refresh();
    setInterval(refresh, 30000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
