// Service-level badges in the console: "due in 14 min" / "overdue 5 min", counting down in the
// browser from the deadline the server gave, re-read when an event says the ticket changed
// (the console script re-renders the queue on events; this fills in the badges). No polling.
(() => {
  "use strict";
  const script = document.currentScript;
  const base = script.dataset.base;
  const body = document.body;
  const page = body.dataset.page;
  const me = body.dataset.user;
  const ticketId = body.dataset.ticket;
  const _ = window.gettext || ((s) => s);
  const fmt = (s, o) => (window.interpolate ? window.interpolate(s, o, true) : s);
  let skew = 0; // server clock minus browser clock, ms

  function span(ms) {
    const seconds = Math.floor(ms / 1000);
    if (seconds < 60) return fmt(_("%(n)s s"), { n: seconds });
    const minutes = Math.floor(seconds / 60);
    const d = Math.floor(minutes / 1440), h = Math.floor((minutes % 1440) / 60), m = minutes % 60;
    if (d) return fmt(_("%(d)s d %(h)s h"), { d, h });
    if (h) return fmt(_("%(h)s h %(m)s min"), { h, m });
    return fmt(_("%(m)s min"), { m });
  }
  function tick() {
    const now = Date.now() + skew;
    for (const node of document.querySelectorAll(".sla-badge[data-due]")) {
      const left = Date.parse(node.dataset.due) - now;
      const warned = node.dataset.warn && now >= Date.parse(node.dataset.warn);
      node.textContent = left > 0 ? fmt(_("due in %(t)s"), { t: span(left) }) : fmt(_("overdue %(t)s"), { t: span(-left) });
      node.classList.toggle("sla-overdue", left <= 0);
      node.classList.toggle("sla-warn", left > 0 && !!warned);
      node.classList.toggle("sla-ok", left > 0 && !warned);
      // The exact deadline as every console time shows it (console/time.js), in the agent's zone.
      node.title = window.helpdeskTime ? window.helpdeskTime.exact(node.dataset.due) : node.dataset.due;
    }
  }
  function syncClock(serverNow) {
    if (serverNow) skew = Date.parse(serverNow) - Date.now();
  }
  function badge(due, warn, kind) {
    const node = document.createElement("span");
    node.className = "sla-badge";
    node.dataset.due = due;
    if (warn) node.dataset.warn = warn;
    if (kind) node.dataset.kind = kind;
    return node;
  }
  function debounce(fn, ms) {
    let timer = null;
    return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  // ---- queue rows: one request for every row on screen, after each (re-)render -------------
  async function queueBadges() {
    const rows = [...document.querySelectorAll("#queue tr[data-ticket]")];
    if (!rows.length) return;
    const ids = rows.map((r) => r.dataset.ticket).join(",");
    const response = await fetch(`${base}badges/?ids=${ids}`, { credentials: "same-origin" });
    if (!response.ok) return;
    const data = await response.json();
    syncClock(data.now);
    for (const row of rows) {
      const cell = row.querySelector("td.subject");
      const old = cell && cell.querySelector(".sla-badge");
      if (old) old.remove();
      const b = data.badges[row.dataset.ticket];
      if (cell && b) cell.append(" ", badge(b.due, b.warn, b.kind));
    }
    tick();
  }

  // ---- ticket page: the header badge and the list of targets --------------------------------
  async function ticketTargets() {
    const response = await fetch(`${base}tickets/${ticketId}/`, { credentials: "same-origin" });
    if (!response.ok) return;
    const holder = document.createElement("div");
    holder.innerHTML = await response.text();
    const panel = holder.querySelector("#sla-targets");
    const head = document.querySelector(".ticket-head");
    const old = document.getElementById("sla-targets");
    if (old) old.replaceWith(panel); else if (head) head.after(panel);
    const headBadge = document.getElementById("sla-head");
    if (headBadge) headBadge.remove();
    if (panel.dataset.due && head) {
      syncClock(panel.dataset.now);
      const b = badge(panel.dataset.due, panel.dataset.warn);
      b.id = "sla-head";
      head.querySelector("h1").after(b);
    }
    tick();
  }

  function toast(text) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const item = document.createElement("div");
    item.className = "toast sla-toast";
    item.textContent = text;
    box.append(item);
    setTimeout(() => item.remove(), 10000);
  }

  const refreshTicket = debounce(ticketTargets, 150);
  document.addEventListener("helpdesk:event", (e) => {
    const event = e.detail;
    if ((event.kind === "sla.breached" || event.kind === "sla.warning") && (event.data.notify || []).map(String).includes(me)) {
      const text = event.kind === "sla.breached" ? _("SLA breached on #%(ticket)s: %(subject)s") : _("SLA warning on #%(ticket)s: %(subject)s");
      toast(fmt(text, event.data));
    }
    if (page === "ticket" && String(event.ticket) === String(ticketId)) refreshTicket();
  });

  if (page === "queue") {
    const again = debounce(queueBadges, 50);
    const main = document.querySelector("main");
    // The console script swaps #queue-body after events: badge the new rows.
    if (main) new MutationObserver((changes) => {
      if (changes.some((c) => [...c.addedNodes].some((n) => n.id === "queue-body"))) again();
    }).observe(main, { childList: true, subtree: true });
    queueBadges();
  } else if (page === "ticket" && ticketId) {
    ticketTargets();
  }
  setInterval(tick, 1000);
})();
