// The console's live connection: resume from the last rendered event, follow the bell,
// reconnect with backoff. Events are rendered with textContent only (never innerHTML).
(function () {
  "use strict";
  const body = document.body;
  const page = body.dataset.page;
  let lastSeq = parseInt(body.dataset.seq || "0", 10);
  let delay = 500;
  const status = document.getElementById("live-status");
  const seenInput = document.getElementById("seen-seq");
  const clientInput = document.getElementById("client-id");
  if (clientInput) clientInput.value = crypto.randomUUID();

  function setStatus(text, reconnecting) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("reconnecting", !!reconnecting);
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderMessage(m) {
    const list = document.getElementById("timeline");
    if (!list || String(m.customer) !== body.dataset.customer) return;
    if (list.querySelector(`[data-message="${m.id}"]`)) return;  // already shown
    const item = el("li", `msg ${m.direction}${String(m.ticket) === body.dataset.ticket ? " current" : ""}`);
    item.dataset.message = m.id;
    const meta = el("div", "meta");
    meta.append(el("span", "channel", m.channel), " ", el("strong", "", m.author), " ",
      el("time", "", new Date(m.created_at).toLocaleString()));
    if (m.direction === "outbound") {
      const d = el("span", "delivery", m.status);
      d.dataset.status = m.status;
      meta.append(" ", d);
    }
    item.append(meta, el("div", "text", m.text));
    list.append(item);
  }

  function updateStatus(data) {
    const item = document.querySelector(`[data-message="${data.id}"] .delivery`);
    if (item) {
      item.dataset.status = data.status;
      item.textContent = data.error ? `${data.status}: ${data.error}` : data.status;
    }
  }

  function touchQueue(event) {
    const table = document.querySelector("#queue tbody");
    if (!table || !event.ticket) return;
    let row = table.querySelector(`[data-ticket="${event.ticket}"]`);
    if (!row) {
      const empty = table.querySelector(".empty");
      if (empty) empty.remove();
      row = el("tr");
      row.dataset.ticket = event.ticket;
      const link = el("a", "", String(event.ticket));
      link.href = `/console/tickets/${event.ticket}/`;
      const cell = el("td"); cell.append(link);
      row.append(cell, el("td", "subject", event.data.subject || ""), el("td"), el("td", "", event.data.channel || ""),
        el("td", "status", event.data.status || ""), el("td"), el("td"));
      table.prepend(row);
    } else if (event.data.status) {
      row.querySelector(".status").textContent = event.data.status;
    }
    row.classList.add("fresh");
  }

  function apply(event) {
    if (event.seq <= lastSeq) return;  // already rendered (a replay racing a ring)
    lastSeq = event.seq;
    if (seenInput) seenInput.value = lastSeq;  // the stale-reply guard compares against this
    if (page === "queue") touchQueue(event);
    if (page === "ticket") {
      if (event.kind === "message.created" || event.kind === "message.updated") renderMessage(event.data);
      if (event.kind === "message.status") updateStatus(event.data);
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/console/`);
    socket.onopen = () => {
      delay = 500;
      setStatus("live", false);
      socket.send(JSON.stringify({ type: "resume", last_seq: lastSeq }));
    };
    socket.onmessage = (msg) => {
      const data = JSON.parse(msg.data);
      if (data.type === "event") apply(data);
      else if (data.type === "cursor") lastSeq = Math.max(lastSeq, data.seq);
      else if (data.type === "reload") location.reload();
    };
    socket.onclose = () => {
      setStatus("reconnecting…", true);
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }
  window.helpdeskConsole = { lastSeq: () => lastSeq };
  if (page) connect();
})();
