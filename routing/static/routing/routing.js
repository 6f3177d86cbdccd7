// Routing in the console: the agent's availability switch in the header, and a heartbeat that
// tells the server whether the agent used the console lately (idle agents become "away").
// Macros and bulk actions hook in here too when their elements are on the page.
(function () {
  "use strict";
  const box = document.getElementById("availability");
  if (!box) return;
  const select = document.getElementById("availability-select");
  const csrf = () => (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
  let active = true;
  ["keydown", "mousedown", "touchstart"].forEach((type) =>
    document.addEventListener(type, () => { active = true; }, { passive: true, capture: true }));

  function show(status) {
    box.dataset.status = status;
    select.value = status;
  }
  async function send(url, data) {
    const body = new FormData();
    Object.entries(data).forEach(([k, v]) => body.set(k, v));
    const response = await fetch(url, { method: "POST", body, credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf() } });
    if (!response.ok) return;
    const json = await response.json();
    if (json.status) show(json.status);
  }
  function beat() {
    send(box.dataset.heartbeat, { active: active ? "1" : "0" });
    active = false;
  }
  select.addEventListener("change", () => send(box.dataset.url, { status: select.value }));

  // Everyone's availability beside their name where agents are listed (assignee pickers).
  const marks = { online: "●", away: "◐", offline: "○" };
  async function decorate() {
    const response = await fetch(box.dataset.heartbeat.replace(/heartbeat\/$/, "agents/"), { credentials: "same-origin" });
    if (!response.ok) return;
    const agents = (await response.json()).agents || {};
    document.querySelectorAll("#assignee-select option[value], #bulk-value option[value]").forEach((option) => {
      const status = agents[option.value];
      if (!status) return;
      option.dataset.availability = status;
      option.textContent = `${marks[status]} ${option.textContent.replace(/^[●◐○] /, "")}`;
    });
  }
  setTimeout(decorate, 2000);
  setInterval(decorate, 60000);
  // The first beat after the console's socket had time to register the connection.
  setTimeout(beat, 1500);
  setInterval(beat, 30000);
})();

// ---- macros and snooze on a ticket ----------------------------------------------------------
(function () {
  "use strict";
  const body = document.body;
  const box = document.getElementById("availability");
  if (!box || body.dataset.page !== "ticket" || !body.dataset.ticket) return;
  const _ = window.gettext || ((s) => s);
  const base = box.dataset.url.replace(/availability\/$/, "");
  const ticket = body.dataset.ticket;
  const csrf = () => (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
  const el = (tag, attrs, text) => {
    const node = Object.assign(document.createElement(tag), attrs || {});
    if (text !== undefined) node.textContent = text;
    return node;
  };
  async function post(url, data) {
    const form = new FormData();
    Object.entries(data).forEach(([k, v]) => form.set(k, v));
    const response = await fetch(url, { method: "POST", body: form, credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf() } });
    return response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }));
  }
  let macros = [];
  const bar = el("div", { className: "routing-bar", id: "routing-bar" });
  const select = el("select", { id: "macro-select", ariaLabel: _("Macro") });
  const previewButton = el("button", { type: "button", id: "macro-preview-button" }, _("Preview macro"));
  const until = el("input", { type: "datetime-local", id: "snooze-until", ariaLabel: _("Snooze until") });
  const snoozeButton = el("button", { type: "button", id: "snooze-button" }, _("Snooze"));
  const message = el("span", { id: "routing-message", role: "status" });
  bar.append(select, previewButton, " ", until, snoozeButton, " ", message);
  const dialog = el("dialog", { id: "macro-dialog" });
  const title = el("h2", { id: "macro-title" });
  const reply = el("pre", { id: "macro-reply" });
  const changes = el("ul", { id: "macro-changes" });
  const form = el("form", { method: "dialog" });
  const apply = el("button", { id: "macro-apply", value: "apply", autofocus: true }, _("Apply"));
  form.append(apply, " ", el("button", { value: "cancel" }, _("Cancel")));
  dialog.append(title, reply, changes, form);
  const anchor = document.getElementById("composer-error") || document.querySelector("main");
  anchor.parentNode.insertBefore(bar, anchor);
  document.body.append(dialog);

  function show(macro) {
    dialog.dataset.macro = macro.id;
    title.textContent = macro.name;
    reply.textContent = macro.reply || _("(no reply)");
    changes.replaceChildren(...macro.changes.map((c) => el("li", {}, c)));
    dialog.showModal();
    apply.focus();
  }
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "apply") return;
    const answer = await post(`${base}tickets/${ticket}/macros/${dialog.dataset.macro}/`,
      { client_id: `macro-${Date.now()}-${Math.random().toString(36).slice(2, 8)}` });
    message.textContent = answer.ok ? _("Macro applied.") : answer.error;
  });
  previewButton.addEventListener("click", () => {
    const macro = macros.find((m) => String(m.id) === select.value);
    if (macro) show(macro);
  });
  snoozeButton.addEventListener("click", async () => {
    const answer = await post(`${base}tickets/${ticket}/snooze/`, { until: until.value });
    message.textContent = answer.ok ? _("Snoozed.") : answer.error;
  });
  // Alt+<digit>: the macro with that shortcut, previewed; Enter applies it.
  document.addEventListener("keydown", (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey || !/^Digit[1-9]$/.test(event.code)) return;
    const macro = macros.find((m) => m.shortcut === event.code.slice(5));
    if (!macro) return;
    event.preventDefault();
    show(macro);
  });
  fetch(`${base}tickets/${ticket}/macros/`, { credentials: "same-origin" }).then((r) => r.json()).then((data) => {
    macros = data.macros || [];
    select.replaceChildren(...macros.map((m) => el("option", { value: m.id },
      m.shortcut ? `${m.name} (Alt+${m.shortcut})` : m.name)));
    bar.dataset.ready = "1";
  });
})();

// ---- bulk actions on the queue ------------------------------------------------------------
(function () {
  "use strict";
  const body = document.body;
  const box = document.getElementById("availability");
  if (!box || body.dataset.page !== "queue") return;
  const _ = window.gettext || ((s) => s);
  const base = box.dataset.url.replace(/availability\/$/, "");
  const csrf = () => (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
  const el = (tag, attrs, text) => {
    const node = Object.assign(document.createElement(tag), attrs || {});
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const picked = new Set();
  let lastClicked = null;
  const rows = () => Array.from(document.querySelectorAll("#queue tr[data-ticket]"));

  const bar = el("div", { className: "bulk-bar", id: "bulk-bar", hidden: true });
  const count = el("span", { id: "bulk-count" });
  const action = el("select", { id: "bulk-action", ariaLabel: _("Bulk action") });
  [["assign", _("Assign to")], ["status", _("Set status")], ["priority", _("Set priority")],
    ["add_tag", _("Add tag")], ["macro", _("Apply macro")], ["merge", _("Merge into")]].forEach(([v, l]) => action.append(el("option", { value: v }, l)));
  const value = el("select", { id: "bulk-value", ariaLabel: _("Value") });
  const tag = el("input", { id: "bulk-tag", placeholder: _("tag"), hidden: true });
  const go = el("button", { type: "button", id: "bulk-apply" }, _("Apply"));
  const results = el("ul", { id: "bulk-results", className: "bulk-results" });
  bar.append(count, " ", action, value, tag, go, results);
  const main = document.querySelector("main");
  main.insertBefore(bar, main.firstChild);
  let options = { agents: [], statuses: [], priorities: [], macros: [] };

  function fillValues() {
    const kind = action.value;
    tag.hidden = kind !== "add_tag";
    value.hidden = kind === "add_tag";
    // Merge: keep one of the selected tickets (the oldest first), the others merge into it.
    const chosen = Array.from(picked).sort((a, b) => Number(a) - Number(b));
    const list = { assign: [["", _("Nobody")], ...options.agents.map((a) => [a.id, a.name])],
      status: options.statuses, priority: options.priorities,
      macro: options.macros.map((m) => [m.id, m.name]), merge: chosen.map((id) => [id, `#${id}`]) }[kind] || [];
    const key = `${kind}:${list.map(([v]) => v).join(",")}`;
    if (value.dataset.key === key) return;  // unchanged: no mutation (the observer re-renders on one)
    value.dataset.key = key;
    value.replaceChildren(...list.map(([v, l]) => el("option", { value: v }, l)));
  }
  action.addEventListener("change", fillValues);
  fetch(`${base}bulk/options/`, { credentials: "same-origin" }).then((r) => r.json()).then((data) => {
    options = data;
    fillValues();
    bar.dataset.ready = "1";
  });

  function render() {
    for (const row of rows()) {
      let box = row.querySelector("input.bulk-pick");
      if (!box) {
        const cell = el("td", { className: "pick" });
        box = el("input", { type: "checkbox", className: "bulk-pick", ariaLabel: _("Select") });
        // In a label: on a touch screen the label is the fingertip-sized target (console.css).
        const target = el("label", { className: "pick-target" });
        target.append(box);
        cell.append(target);
        row.insertBefore(cell, row.firstChild);
      }
      box.checked = picked.has(row.dataset.ticket);
    }
    const head = document.querySelector("#queue thead tr");
    if (head && !head.querySelector("th.pick")) head.insertBefore(el("th", { className: "pick" }), head.firstChild);
    const empty = document.querySelector("#queue tr.empty td");
    if (empty && empty.colSpan === 8) empty.colSpan = 9;
    bar.hidden = picked.size === 0;
    if (action.value === "merge") fillValues();
    const text = `${picked.size} ${_("selected")}`;
    if (count.textContent !== text) count.textContent = text;  // (no mutation: no observer loop)
  }
  function toggle(row, on) {
    const id = row.dataset.ticket;
    if (on === undefined ? !picked.has(id) : on) picked.add(id); else picked.delete(id);
  }
  document.addEventListener("click", (event) => {
    const box = event.target.closest && event.target.closest("input.bulk-pick");
    if (!box) return;
    const row = box.closest("tr[data-ticket]");
    const list = rows();
    if (event.shiftKey && lastClicked) {
      const [a, b] = [list.indexOf(lastClicked), list.indexOf(row)].sort((x, y) => x - y);
      if (a >= 0) list.slice(a, b + 1).forEach((r) => toggle(r, box.checked));
    } else toggle(row, box.checked);
    lastClicked = row;
    render();
  });
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.key !== "x" || event.altKey || event.ctrlKey || event.metaKey) return;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    const row = document.querySelector("#queue tr.selected") || rows()[0];
    if (!row) return;
    toggle(row);
    lastClicked = row;
    render();
    event.preventDefault();
  });
  go.addEventListener("click", async () => {
    const form = new FormData();
    form.set("tickets", Array.from(picked).join(","));
    form.set("action", action.value);
    form.set("value", action.value === "add_tag" ? tag.value : value.value);
    const response = await fetch(`${base}bulk/`, { method: "POST", body: form, credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf() } });
    const answer = await response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }));
    results.replaceChildren();
    if (answer.error) { results.append(el("li", { className: "failed" }, answer.error)); return; }
    for (const r of answer.results) {
      results.append(el("li", { className: r.ok ? "done" : "failed" },
        r.kept ? `#${r.ticket} ✓ ${_("kept: the others were merged into it")}`
          : r.ok ? `#${r.ticket} ✓` : `#${r.ticket}: ${r.error}`));
    }
    results.dataset.done = String(answer.results.filter((r) => r.ok).length);
    picked.clear();
    render();
  });
  // The live queue re-renders its rows: put the boxes back each time.
  new MutationObserver(() => requestAnimationFrame(render)).observe(main, { childList: true, subtree: true });
  render();
})();
