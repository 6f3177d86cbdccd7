// The agent console. One websocket per tab: resume from the last rendered event, follow the
// bell, reconnect with backoff (showing "reconnecting…"), never ask for a manual refresh.
// What came from a customer is rendered with textContent, or arrives as server-rendered,
// escaped timeline HTML (tickets/console/rendering.py), never built here from event data; email
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
  let opened = false;  // a later open is a reconnect
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
    // Not JSON: a proxy's error page or a gateway timeout. Say the status, unless it is a
    // 5xx (the reply box calls that a network problem and keeps the draft).
    try { json = await response.json(); } catch (e) { json = { ok: false, error: response.status >= 500 ? "" : `HTTP ${response.status}` }; }
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
      // Apps re-read what a push may have carried while the socket was down (the bell's count).
      if (opened) document.dispatchEvent(new CustomEvent("helpdesk:reconnected"));
      opened = true;
    };
    socket.onmessage = (msg) => {
      const data = JSON.parse(msg.data);
      if (data.type === "event") apply(data);
      else if (data.type === "events") data.events.forEach(apply); // one change's events, in seq order
      else if (data.type === "cursor") advance(data.seq);
      else if (data.type === "presence") renderPresence(data);
      else if (data.type === "reload") reloadKeepingDraft();
      // A push for this agent alone (the notifications app's bell listens).
      else if (data.type === "notice") document.dispatchEvent(new CustomEvent("helpdesk:notice", { detail: data }));
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

  function mentioned(data) {  // the bell (notifications app) counts it; this says it at once
    toast(fmt(_("%(by)s mentioned you on #%(ticket)s: %(text)s"), data), "mention");
  }

  // ---- queue ----------------------------------------------------------------------------
  // Times ("3 min ago") are written and kept ticking by console/time.js (helpdeskTime).
  const showTimes = (root) => { if (window.helpdeskTime) window.helpdeskTime.refresh(root); };
  // "Filter and sort": the form comes from the server the first time it is opened (the queue
  // page renders it only when filters are in use).
  const filterBox = $("#queue-filters");
  if (filterBox) filterBox.addEventListener("toggle", async () => {
    if (!filterBox.open || $("#filter-form", filterBox)) return;
    const response = await fetch(filterBox.dataset.form, { credentials: "same-origin" });
    if (!response.ok) return;
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const form = doc.getElementById("filter-form");
    if (form && !$("#filter-form", filterBox)) {
      filterBox.append(document.adoptNode(form));
      const first = $("select, input:not([type=hidden])", form);
      if (first) first.focus();
    }
  });
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
    showTimes($("#queue-body"));
    for (const id of touched) {
      const row = $(`#queue tr[data-ticket="${id}"]`);
      if (row) row.classList.add("fresh");
    }
    touched.clear();
    if (selected) select($(`#queue tr[data-ticket="${selected}"]`));
  }, 150);
  // A notice with `views_changed` (saved_views: a view shared, renamed, unshared or deleted by
  // someone) changes the views beside the queue: read them again.
  document.addEventListener("helpdesk:notice", (event) => {
    if (page === "queue" && event.detail && event.detail.views_changed) reloadQueue();
  });
  function refreshQueue(event) {
    if (!event.ticket) return;
    // Delivery receipts (message.status) change nothing a queue row shows.
    if (!/^(ticket\.|message\.(created|moved)|customer\.|sla\.)/.test(event.kind)) return;
    touched.add(event.ticket);
    reloadQueue();
  }

  // ---- ticket page: timeline ------------------------------------------------------------
  // The server renders every timeline item (tickets/console/rendering.py), on load and live:
  // an event that adds or changes an item puts a placeholder where it belongs (so items stay
  // in event order however the fetches return), then one batched request fetches the HTML of
  // all pending items and swaps it in. Nothing here builds a message's markup.
  function isCurrent(ticket) { return String(ticket) === String(ticketId); }
  const timelineEl = $("#timeline");
  const activityKinds = new Set(((timelineEl && timelineEl.dataset.activityKinds) || "").split(" "));

  function blockFor(ticket) {
    const timeline = $("#timeline");
    const empty = $(".empty", timeline);
    if (empty) empty.remove();
    let block = $(`.block[data-ticket="${CSS.escape(String(ticket))}"]`, timeline);
    if (block) return $("ol", block);
    // A ticket new on this page: its header comes with the fetched items (heads).
    block = el("details", "block other");
    block.open = true;
    block.dataset.ticket = ticket;
    block.dataset.headPending = "1";
    // The link sits beside the summary, not in it (a control inside a control).
    const link = el("a", "", fmt(_("Open ticket #%(n)s"), {n: ticket}));
    link.href = `/console/tickets/${encodeURIComponent(ticket)}/`;
    const opener = el("p", "open-ticket");
    opener.append(link);
    block.append(el("summary", "block-head", `#${ticket}`), opener, el("ol"));
    const current = $(".block.current", timeline);
    timeline.insertBefore(block, current);  // this ticket stays last, by the reply box
    return $("ol", block);
  }

  const wanted = { m: new Set(), a: new Set() };
  function placeholder(key, ticket) {
    let node = document.getElementById(key);
    if (!node) {
      node = el("li", "pending");
      node.id = key;
      node.hidden = true;  // holds the place (event order) until its HTML arrives: no flicker
      blockFor(ticket).append(node);
    }
    node.dataset.pending = "1";
    wanted[key[0]].add(key.slice(1));
    fetchItems();
  }
  const fetchItems = debounce(async () => {
    const params = new URLSearchParams();
    const asked = [...Array.from(wanted.m, (id) => `m${id}`), ...Array.from(wanted.a, (seq) => `a${seq}`)];
    if (wanted.m.size) params.set("m", Array.from(wanted.m).join(","));
    if (wanted.a.size) params.set("a", Array.from(wanted.a).join(","));
    wanted.m.clear();
    wanted.a.clear();
    if (!asked.length) return;
    let json;
    try {
      const response = await fetch(`/console/tickets/${ticketId}/timeline/?${params}`, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      json = await response.json();
    } catch (e) {  // the socket is back soon; a reload shows the items anyway
      toast(_("Could not load the latest activity: reload to see it."), "error");
      return;
    }
    const sent = new Set(json.items.map((item) => item.key));
    for (const item of json.items) {
      const node = document.getElementById(item.key);
      if (!node || wanted[item.key[0]].has(item.key.slice(1))) continue;  // asked again since: wait
      const fresh = document.createRange().createContextualFragment(item.html).firstElementChild;
      node.replaceWith(fresh);
      bindMessage(fresh);
      showTimes(fresh);
      if (isCurrent(item.ticket)) fresh.classList.add("fresh");
    }
    for (const [ticket, head] of Object.entries(json.heads || {})) {
      const block = $(`.block[data-ticket="${CSS.escape(ticket)}"][data-head-pending]`);
      if (!block) continue;
      $("summary", block).replaceChildren(document.createRange().createContextualFragment(head));
      delete block.dataset.headPending;
    }
    // What the server did not send (not a line after all, or not ours to see) goes.
    for (const key of asked) {
      const node = document.getElementById(key);
      if (sent.has(key) || !node || !node.dataset.pending || wanted[key[0]].has(key.slice(1))) continue;
      if (node.classList.contains("pending")) node.remove(); else delete node.dataset.pending;
    }
    countMessages();
  }, 40);

  // Each ticket header's "3 messages": the messages its block shows, as the server counts them
  // on load (rendering.block_head_html: the block's messages in the page's history window),
  // re-counted whenever items arrive or move.
  function countMessages() {
    for (const count of $$("#timeline .block > summary .block-count")) {
      const n = $$(":scope > ol > li[data-message]", count.closest(".block")).length;
      const text = fmt(ngettext("%(n)s message", "%(n)s messages", n), { n });
      if (count.textContent !== text) count.textContent = text;
    }
  }

  function applyToTicket(event) {
    const d = event.data || {};
    const ours = String(event.customer) === customerId;
    if (event.kind === "message.created" || event.kind === "message.updated") {
      if (ours) placeholder(`m${d.id}`, d.ticket);
    } else if (event.kind === "message.status") {
      if (document.getElementById(`m${d.id}`)) placeholder(`m${d.id}`, event.ticket);
    } else if (event.kind === "message.moved") {
      if (event.ticket !== d.ticket) return;  // the source's copy of the event: handled once
      const node = document.getElementById(`m${d.id}`);
      if (node) { node.remove(); countMessages(); }
      if (ours) placeholder(`m${d.id}`, d.ticket);
    } else if (event.kind === "ticket.updated" && isCurrent(event.ticket)) updateTicket(d);
    else if (event.kind === "customer.updated" && String(event.customer) === customerId) updateCustomer(d);
    else if (event.kind === "identity.updated" && ours && d.avatar_url !== undefined) showPicture(d.avatar_url);
    else if ((event.kind === "customer.merged" || event.kind === "customer.unmerged" ||
              event.kind === "customer.erased") &&
             (String(event.customer) === customerId || (d.tickets || []).includes(ticketId))) {
      reloadKeepingDraft();  // the whole history changed shape: re-read it (the draft survives)
      return;
    }
    if (ours && activityKinds.has(event.kind)) placeholder(`a${event.seq}`, event.ticket || ticketId);
  }

  function updateCustomer(d) {
    // Text only (never HTML): the notes keep their line breaks through CSS white-space.
    const set = (sel, value) => { const node = $(sel); if (node) node.textContent = value || ""; };
    if (d.name) set("#customer-profile-link", d.name);
    set("#customer-organisation", d.organisation);
    set("#customer-notes", d.notes);
  }

  function showPicture(url) {
    // A picture the worker just fetched (customer_pictures), or "" when it went: as rendered.
    const old = $(".customer-head .avatar"), link = $("#customer-profile-link");
    if (old && link) old.replaceWith(helpdeskUI.avatar(link.textContent, url, "lg"));
  }

  function updateTicket(d) {
    const pick = (sel, value) => { const s = $(sel); if (s && value !== undefined) s.value = value === null ? "" : String(value); };
    pick("#status-select", d.status);
    pick("#priority-select", d.priority);
    pick("#assignee-select", d.assignee);
    if (d.team !== undefined && d.team !== null) pick("#team-select", d.team);
    const status = $("#status-select");
    if (status && $("#ticket-status")) {
      $("#ticket-status").textContent = status.selectedOptions[0].textContent;
      $("#ticket-status").className = `badge status st-${status.value}`;  // its colour (console.css)
    }
    const priority = $("#priority-select");
    if (priority && $("#ticket-priority")) $("#ticket-priority").textContent = priority.selectedOptions[0].textContent;
    if (d.tags && $("#tags-input") && document.activeElement !== $("#tags-input")) $("#tags-input").value = d.tags.join(", ");
    // Who changed what is the activity line the same event adds to the timeline.
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
        ? fmt(_("24-hour window open until %(time)s"), {time: window.helpdeskTime.exact(info.window_closes_at)})
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
  // The reply box's channel: a radio group (templates/console/_channel_picker.html).
  function replyChannel() {
    const picked = $("#reply-form input[name=channel]:checked");
    return picked ? picked.value : "";
  }
  function pickChannel(value) {
    const radio = $(`#reply-form input[name=channel][value="${CSS.escape(value)}"]`);
    if (radio) radio.checked = true;
  }
  const refreshConstraints = debounce(async () => {
    const channel = replyChannel();
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

  // A send that never reached the server (offline, DNS, a dropped connection, a proxy that
  // answered with an error page) says so and keeps the draft and its client id: sending again
  // is the same message to the server (idempotent), never a second one.
  function composerError(text) {
    const box = $("#composer-error");
    box.textContent = text;
    box.hidden = false;
  }
  const NETWORK_ERROR = () => _("Not sent: the helpdesk could not be reached (network problem). Your text is kept; send again when you are back online.");
  async function sendForm(form, extra) {
    try {
      return await post(form, extra);
    } catch (error) {  // fetch rejects only when no answer came back at all
      saveDrafts();
      composerError(NETWORK_ERROR());
      return null;
    }
  }

  async function submitReply(event) {
    event.preventDefault();
    const form = event.target;
    const button = $("#send-reply");
    button.disabled = true;
    $("#composer-error").hidden = true;
    try {
      const answer = await sendForm(form, { seen_seq: String(lastSeq) });
      if (!answer) return;
      const { status, json } = answer;
      if (json.ok) {
        const channel = replyChannel();  // the agent's pick stays for the next reply
        form.reset();
        pickChannel(channel);
        $("#reply-text").value = "";
        sessionStorage.removeItem(draftKey("reply"));
        $("#stale-warning").hidden = true;
        newClientId($("#client-id"));
        refreshConstraints();
      } else if (status === 409 && json.stale) {
        // Held server-side. The draft stays; what landed is (or is about to be) in the
        // timeline via the socket; sending again after reading it goes through.
        $("#stale-warning").hidden = false;
        for (const e of json.events || []) apply(e);  // each once: apply() skips what it has
      } else {
        composerError(json.error || (status >= 500 ? NETWORK_ERROR() : `HTTP ${status}`));
      }
    } finally {
      button.disabled = false;
    }
  }
  async function submitNote(event) {
    event.preventDefault();
    const form = event.target;
    $("#composer-error").hidden = true;
    const answer = await sendForm(form);
    if (!answer) return;
    const { status, json } = answer;
    if (json.ok) {
      $("#note-text").value = "";
      sessionStorage.removeItem(draftKey("note"));
      newClientId($("#note-client-id"));
    } else {
      composerError(json.error || (status >= 500 ? NETWORK_ERROR() : `HTTP ${status}`));
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
    const current = channelOptions.find((o) => o.channel === replyChannel());
    renderConstraints(replyChannel(), current && current.info);
    $("#reply-channel").addEventListener("change", refreshConstraints);
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
    // Enter on a focused link, button or summary is that control's own (a view, an order, the
    // bell), never "open the selected row": keyboard users follow it.
    if (key === "Enter" && target.closest && target.closest("a, button, summary")) return;
    if (key === "j") move(1);
    else if (key === "k") move(-1);
    else if (key === "Enter" && page !== "ticket") openSelected();
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

  for (const form of $$("form.confirm")) {
    form.addEventListener("submit", (event) => { if (!window.confirm(form.dataset.confirm)) event.preventDefault(); });
  }

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
