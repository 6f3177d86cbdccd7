/* Helpdesk live-chat widget. Embed with one tag:
 *   <script src="https://HELPDESK/chat/widget.js" data-inbox="KEY" async></script>
 * Optional: data-user-id + data-user-hash (HMAC-SHA256 of the id with the inbox secret, made by
 * your server) join the chat to that customer's history; data-name / data-email prefill.
 * Plain JS in a shadow DOM: the page's CSS cannot reach it and it adds none to the page.
 * Messages are rendered with textContent only. The socket resumes from the last event it
 * rendered (the helpdesk's event log), so reconnects neither lose nor repeat a message. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-inbox][src*='widget.js']");
  if (!script || window.HelpdeskChat) return;
  var inbox = script.getAttribute("data-inbox");
  var base = new URL(script.src, location.href).origin;
  var api = base + "/chat/api/" + encodeURIComponent(inbox) + "/";
  var wsUrl = base.replace(/^http/, "ws") + "/ws/chat/" + encodeURIComponent(inbox) + "/";
  var ds = script.dataset, extra = window.HelpdeskChatSettings || {};
  var userId = ds.userId || extra.userId || "", userHash = ds.userHash || extra.userHash || "";
  var key = "hdchat:" + base + ":" + inbox;

  // --- persisted state (survives navigation and reload) ---------------------------------------
  var saved = {};
  try { saved = JSON.parse(localStorage.getItem(key) || "{}") || {}; } catch (e) { saved = {}; }
  saved.pending = saved.pending || [];
  function persist() { try { localStorage.setItem(key, JSON.stringify(saved)); } catch (e) { /* private mode */ } }

  // The widget's words: English here, the visitor's language once the session's config arrives
  // (config.strings, livechat/widget_strings.py: every t() text must be listed there).
  var strings = {};
  function t(text, values) {
    var said = strings[text] || text;
    return values ? said.replace(/%\((\w+)\)s/g, function (_m, k) { return String(values[k]); }) : said;
  }
  var cfg = {}, ws = null, ready = false, historyShown = false, lastSeq = 0, delay = 500;
  var pinger = null, retryTimer = null, isOpen = false, lastOutbound = 0;

  // --- DOM --------------------------------------------------------------------------------------
  var host = document.createElement("div");
  host.id = "helpdesk-chat";
  var root = host.attachShadow({ mode: "open" });
  var CSS = ":host{all:initial}*{box-sizing:border-box;font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2330}" +
    ".launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:#2456d3;color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483646;font-size:24px}" +
    ".launcher *{color:#fff}.badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;border-radius:10px;background:#d7263d;font-size:12px;line-height:20px;padding:0 5px;font-weight:700}" +
    ".panel{position:fixed;right:20px;bottom:88px;width:370px;max-width:calc(100vw - 40px);height:560px;max-height:calc(100vh - 110px);background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);display:flex;flex-direction:column;overflow:hidden;z-index:2147483647;transition:opacity .2s,transform .2s}" +
    ".panel[hidden]{display:none}header{background:#2456d3;padding:12px 14px;display:flex;align-items:center;gap:8px}header *{color:#fff}header h2{margin:0;font-size:16px;font-weight:600;flex:1}" +
    ".status{display:block;font-size:12px;opacity:.9}header button{background:none;border:0;cursor:pointer;font-size:13px;padding:4px 6px;border-radius:4px}" +
    "button:focus-visible,textarea:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #ffbf47;outline-offset:1px}" +
    ".log{flex:1;overflow-y:auto;margin:0;padding:12px;list-style:none;background:#f5f7fb}.msg{margin:6px 0;max-width:82%;clear:both}" +
    ".msg .bubble{padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}.inbound{float:right;text-align:right}.inbound .bubble{background:#2456d3;text-align:left}.inbound .bubble,.inbound .bubble *{color:#fff}" +
    ".outbound{float:left}.outbound .bubble{background:#fff;border:1px solid #dde2ec}.meta{font-size:11px;color:#5b6575;margin-top:2px}.who{font-weight:600;font-size:12px;color:#5b6575}" +
    ".tick[data-s=failed]{color:#d7263d}.notice{clear:both;text-align:center;font-size:12px;color:#5b6575;padding:6px}.err{background:#fde8ea;color:#8a1020;padding:6px 10px;font-size:13px}" +
    ".typing{padding:2px 12px;font-size:12px;color:#5b6575;min-height:18px;background:#f5f7fb}.dots::after{content:'';animation:d 1.2s steps(4) infinite}@keyframes d{0%{content:''}25%{content:'.'}50%{content:'..'}75%{content:'...'}}" +
    "form{margin:0}.compose{display:flex;gap:6px;padding:8px;border-top:1px solid #dde2ec;align-items:flex-end}textarea{flex:1;resize:none;border:1px solid #c5cbd8;border-radius:8px;padding:8px;min-height:38px;max-height:120px}" +
    ".btn{background:#2456d3;color:#fff;border:0;border-radius:8px;padding:8px 12px;cursor:pointer}.btn2{background:#e8ecf5;border:0;border-radius:8px;padding:8px 10px;cursor:pointer}" +
    ".card{padding:12px;border-bottom:1px solid #dde2ec;background:#fff}.card label{display:block;margin:6px 0 2px;font-size:12px}.card input{width:100%;padding:7px;border:1px solid #c5cbd8;border-radius:6px}.card .btn{margin-top:8px}" +
    ".att{display:block;margin-top:4px;background:none;border:0;padding:0;text-decoration:underline;cursor:pointer;text-align:left}.att img{max-width:200px;max-height:160px;display:block;border-radius:6px}" +
    ".rating-card{clear:both;margin:10px 0;padding:10px;background:#fff;border:1px solid #dde2ec;border-radius:10px}.rating-card .q{margin:0 0 6px;font-weight:600}" +
    ".stars{display:flex;gap:6px}.rate{flex:1;padding:8px 0;border:1px solid #c5cbd8;border-radius:8px;background:#fff;cursor:pointer;font-weight:600}.rate[aria-pressed=true]{background:#2456d3;color:#fff}" +
    ".rating-card .said{margin:6px 0 0;font-size:13px}.rating-card .comment textarea{width:100%;margin:4px 0}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}.titlebox{flex:1;min-width:0}.card .intro{margin:0}" +
    "svg.i{width:18px;height:18px;vertical-align:middle;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}.launcher svg.i{width:26px;height:26px}.tick svg.i{width:12px;height:12px}" +
    "header button{display:inline-flex;align-items:center;gap:4px;min-height:32px}.btn2{display:inline-flex;align-items:center;justify-content:center}" +
    "@media (pointer:coarse){header button,.btn,.btn2,.rate,.att{min-height:44px;min-width:44px}textarea,.card input{min-height:44px}}" +
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;max-width:100vw;height:100%;max-height:100%;border-radius:0}}" +
    "@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}";
  try {
    var sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); root.adoptedStyleSheets = [sheet];
  } catch (e) { var st = document.createElement("style"); st.textContent = CSS; root.appendChild(st); }

  function el(tag, attrs, text) {
    var n = document.createElement(tag);
    for (var k in attrs || {}) { if (k === "class") n.className = attrs[k]; else n.setAttribute(k, attrs[k]); }
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }
  // Icons are SVG (systems without an emoji font showed boxes); drawn with strokes from these paths.
  var ICONS = {
    chat: "M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z",
    close: "M6 6l12 12M18 6L6 18",
    mail: "M3 6h18v12H3zM3 7l9 6 9-6",
    clip: "M21 11.5l-8.5 8.5a5 5 0 0 1-7-7L14 4.5a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7.5",
    clock: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM12 7v5l3 2",
    check: "M5 12.5l4.5 4.5L19 7",
    checks: "M2 12.5l4.5 4.5L16 7M9 15.5l1.5 1.5L20 7",
    alert: "M12 7v6M12 16.5v.5"
  };
  function icon(name) {
    var NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("class", "i"); svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true"); svg.setAttribute("focusable", "false");
    var path = document.createElementNS(NS, "path"); path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }
  var launcher = el("button", { class: "launcher", "aria-label": t("Open chat"), "aria-expanded": "false", "aria-controls": "hdc-panel", type: "button" });
  launcher.appendChild(icon("chat"));
  var badge = el("span", { class: "badge", hidden: "" });
  launcher.appendChild(badge);
  var panel = el("section", { class: "panel", id: "hdc-panel", role: "dialog", "aria-label": t("Chat"), hidden: "" });
  var header = el("header");
  var titleBox = el("div", { class: "titlebox" });
  var title = el("h2", { id: "hdc-title" }, t("Chat"));
  var status = el("span", { class: "status", role: "status" });
  titleBox.append(title, status);
  var transcriptBtn = el("button", { type: "button", "aria-label": t("Email me a transcript") });
  var transcriptWord = document.createTextNode(t("Transcript"));
  transcriptBtn.append(icon("mail"), transcriptWord);
  var closeBtn = el("button", { type: "button", "aria-label": t("Close chat") });
  closeBtn.appendChild(icon("close"));
  header.append(titleBox, transcriptBtn, closeBtn);
  var errBox = el("div", { class: "err", role: "alert", hidden: "" });
  var card = el("form", { class: "card", hidden: "", novalidate: "" });
  var list = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": t("Conversation") });
  var typing = el("div", { class: "typing", "aria-live": "polite" });
  var compose = el("form", { class: "compose" });
  var input = el("textarea", { rows: "1", "aria-label": t("Type your message"), placeholder: t("Type your message…") });
  var file = el("input", { type: "file", class: "sr", tabindex: "-1", "aria-hidden": "true" });
  var attach = el("button", { type: "button", class: "btn2", "aria-label": t("Attach a file") });
  attach.appendChild(icon("clip"));
  var send = el("button", { type: "submit", class: "btn" }, t("Send"));
  compose.append(file, attach, input, send);
  panel.append(header, errBox, card, list, typing, compose);
  root.append(launcher, panel);

  // The words drawn before the config came, again in the visitor's language.
  function relabel() {
    panel.setAttribute("lang", cfg.language || "en"); launcher.setAttribute("lang", cfg.language || "en");
    transcriptBtn.setAttribute("aria-label", t("Email me a transcript")); transcriptWord.textContent = t("Transcript");
    closeBtn.setAttribute("aria-label", t("Close chat")); list.setAttribute("aria-label", t("Conversation"));
    input.setAttribute("aria-label", t("Type your message")); input.placeholder = t("Type your message…");
    attach.setAttribute("aria-label", t("Attach a file")); send.textContent = t("Send");
    updateBadge(); updateStatus();
  }

  // --- helpers ---------------------------------------------------------------------------------
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }
  function showError(text) { errBox.textContent = text || ""; errBox.hidden = !text; }
  function notice(text) { list.appendChild(el("div", { class: "notice" }, text)); scroll(); }
  function scroll() { list.scrollTop = list.scrollHeight; }
  function hhmm(iso) {
    var d = iso ? new Date(iso) : new Date();
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
  function setTick(node, state) {
    var tick = node.querySelector(".tick");
    if (!tick) return;
    var labels = { pending: ["clock", t("Sending")], sent: ["check", t("Sent")], seen: ["checks", t("Seen")], failed: ["alert", t("Not sent")] };
    var l = labels[state] || labels.sent;
    tick.textContent = ""; tick.appendChild(icon(l[0])); tick.appendChild(el("span", { class: "sr" }, l[1]));
    tick.setAttribute("title", l[1]); tick.dataset.s = state;
  }
  function updateStatus() {
    if (!ready) { status.textContent = t("Connecting…"); return; }
    status.textContent = cfg.online ? t("We're online") : t("We're away: we'll reply by email");
  }
  function updateBadge() {
    var unread = isOpen ? 0 : countUnread();
    badge.textContent = unread > 9 ? "9+" : String(unread);
    badge.hidden = !unread;
    launcher.setAttribute("aria-label", unread ? t("Open chat, %(n)s unread", { n: unread }) : t("Open chat"));
  }
  function countUnread() {
    var n = 0;
    list.querySelectorAll(".outbound").forEach(function (m) { if (+m.dataset.id > (saved.lastRead || 0)) n++; });
    return n;
  }
  function markRead() {
    if (lastOutbound > (saved.lastRead || 0)) { saved.lastRead = lastOutbound; persist(); }
    updateBadge();
  }

  // --- rendering messages ----------------------------------------------------------------------
  function render(m) {
    var node = m.id ? list.querySelector('[data-id="' + m.id + '"]') : null;
    if (node) { // already shown: an update (edit, attachment finished) or a replay
      node.querySelector(".text").textContent = m.text || "";
      return node;
    }
    node = el("div", { class: "msg " + (m.direction === "outbound" ? "outbound" : "inbound") });
    if (m.direction === "outbound") node.appendChild(el("div", { class: "who" }, m.author || t("Support")));
    var bubble = el("div", { class: "bubble" });
    bubble.appendChild(el("span", { class: "text" }, m.text || ""));
    node.appendChild(bubble);
    var meta = el("div", { class: "meta" });
    meta.appendChild(el("time", { datetime: m.created_at || new Date().toISOString() }, hhmm(m.created_at)));
    if (m.direction !== "outbound") { meta.append(" "); meta.appendChild(el("span", { class: "tick" })); }
    node.appendChild(meta);
    list.appendChild(node);
    if (m.id) node.dataset.id = m.id;
    (m.attachments || []).forEach(function (a) { attachmentLink(node.querySelector(".bubble"), a); });
    if (m.direction === "outbound") {
      typing.textContent = ""; // the message the agent was typing is here
      lastOutbound = Math.max(lastOutbound, +m.id);
      list.querySelectorAll(".inbound .tick").forEach(function (tick) { if (tick.dataset.s === "sent") setTick(tick.parentNode.parentNode, "seen"); });
    } else {
      setTick(node, m.id ? "sent" : "pending");
    }
    scroll();
    if (isOpen) markRead(); else updateBadge();
    return node;
  }
  function attachmentLink(bubble, a) {
    if (bubble.querySelector('[data-att="' + a.id + '"]')) return;
    var b = el("button", { type: "button", class: "att", "data-att": a.id });
    b.append(icon("clip"), " " + a.filename + " (" + Math.max(1, Math.round(a.size / 1024)) + " KB)");
    b.addEventListener("click", function () {
      fetchFile(a).then(function (blob) {
        var link = el("a", { href: URL.createObjectURL(blob), download: a.filename });
        root.appendChild(link); link.click(); link.remove();
      });
    });
    bubble.appendChild(b);
    if (/^image\/(png|jpeg|gif|webp)$/.test(a.content_type) && a.state === "stored") {
      fetchFile(a).then(function (blob) {
        var reader = new FileReader(); // a data: URL works under strict host CSPs, blob: often not
        reader.onload = function () { var img = el("img", { alt: a.filename, src: reader.result }); b.textContent = ""; b.appendChild(img); };
        reader.readAsDataURL(blob);
      });
    }
  }
  function fetchFile(a) {
    return fetch(api + "attachments/" + a.id + "/", { headers: { Authorization: "Bearer " + saved.token } })
      .then(function (r) { if (!r.ok) throw new Error("download failed"); return r.blob(); })
      .catch(function () { showError(t("Could not download %(name)s.", { name: a.filename })); throw new Error("x"); });
  }

  // --- the live connection ---------------------------------------------------------------------
  function apply(ev) {
    if (ev.seq <= lastSeq) return; // already rendered: a replay racing a ring
    lastSeq = ev.seq;
    if ((ev.kind === "message.created" || ev.kind === "message.updated") && ev.data.id) render(ev.data);
    if (ev.kind === "csat.sent" && ev.data.rate_path) ratingCard(ev.data.rate_path);
  }

  // --- the satisfaction survey: a card in the conversation when it was solved -------------------
  // Plain buttons and a form, so Tab / Enter / Space work; the helpdesk records only what is posted.
  function ratingCard(path) {
    saved.rated = saved.rated || {};
    if (saved.rated[path] || list.querySelector('[data-survey="' + path + '"]')) return;
    var labels = [t("Very bad"), t("Bad"), t("OK"), t("Good"), t("Very good")];
    var node = el("div", { class: "rating-card", "data-survey": path });
    var uid = "hdc-rate-" + (list.querySelectorAll(".rating-card").length + 1);
    var box = el("div", { role: "group", "aria-labelledby": uid + "-q" });
    box.appendChild(el("p", { id: uid + "-q", class: "q" }, t("How would you rate this conversation?")));
    var row = el("div", { class: "stars" });
    labels.forEach(function (label, i) {
      var b = el("button", { type: "button", class: "rate", "aria-pressed": "false", "aria-label": t("%(n)s of 5, %(label)s", { n: i + 1, label: label }), title: label }, String(i + 1));
      b.addEventListener("click", function () { rate(i + 1); });
      row.appendChild(b);
    });
    box.appendChild(row);
    var say = el("p", { class: "said", role: "status" });
    var form = el("form", { class: "comment", hidden: "" });
    var text = el("textarea", { rows: "2", id: uid + "-comment", maxlength: "5000" });
    form.append(el("label", { for: uid + "-comment" }, t("Anything to add? (optional)")), text,
      el("button", { type: "submit", class: "btn" }, t("Send feedback")));
    box.append(say, form);
    node.appendChild(box);
    list.appendChild(node); scroll();

    function post(fields) {
      fields.format = "json";
      return fetch(base + path, { method: "POST", body: new URLSearchParams(fields) })
        .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw new Error(b.error || "error"); return b; }); });
    }
    function rate(n) {
      post({ rating: String(n) }).then(function () {
        row.querySelectorAll(".rate").forEach(function (b, i) { b.setAttribute("aria-pressed", String(i + 1 === n)); });
        say.textContent = t("Thanks! You rated %(n)s of 5.", { n: n });
        form.hidden = false; text.focus();
      }, function (e) { say.textContent = e.message; });
    }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      post({ comment: text.value, finish: "1" }).then(function () {
        saved.rated[path] = true; persist();
        box.textContent = ""; box.appendChild(el("p", { class: "said", role: "status", tabindex: "-1" }, t("Thank you for your feedback!")));
        box.firstChild.focus();
      }, function (err) { say.textContent = err.message; });
    });
  }
  function sendFrame(obj) { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(obj)); return true; } return false; }
  function flushPending() {
    saved.pending.forEach(function (p) { sendFrame({ type: "send", client_id: p.client_id, text: p.text }); });
  }
  function connect() {
    clearTimeout(retryTimer);
    if (!saved.token) return start();
    ws = new WebSocket(wsUrl);
    ws.onopen = function () { ws.send(JSON.stringify({ type: "auth", token: saved.token, history: !historyShown })); };
    ws.onmessage = function (msg) {
      var d; try { d = JSON.parse(msg.data); } catch (e) { return; }
      if (d.type === "ready") {
        ready = true; delay = 500; cfg.online = d.online; cfg.has_email = d.has_email;
        if (d.history) {
          list.textContent = "";
          if (cfg.greeting) notice(cfg.greeting);
          d.history.messages.forEach(function (m) { render(m); });
          lastSeq = d.history.seq; historyShown = true;
          saved.pending.forEach(function (p) { if (!list.querySelector('[data-client="' + p.client_id + '"]')) pendingBubble(p); });
        }
        sendFrame({ type: "resume", last_seq: lastSeq });
        flushPending();
        if (isOpen) sendFrame({ type: "open", open: true });
        clearInterval(pinger);
        pinger = setInterval(function () { sendFrame({ type: "ping" }); }, 30000);
        updateStatus(); showCard();
      } else if (d.type === "event") apply(d);
      else if (d.type === "cursor") lastSeq = Math.max(lastSeq, d.seq);
      else if (d.type === "pong") { if ("online" in d && d.online !== cfg.online) { cfg.online = d.online; updateStatus(); } }
      else if (d.type === "ack") acked(d);
      else if (d.type === "typing") typingText(d);
      else if (d.type === "reload") { historyShown = false; lastSeq = 0; }
      else if (d.type === "contact") { cfg.has_email = d.has_email; cfg.prechat = false; showCard(); }
      else if (d.type === "transcript") notice(t("Transcript sent to %(email)s.", { email: d.email }));
      else if (d.type === "error") onError(d);
    };
    ws.onclose = function (e) {
      ready = false; updateStatus(); clearInterval(pinger);
      if (e.code === 4401) { saved.token = ""; persist(); }
      var wait = Math.min(delay, 15000) * (0.8 + Math.random() * 0.4);
      delay = Math.min(delay * 2, 15000);
      retryTimer = setTimeout(connect, wait);
    };
  }
  function typingText(d) {
    typing.textContent = "";
    if (d.typing) { typing.append(t("%(name)s is typing", { name: d.name || t("Support") })); typing.appendChild(el("span", { class: "dots", "aria-hidden": "true" })); }
  }
  function onError(d) {
    if (d.error === "invalid_token") return;
    if (d.client_id) {
      saved.pending = saved.pending.filter(function (p) { return p.client_id !== d.client_id; }); persist();
      var n = list.querySelector('[data-client="' + d.client_id + '"]');
      if (n) setTick(n, "failed");
    }
    showError(d.error);
  }
  function acked(d) {
    saved.pending = saved.pending.filter(function (p) { return p.client_id !== d.client_id; }); persist();
    var n = list.querySelector('[data-client="' + d.client_id + '"]');
    if (!n) return;
    if (list.querySelector('[data-id="' + d.id + '"]')) { n.remove(); return; } // the event came first
    n.dataset.id = d.id; setTick(n, "sent");
  }
  function pendingBubble(p) {
    var node = el("div", { class: "msg inbound", "data-client": p.client_id });
    var bubble = el("div", { class: "bubble" }); bubble.appendChild(el("span", { class: "text" }, p.text));
    var meta = el("div", { class: "meta" });
    meta.append(el("time", { datetime: p.at }, hhmm(p.at)), " ", el("span", { class: "tick" }));
    node.append(bubble, meta); list.appendChild(node); setTick(node, "pending"); scroll();
  }
  function start() {
    // Resume (or start) the visitor session: the token is our only credential, kept in localStorage.
    fetch(api + "session/", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: saved.token || "", user_id: userId, user_hash: userHash, page: location.href, referrer: document.referrer })
    }).then(function (r) { return r.json().then(function (b) { if (!r.ok) throw new Error(b.error || "error"); return b; }); })
      .then(function (b) {
        if (b.token !== saved.token) { saved.token = b.token; historyShown = false; persist(); }
        cfg = b.config; strings = cfg.strings || {}; relabel(); title.textContent = cfg.title; panel.setAttribute("aria-label", cfg.title);
        file.setAttribute("accept", (cfg.upload_types || []).join(","));
        attach.hidden = !(cfg.upload_types || []).length;
        input.maxLength = cfg.max_message_chars || 5000;
        connect();
      })
      .catch(function (e) {
        showError(/verified/.test(e.message) ? e.message : "");
        retryTimer = setTimeout(start, Math.min(delay *= 2, 15000));
      });
  }

  // --- the forms -----------------------------------------------------------------------------
  function showCard(kind) {
    var wasShown = !card.hidden, hadFocus = card.contains(root.activeElement);
    card.textContent = "";
    kind = kind || (cfg.prechat && !saved.prechatDone ? "prechat" : (!cfg.online && !cfg.has_email ? "offline" : ""));
    card.hidden = !kind;
    if (!kind) { if (wasShown && hadFocus && isOpen) input.focus(); return; }
    var intro = kind === "prechat" ? t("Before we start, how can we reach you?") : kind === "transcript"
      ? t("Where should we send the transcript?") : (cfg.offline_message || t("We're away. Leave your email and we'll reply there."));
    card.appendChild(el("p", { class: "intro" }, intro));
    var name = el("input", { id: "hdc-name", autocomplete: "name" });
    var email = el("input", { id: "hdc-email", type: "email", autocomplete: "email" });
    if (kind === "prechat") { card.append(el("label", { for: "hdc-name" }, t("Name")), name); }
    card.append(el("label", { for: "hdc-email" }, kind === "prechat" && !cfg.prechat_require_email ? t("Email (optional)") : t("Email")), email);
    var ok = el("button", { type: "submit", class: "btn" }, kind === "transcript" ? t("Send transcript") : kind === "prechat" ? t("Start chat") : t("Save"));
    card.appendChild(ok);
    // Opening the chat lands on the first field to fill (visitors type straight away).
    if (isOpen && (hadFocus || (!wasShown && (!root.activeElement || root.activeElement === input)))) focusFirst();
    card.onsubmit = function (e) {
      e.preventDefault();
      var v = email.value.trim();
      if ((kind !== "prechat" || cfg.prechat_require_email) && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v)) { showError(t("Please enter a valid email address.")); email.focus(); return; }
      showError("");
      if (kind === "transcript") { sendFrame({ type: "transcript", email: v }); card.hidden = true; return; }
      sendFrame({ type: "contact", name: name.value.trim(), email: v });
      if (kind === "prechat") { saved.prechatDone = true; persist(); }
      if (!v) { cfg.prechat = false; showCard(); } else card.hidden = true;
      if (card.hidden) input.focus(); // started: the next thing to do is write

    };
  }
  compose.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    showError("");
    var p = { client_id: uuid(), text: text, at: new Date().toISOString() };
    saved.pending.push(p); persist();  // kept until acknowledged: a dropped socket loses nothing
    pendingBubble(p);
    input.value = "";
    sendFrame({ type: "send", client_id: p.client_id, text: text });
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); compose.requestSubmit(); }
  });
  attach.addEventListener("click", function () { file.click(); });
  file.addEventListener("change", function () {
    var f = file.files[0]; file.value = "";
    if (!f) return;
    var types = cfg.upload_types || [];
    if (types.indexOf((f.type || "").toLowerCase()) < 0) { showError(t("Files of this type (%(type)s) cannot be sent here.", { type: f.type || t("unknown") })); return; }
    if (f.size > cfg.max_upload_bytes) { showError(t("The file is too large (at most %(mb)s MB).", { mb: Math.round(cfg.max_upload_bytes / 1048576) })); return; }
    var fd = new FormData(); fd.append("file", f); fd.append("client_id", uuid()); fd.append("text", "");
    status.textContent = t("Uploading %(name)s…", { name: f.name });
    fetch(api + "upload/", { method: "POST", body: fd, headers: { Authorization: "Bearer " + saved.token } })
      .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw new Error(b.error || t("Upload failed.")); }); })
      .then(function () { showError(""); }, function (err) { showError(err.message || t("Upload failed.")); })
      .then(updateStatus);
  });
  transcriptBtn.addEventListener("click", function () {
    if (cfg.has_email) sendFrame({ type: "transcript" }); else { showCard("transcript"); card.querySelector("input").focus(); }
  });

  // --- open / close ----------------------------------------------------------------------------
  function setOpen(open, quiet) {
    isOpen = open; panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    saved.open = open; persist();
    sendFrame({ type: "open", open: open });
    if (open) { markRead(); scroll(); if (!quiet) focusFirst(); } else { updateBadge(); if (!quiet) launcher.focus(); }
  }
  function focusFirst() {
    var field = !card.hidden && card.querySelector("input");
    (field || input).focus();
  }
  launcher.addEventListener("click", function () { setOpen(!isOpen); });
  closeBtn.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });
  window.addEventListener("online", function () { if (!ready) { delay = 500; connect(); } });
  window.addEventListener("storage", function (e) { // another tab of the same site
    if (e.key === key) { try { var s = JSON.parse(e.newValue || "{}"); saved.lastRead = s.lastRead; updateBadge(); } catch (x) { /* ignore */ } }
  });

  window.HelpdeskChat = {
    open: function () { setOpen(true); }, close: function () { setOpen(false); },
    state: function () { return { connected: ready, lastSeq: lastSeq, pending: saved.pending.length }; }
  };
  (document.body || document.documentElement).appendChild(host);
  updateStatus();
  if (saved.open) setOpen(true, true);
  start();
})();
