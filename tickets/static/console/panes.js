// The three-pane console (issue 17): on a wide screen the ticket page shows the views (with
// their live counts) and the queue beside the ticket, as Help Scout and Chatwoot do. The pane
// is the queue page's own fragment (/console/?fragment=1), fetched after the ticket has painted,
// so the ticket page's server time does not grow; it re-reads itself when an event could change
// a row or a count (the same rule as the queue page), and remembers the view last opened.
(function () {
  "use strict";
  const WIDE = window.matchMedia("(min-width: 1280px)");
  const VIEW_KEY = "helpdesk-view";
  const body = document.body;
  const remember = (view) => { try { sessionStorage.setItem(VIEW_KEY, view); } catch (e) { /* private mode */ } };
  const recall = () => { try { return sessionStorage.getItem(VIEW_KEY) || ""; } catch (e) { return ""; } };

  if (body.dataset.page === "queue" && body.dataset.view) remember(body.dataset.view);
  const pane = document.getElementById("queue-pane");
  if (!pane) return;

  let loaded = false;
  let timer = null;
  async function load() {
    const url = new URL(pane.dataset.src, location.href);
    const view = recall();
    if (view) url.searchParams.set("view", view);
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return;
    const doc = new DOMParser().parseFromString(`<div>${await response.text()}</div>`, "text/html");
    pane.replaceChildren(...doc.body.firstChild.childNodes);
    for (const table of pane.querySelectorAll("table")) table.removeAttribute("id");  // one #queue per page
    const current = pane.querySelector(`tr[data-ticket="${body.dataset.ticket}"]`);
    if (current) { current.setAttribute("aria-current", "page"); current.scrollIntoView({ block: "nearest" }); }
    for (const link of pane.querySelectorAll(".views a[data-view]")) {
      link.addEventListener("click", () => remember(link.dataset.view));
    }
    if (window.helpdeskTime) window.helpdeskTime.refresh(pane);
    loaded = true;
  }
  function show() {
    pane.hidden = !WIDE.matches;
    body.classList.toggle("queue-pane-open", WIDE.matches);
    if (WIDE.matches && !loaded) load();
  }
  WIDE.addEventListener("change", show);
  show();
  // Re-read on what changes a row or a count (console.js's queue rule), at most every 300 ms,
  // and when the views themselves changed (a notice with views_changed: saved views).
  function reload() {
    clearTimeout(timer);
    timer = setTimeout(load, 300);
  }
  document.addEventListener("helpdesk:event", (e) => {
    if (!WIDE.matches || !e.detail.ticket) return;
    if (!/^(ticket\.|message\.(created|moved)|customer\.|sla\.)/.test(e.detail.kind)) return;
    reload();
  });
  document.addEventListener("helpdesk:notice", (e) => { if (WIDE.matches && e.detail && e.detail.views_changed) reload(); });
})();
