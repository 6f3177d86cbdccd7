// The agent console. One websocket per tab: resume from the last rendered event, follow the
// bell, reconnect with backoff (showing "reconnecting…"), never ask for a manual refresh.
// Everything that came from a customer is rendered with textContent (never innerHTML); email
// HTML only ever appears inside a sandboxed iframe served with its own strict CSP.
(function () {
  "use strict";
  const body = document.body;
  const page = body.dataset.page;
  const me = parseInt(body.dataset.user || "0", 10);
  const ticketId = body.dataset.ticket ? parseInt(body.dataset.ticket, 10) : null;
  const customerId = body.dataset.customer || "";
  let lastSeq = parseInt(body.dataset.seq || "0", 10);
  let socket = null;
  let delay = 500;
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const csrf = () => ($("input[name=csrfmiddlewaretoken]") || {}).value || "";

  // ---- small helpers --------------------------------------------------------------------
  // Strings in the agent's language: Django's JavaScript catalog (/jsi18n/, loaded before this
  // script) defines gettext, ngettext and interpolate; without it, English.
  const _ = window.gettext || ((s) => s);
  const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));
  const fmt = (s, values) => (window.interpolate ? window.interpolate(s, values, true)
    : s.replace(/%\((\w+)\)s/g, (_m, k) => String(values[k])));

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function setLive(text, reconnecting) {
    const status = $("#live-status");
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("reconnecting", !!reconnecting);
  }
  function toast(text, cls) {
    const box = $("#toasts");
    if (!box) return;
    const item = el("div", `toast ${cls || ""}`, text);
    box.append(item);
    setTimeout(() => item.remove(), 6000);
  }
  function debounce(fn, ms) {
    let timer = null;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  }
  async function post(form, extra) {
    const data = new FormData(form);
    for (const [k, v] of Object.entries(extra || {})) data.set(k, v);
    const response = await fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf() },
    });
    let json = {};
    try { json = await response.json(); } catch (e) { json = { ok: false, error: `HTTP ${response.status}` }; }
    return { status: response.status, json };
  }

  // ---- the socket -----------------------------------------------------------------------
  function send(obj) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(obj));
  }
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/console/`);
    socket.onopen = () => {
      delay = 500;
      setLive(_("live"), false);
      body.dataset.live = "1";
      send({ type: "resume", last_seq: lastSeq });
      if (page === "ticket") send({ type: "view", ticket: ticketId });
    };
    socket.onmessage = (msg) => {
      const data = JSON.parse(msg.data);
      if (data.type === "event") apply(data);
      else if (data.type === "events") data.events.forEach(apply); // one change's events, in seq order
      else if (data.type === "cursor") advance(data.seq);
      else if (data.type === "presence") renderPresence(data);
      else if (data.type === "reload") reloadKeepingDraft();
    };
    socket.onclose = () => {
      body.dataset.live = "0";
      setLive(_("reconnecting…"), true);
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }
  setInterval(() => send({ type: "ping" }), 25000);
  // A laptop waking up: reconnect at once rather than after the backoff.
  window.addEventListener("online", () => { if (socket && socket.readyState !== WebSocket.OPEN) connect(); });

  function advance(seq) {
    lastSeq = Math.max(lastSeq, seq);
    const seen = $("#seen-seq");
    if (seen) seen.value = lastSeq;  // the stale-reply guard compares against this
  }
  function reloadKeepingDraft() {
    saveDrafts();
    location.reload();
  }

  function apply(event) {
    if (event.seq <= lastSeq) return;  // already rendered (a replay racing a ring)
    if (event.kind === "agent.mentioned" && event.data.user === me) mentioned(event.data);
    // A low satisfaction rating on a ticket assigned to me (surveys app): tell me at once.
    if (event.kind === "csat.rated" && event.data.notify === me) {
      toast(fmt(_("Low satisfaction rating (%(rating)s/5) on #%(ticket)s"), event.data), "mention");
    }
    if (page === "queue") refreshQueue(event);
    if (page === "ticket") applyToTicket(event);
    advance(event.seq);
    // Other apps' scripts (service levels) follow the same stream.
    document.dispatchEvent(new CustomEvent("helpdesk:event", { detail: event }));
  }

  function mentioned(data) {
    const count = $("#mention-count");
    if (ticketId !== data.ticket && count) {
      count.textContent = String(parseInt(count.textContent || "0", 10) + 1);
      $("#mentions").classList.add("unread");
    }
    toast(fmt(_("%(by)s mentioned you on #%(ticket)s: %(text)s"), data), "mention");
  }

  // ---- queue ----------------------------------------------------------------------------
  // How long each customer has waited, kept ticking in the browser (the server sends times).
  function showWaited() {
    const now = Date.now();
    for (const node of $$("time.waited")) {
      const minutes = Math.max(0, Math.floor((now - Date.parse(node.getAttribute("datetime"))) / 60000));
      const d = Math.floor(minutes / 1440), h = Math.floor((minutes % 1440) / 60), m = minutes % 60;
      node.textContent = d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : `${m} min`;
      node.title = new Date(node.getAttribute("datetime")).toLocaleString();
    }
  }
  if (page === "queue") { showWaited(); setInterval(showWaited, 30000); }
  const touched = new Set();
  const reloadQueue = debounce(async () => {
    const params = new URLSearchParams(location.search);
    params.set("fragment", "1");
    const response = await fetch(`${location.pathname}?${params}`, { credentials: "same-origin" });
    if (!response.ok) return;
    const selected = selectedRow() && selectedRow().dataset.ticket;
    const html = await response.text();
    const doc = new DOMParser().parseFromString(`<div id="queue-body">${html}</div>`, "text/html");
    $("#queue-body").replaceWith(doc.getElementById("queue-body"));
    showWaited();
    for (const id of touched) {
      const row = $(`#queue tr[data-ticket="${id}"]`);
      if (row) row.classList.add("fresh");
    }
    touched.clear();
    if (selected) select($(`#queue tr[data-ticket="${selected}"]`));
  }, 150);
  function refreshQueue(event) {
    if (!event.ticket) return;
    // Delivery receipts (message.status) change nothing a queue row shows.
    if (!/^(ticket\.|message\.(created|moved)|customer\.|sla\.)/.test(event.kind)) return;
    touched.add(event.ticket);
    reloadQueue();
  }

  // ---- ticket page: timeline ------------------------------------------------------------
  function isCurrent(ticket) { return String(ticket) === String(ticketId); }

  function blockFor(ticket) {
    const timeline = $("#timeline");
    const empty = $(".empty", timeline);
    if (empty) empty.remove();
    const blocks = $$(".block", timeline);
    const last = blocks[blocks.length - 1];
    if (last && last.dataset.ticket === String(ticket)) return $("ol", last);
    let block;
    if (isCurrent(ticket)) {
      block = el("section", "block current");
    } else {
      block = el("details", "block other");
      block.open = true;
      // The link sits beside the summary, not in it (a control inside a control).
      const link = el("a", "", `#${ticket}`);
      link.href = `/console/tickets/${encodeURIComponent(ticket)}/`;
      const opener = el("p", "open-ticket");
      opener.append(link);
      block.append(el("summary", "", `#${ticket}`), opener);
    }
    block.dataset.ticket = ticket;
    block.append(el("ol"));
    timeline.append(block);
    return $("ol", block);
  }

  function messageNode(m) {
    const item = el("li", `msg ${m.direction}`);
    item.id = `m${m.id}`;
    item.dataset.message = m.id;
    item.dataset.ticket = m.ticket;
    item.tabIndex = -1;
    const meta = el("div", "meta");
    meta.append(el("span", `channel ch-${m.channel}`, m.channel), " ", el("strong", "", m.author), " ",
      el("time", "", new Date(m.created_at).toLocaleString()));
    if (m.direction === "outbound") {
      const delivery = el("span", "delivery", m.status);
      delivery.dataset.status = m.status;
      meta.append(" ", delivery, " ", el("span", "error-reason", m.error || ""));
      if (m.status === "failed") meta.append(" ", retryForm(m.id));
    }
    const moveButton = el("button", "linkish move-button", _("Move"));
    moveButton.type = "button";
    meta.append(" ", moveButton);
    item.append(meta);
    if (m.subject && m.direction !== "note") item.append(el("div", "subject-line", m.subject));
    if (m.html) {
      const frame = el("iframe", "email-html");
      frame.setAttribute("sandbox", "");
      frame.setAttribute("referrerpolicy", "no-referrer");
      frame.title = _("Email content");
      frame.src = `/console/messages/${encodeURIComponent(m.id)}/body/`;
      item.append(frame);
      if (/<img\b[^>]*?\bsrc(?:set)?\s*=\s*["']?\s*(?:https?:)?\/\//i.test(m.html)) {  // Message.REMOTE_IMAGE
        const button = el("button", "linkish load-images", _("Show remote images"));
        button.type = "button";
        button.dataset.src = `${frame.src}?images=1`;
        item.append(button);
      }
    } else {
      item.append(el("div", "text", m.text));
    }
    if (m.folded) {  // quoted history and signature split off an email (rendering.message_html)
      const folded = el("details", "folded");
      folded.append(el("summary", "", _("Show quoted text")), el("div", "text", m.folded));
      item.append(folded);
    }
    if (m.html_dropped) {
      item.append(el("div", "notice html-dropped",
        fmt(_("The formatted (HTML) version was not kept: %(reason)s. Showing the text."), {reason: m.html_dropped})));
    }
    if (m.attachments && m.attachments.length) {
      const box = el("div", "attachments");
      for (const a of m.attachments) {
        if (a.url && a.url.startsWith("/")) {
          const link = el("a", "attachment", a.filename);
          link.href = a.url;
          box.append(link);
        } else {
          box.append(el("span", `attachment ${a.state}`, `${a.filename} (${a.state})`));
        }
      }
      item.append(box);
    }
    return item;
  }

  function renderMessage(m) {
    if (String(m.customer) !== customerId) return;
    const existing = document.getElementById(`m${m.id}`);
    if (existing) {  // an edit, or an attachment that finished downloading
      const fresh = messageNode(m);
      existing.replaceWith(fresh);
      bindMessage(fresh);
      return;
    }
    const node = messageNode(m);
    blockFor(m.ticket).append(node);
    bindMessage(node);
    if (isCurrent(m.ticket)) node.classList.add("fresh");
  }

  function retryForm(id) {
    const form = el("form", "inline retry");
    form.method = "post";
    form.action = `/console/messages/${encodeURIComponent(id)}/retry/`;
    form.append(el("button", "", _("Retry")));
    return form;
  }

  function updateDelivery(data) {
    const item = document.getElementById(`m${data.id}`);
    if (!item) return;
    const delivery = $(".delivery", item);
    if (delivery) { delivery.dataset.status = data.status; delivery.textContent = data.status; }
    const reason = $(".error-reason", item);
    if (reason) reason.textContent = data.error || "";
    const retry = $("form.retry", item);
    if (retry && data.status !== "failed") retry.remove();
    if (!retry && data.status === "failed") {
      const form = retryForm(data.id);
      (reason || $(".meta", item)).after(form);
      bindMessage(item);
    }
  }

  function applyToTicket(event) {
    const d = event.data || {};
    if (event.kind === "message.created" || event.kind === "message.updated") renderMessage(d);
    else if (event.kind === "message.status") updateDelivery(d);
    else if (event.kind === "message.moved") {
      const node = document.getElementById(`m${d.id}`);
      if (node) node.remove();
      renderMessage(d);
    } else if (event.kind === "ticket.updated" && isCurrent(event.ticket)) updateTicket(d);
    else if (event.kind === "customer.updated" && String(event.customer) === customerId) updateCustomer(d);
    else if ((event.kind === "customer.merged" || event.kind === "customer.unmerged" ||
              event.kind === "customer.erased") &&
             (String(event.customer) === customerId || (d.tickets || []).includes(ticketId))) {
      reloadKeepingDraft();  // the whole history changed shape: re-read it (the draft survives)
    }
  }

  function updateCustomer(d) {
    // Text only (never HTML): the notes keep their line breaks through CSS white-space.
    const set = (sel, value) => { const node = $(sel); if (node) node.textContent = value || ""; };
    set("#customer-name", d.name || `#${d.customer}`);
    set("#customer-organisation", d.organisation);
    set("#customer-notes", d.notes);
  }

  function updateTicket(d) {
    const pick = (sel, value) => { const s = $(sel); if (s && value !== undefined) s.value = value === null ? "" : String(value); };
    pick("#status-select", d.status);
    pick("#priority-select", d.priority);
    pick("#assignee-select", d.assignee);
    if (d.team !== undefined && d.team !== null) pick("#team-select", d.team);
    const status = $("#status-select");
    if (status && $("#ticket-status")) $("#ticket-status").textContent = status.selectedOptions[0].textContent;
    const priority = $("#priority-select");
    if (priority && $("#ticket-priority")) $("#ticket-priority").textContent = priority.selectedOptions[0].textContent;
    if (d.tags && $("#tags-input") && document.activeElement !== $("#tags-input")) $("#tags-input").value = d.tags.join(", ");
    if (d.actor && d.change) toast(`${d.actor}: ${d.change}`);
  }

  // ---- presence ---------------------------------------------------------------------------
  const typingTimers = {};
  function renderPresence(data) {
    if (data.ticket !== ticketId) return;
    const box = $("#presence");
    if (!box) return;
    box.replaceChildren();
    for (const v of data.viewers) {
      if (v.user === me) continue;
      const chip = el("span", `viewer${v.typing ? " typing" : ""}`, fmt(v.typing ? _("%(name)s is typing…") : _("%(name)s is viewing"), v));
      chip.dataset.user = v.user;
      box.append(chip);
      if (v.typing) {
        clearTimeout(typingTimers[v.user]);
        typingTimers[v.user] = setTimeout(() => {
          chip.classList.remove("typing");
          chip.textContent = fmt(_("%(name)s is viewing"), v);
        }, 7000);
      }
    }
  }
  let lastTyping = 0;
  function typed() {
    const now = Date.now();
    if (now - lastTyping > 3000) { lastTyping = now; send({ type: "typing", ticket: ticketId }); }
  }

  // ---- ticket page: composer ------------------------------------------------------------
  const draftKey = (kind) => `helpdesk-draft-${kind}-${ticketId}`;
  function saveDrafts() {
    if (page !== "ticket") return;
    for (const [kind, sel] of [["reply", "#reply-text"], ["note", "#note-text"]]) {
      const box = $(sel);
      if (box) sessionStorage.setItem(draftKey(kind), box.value);
    }
  }
  function restoreDrafts() {
    for (const [kind, sel] of [["reply", "#reply-text"], ["note", "#note-text"]]) {
      const box = $(sel);
      const saved = sessionStorage.getItem(draftKey(kind));
      if (box && saved && !box.value) box.value = saved;
    }
  }
  function newClientId(input) { if (input) input.value = crypto.randomUUID(); }

  function showTab(which) {
    const reply = which === "reply";
    $("#reply-form").hidden = !reply;
    $("#note-form").hidden = reply;
    $("#tab-reply").setAttribute("aria-selected", String(reply));
    $("#tab-note").setAttribute("aria-selected", String(!reply));
    (reply ? $("#reply-text") : $("#note-text")).focus();
  }

  let channelOptions = [];
  function renderConstraints(channel, info) {
    const box = $("#constraints");
    box.replaceChildren();
    $(".email-only").hidden = channel !== "email";
    info = info || {};
    const parts = [];
    if (info.segments !== undefined) {
      parts.push(fmt(ngettext("%(segments)s SMS segment", "%(segments)s SMS segments", info.segments), info)
                 + (info.encoding ? ` (${info.encoding})` : ""));
    }
    if (info.units !== undefined && info.per_segment) parts.push(fmt(_("%(units)s characters, %(per_segment)s per segment"), info));
    if (info.window_open === true) {
      parts.push(info.window_closes_at
        ? fmt(_("24-hour window open until %(time)s"), {time: new Date(info.window_closes_at).toLocaleString()})
        : _("24-hour window open"));
    }
    if (info.window_open === false) parts.push(_("24-hour window closed: only an approved template can be sent"));
    if (info.max_length) parts.push(fmt(_("max %(max_length)s characters"), info));
    for (const p of parts) box.append(el("span", "constraint", p));
    if (info.blocked) box.append(el("span", "constraint blocked", info.blocked));
    const templates = info.templates || [];
    const tbox = $("#template-box");
    tbox.hidden = !templates.length;
    const select = $("#reply-template");
    const chosen = select.value;
    select.replaceChildren(el("option", "", "—"));
    select.options[0].value = "";
    for (const t of templates) {
      const option = el("option", "", t.name || t.id);
      option.value = t.id;
      option.dataset.variables = JSON.stringify(t.variables || []);
      select.append(option);
    }
    select.value = chosen;
    renderTemplateVars();
    $("#reply-files").hidden = info.attachments === false;
    currentInfo = info;
    updateSendable();
  }
  let currentInfo = {};
  function updateSendable() {
    // Blocked means free text cannot go; an approved template still can (WhatsApp/Meta window).
    const template = $("#reply-template").value;
    $("#send-reply").disabled = !!currentInfo.blocked && !((currentInfo.templates || []).length && template);
  }
  function renderTemplateVars() {
    const box = $("#template-vars");
    box.replaceChildren();
    const option = $("#reply-template").selectedOptions[0];
    if (!option || !option.value) return;
    for (const v of JSON.parse(option.dataset.variables || "[]")) {
      const name = typeof v === "string" ? v : (v.name || v.key);
      const input = el("input");
      input.name = `var_${name}`;
      input.placeholder = name;
      input.setAttribute("aria-label", name);
      box.append(input);
    }
  }
  const refreshConstraints = debounce(async () => {
    const channel = $("#reply-channel").value;
    if (!channel) return;
    const params = new URLSearchParams({ channel, text: $("#reply-text").value });
    const response = await fetch(`/console/tickets/${ticketId}/compose/?${params}`, { credentials: "same-origin" });
    if (response.ok) { const json = await response.json(); renderConstraints(channel, json.info); }
  }, 250);

  function insertCanned(index, replaceShortcut) {
    const canned = JSON.parse(($("#canned-data") || {}).textContent || "[]");
    const item = canned[index];
    if (!item) return;
    const box = $("#reply-text");
    if (replaceShortcut) box.value = box.value.replace(replaceShortcut, item.body);
    else box.value = box.value ? `${box.value}\n${item.body}` : item.body;
    box.focus();
    refreshConstraints();
  }
  function expandShortcut() {
    const canned = JSON.parse(($("#canned-data") || {}).textContent || "[]");
    const box = $("#reply-text");
    const match = box.value.slice(0, box.selectionStart).match(/(?:^|\s)(\/([\w-]+))\s$/);
    if (!match) return;
    const index = canned.findIndex((c) => c.shortcut === match[2]);
    if (index >= 0) insertCanned(index, match[1] + " ");
  }

  async function submitReply(event) {
    event.preventDefault();
    const form = event.target;
    const button = $("#send-reply");
    button.disabled = true;
    $("#composer-error").hidden = true;
    try {
      const { status, json } = await post(form, { seen_seq: String(lastSeq) });
      if (json.ok) {
        form.reset();
        $("#reply-text").value = "";
        sessionStorage.removeItem(draftKey("reply"));
        $("#stale-warning").hidden = true;
        newClientId($("#client-id"));
        refreshConstraints();
      } else if (status === 409 && json.stale) {
        // Held server-side. The draft stays; what landed is (or is about to be) in the
        // timeline via the socket; sending again after reading it goes through.
        $("#stale-warning").hidden = false;
        for (const e of json.events || []) if (e.data && e.data.id) renderMessage(e.data);
        const newest = (json.events || []).reduce((n, e) => Math.max(n, e.seq), 0);
        if (newest) advance(newest);
      } else {
        $("#composer-error").textContent = json.error || `HTTP ${status}`;
        $("#composer-error").hidden = false;
      }
    } finally {
      button.disabled = false;
    }
  }
  async function submitNote(event) {
    event.preventDefault();
    const form = event.target;
    const { status, json } = await post(form);
    if (json.ok) {
      $("#note-text").value = "";
      sessionStorage.removeItem(draftKey("note"));
      newClientId($("#note-client-id"));
    } else {
      $("#composer-error").textContent = json.error || `HTTP ${status}`;
      $("#composer-error").hidden = false;
    }
  }

  function bindMessage(node) {  // idempotent: safe to call again after a part was re-rendered
    const once = (element) => !element.dataset.bound && (element.dataset.bound = "1");
    for (const button of $$(".load-images", node)) {
      if (!once(button)) continue;
      button.addEventListener("click", () => {
        const frame = $("iframe.email-html", node);
        if (frame) frame.src = button.dataset.src;
        button.remove();
      });
    }
    for (const button of $$(".move-button", node)) {
      if (!once(button)) continue;
      button.addEventListener("click", () => {
        $("#move-form").action = `/console/messages/${encodeURIComponent(node.dataset.message)}/move/`;
        $("#move-dialog").showModal();
        $("#move-ticket").focus();
      });
    }
    for (const form of $$("form.retry", node)) {
      if (!once(form)) continue;
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const { json } = await post(form);
        if (!json.ok) toast(json.error || _("failed"), "error");
      });
    }
  }

  function initTicket() {
    newClientId($("#client-id"));
    newClientId($("#note-client-id"));
    restoreDrafts();
    channelOptions = JSON.parse(($("#channel-options") || {}).textContent || "[]");
    const selectChannel = $("#reply-channel");
    const current = channelOptions.find((o) => o.channel === selectChannel.value);
    renderConstraints(selectChannel.value, current && current.info);
    selectChannel.addEventListener("change", refreshConstraints);
    $("#reply-template").addEventListener("change", () => { renderTemplateVars(); updateSendable(); });
    const text = $("#reply-text");
    text.addEventListener("input", () => { typed(); saveDrafts(); refreshConstraints(); expandShortcut(); });
    $("#note-text").addEventListener("input", () => { typed(); saveDrafts(); });
    const canned = $("#canned");
    if (canned) canned.addEventListener("change", () => { if (canned.value !== "") insertCanned(parseInt(canned.value, 10)); canned.value = ""; });
    $("#reply-form").addEventListener("submit", submitReply);
    $("#note-form").addEventListener("submit", submitNote);
    $("#tab-reply").addEventListener("click", () => showTab("reply"));
    $("#tab-note").addEventListener("click", () => showTab("note"));
    for (const form of $$("form.autosubmit")) {
      for (const select of $$("select", form)) {
        select.addEventListener("change", async () => {
          const { json } = await post(form);
          if (!json.ok) toast(json.error || _("failed"), "error");
        });
      }
    }
    $("#tags-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const { json } = await post(event.target);
      if (!json.ok) toast(json.error || _("failed"), "error");
      else toast(_("Tags saved"));
    });
    for (const form of $$("form.confirm")) {
      form.addEventListener("submit", (event) => { if (!window.confirm(form.dataset.confirm)) event.preventDefault(); });
    }
    for (const node of $$(".msg")) bindMessage(node);
    $("#move-cancel").addEventListener("click", () => $("#move-dialog").close());
    $("#move-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const { json } = await post(event.target);
      if (json.ok) $("#move-dialog").close();
      else toast(json.error || _("failed"), "error");
    });
    const current_ = $(".block.current .msg:last-child");
    if (current_ && !location.hash) current_.scrollIntoView({ block: "center" });
    window.addEventListener("beforeunload", saveDrafts);
  }

  // ---- keyboard -------------------------------------------------------------------------
  function rows() {
    if (page === "queue") return $$("#queue tbody tr[data-ticket]");
    if (page === "search") return $$(".results li[data-href]");
    if (page === "ticket") return $$("#timeline .msg");
    return [];
  }
  function selectedRow() { return $(".selected"); }
  function select(row) {
    for (const r of $$(".selected")) r.classList.remove("selected");
    if (!row) return;
    row.classList.add("selected");
    row.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    const list = rows();
    if (!list.length) return;
    const index = list.indexOf(selectedRow());
    const next = index < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(Math.max(index + step, 0), list.length - 1);
    select(list[next]);
  }
  function openSelected(suffix) {
    const row = selectedRow() || rows()[0];
    if (row && row.dataset.href) location.href = row.dataset.href + (suffix || "");
  }
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target.closest && target.closest("input, textarea, select, [contenteditable]");
    if (event.key === "Escape") { if (typing) target.blur(); return; }
    if (typing || event.metaKey || event.ctrlKey || event.altKey) return;
    const key = event.key;
    if (key === "j") move(1);
    else if (key === "k") move(-1);
    else if (key === "Enter" && page !== "ticket") {
      if (target.closest && target.closest("button, a[href], summary")) return;  // a focused control keeps its Enter
      openSelected();
    }
    else if (key === "/") { event.preventDefault(); $("#search-box").focus(); }
    else if (key === "?") { const help = $("#help"); if (help.open) help.close(); else help.showModal(); }
    else if (page === "ticket" && key === "r") { event.preventDefault(); showTab("reply"); }
    else if (page === "ticket" && key === "n") { event.preventDefault(); showTab("note"); }
    else if (page === "ticket" && key === "a") { event.preventDefault(); $("#assignee-select").focus(); }
    else if (page === "queue" && (key === "r" || key === "n" || key === "a")) openSelected(`#${key}`);
    else return;
    event.preventDefault();
  });
  const helpButton = $("#help-button");
  if (helpButton) helpButton.addEventListener("click", () => $("#help").showModal());
  if (page === "queue") $("#queue-body").addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-ticket]");
    if (row && !event.target.closest("a")) select(row);
  });

  window.helpdeskConsole = { lastSeq: () => lastSeq, live: () => body.dataset.live === "1" };
  if (page === "ticket") {
    initTicket();
    // Opened from the queue with r / n / a.
    if (location.hash === "#r") showTab("reply");
    else if (location.hash === "#n") showTab("note");
    else if (location.hash === "#a") $("#assignee-select").focus();
  }
  if (page) connect();
})();
