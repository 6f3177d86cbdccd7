// The notification bell: unread count (also in the tab title), the list, mark read, and the
// agent's opt-ins: desktop notifications (asked for on a click, never on load) and a sound
// (off by default, generated with Web Audio: nothing to download). New notifications arrive on
// the console's socket (console.js re-dispatches them as "helpdesk:notice"); after a reconnect
// the count is read again, since a push may have been lost while the socket was down.
(function () {
  "use strict";
  const root = document.getElementById("notifications");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const _ = window.gettext || ((s) => s);
  const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));
  const fmt = (s, values) => (window.interpolate ? window.interpolate(s, values, true)
    : s.replace(/%\((\w+)\)s/g, (_m, k) => String(values[k])));
  const bell = $("bell"), panel = $("notif-panel"), list = $("notif-list"), count = $("notif-count");
  const baseTitle = document.title.replace(/^\(\d+\) /, "");
  const ticketId = document.body.dataset.ticket ? parseInt(document.body.dataset.ticket, 10) : null;
  const csrf = () => (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
  const prefs = { desktop: "helpdesk-notify-desktop", sound: "helpdesk-notify-sound" };
  let unread = parseInt(root.dataset.unread || "0", 10);
  let loaded = false;

  function setUnread(n) {
    unread = Math.max(0, n);
    count.textContent = String(unread);
    count.hidden = unread === 0;
    bell.classList.toggle("unread", unread > 0);
    bell.setAttribute("aria-label", fmt(ngettext("Notifications: %(n)s unread", "Notifications: %(n)s unread", unread), { n: unread }));
    document.title = unread ? `(${unread}) ${baseTitle}` : baseTitle;
  }

  function when(iso) {
    const date = new Date(iso);
    const minutes = Math.round((Date.now() - date) / 60000);
    if (minutes < 1) return _("just now");
    if (minutes < 60) return fmt(ngettext("%(n)s min ago", "%(n)s min ago", minutes), { n: minutes });
    return date.toLocaleString();
  }

  function itemNode(n) {  // text only: subjects and excerpts come from customers
    const li = document.createElement("li");
    li.className = `notif-item${n.read ? "" : " unread"}`;
    li.dataset.id = n.id;
    li.dataset.ticket = n.ticket;
    const a = document.createElement("a");
    a.href = n.url;
    const kind = document.createElement("span");
    kind.className = `notif-kind k-${n.kind}`;
    kind.textContent = n.label;
    const title = document.createElement("strong");
    title.textContent = ` #${n.ticket} ${n.subject || _("(no subject)")}`;
    a.append(kind, title);
    if (n.actor) a.append(` · ${n.actor}`);
    if (n.text) {
      const text = document.createElement("span");
      text.className = "notif-text";
      text.textContent = n.text;
      a.append(text);
    }
    const time = document.createElement("time");
    time.dateTime = n.created_at;
    time.title = new Date(n.created_at).toLocaleString();
    time.textContent = when(n.created_at);
    a.append(time);
    li.append(a);
    return li;
  }

  function render(items) {
    list.replaceChildren();
    if (!items.length) {
      const empty = document.createElement("li");
      empty.className = "muted notif-empty";
      empty.textContent = _("No notifications yet.");
      list.append(empty);
    }
    for (const n of items) list.append(itemNode(n));
  }

  async function load() {
    const response = await fetch(root.dataset.recent, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const json = await response.json();
    setUnread(json.unread);
    render(json.items);
    loaded = true;
  }

  async function markRead(body) {
    const data = new URLSearchParams(body);
    const response = await fetch(root.dataset.read, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf() },
    });
    if (!response.ok) return;
    const json = await response.json();
    setUnread(json.unread);
    for (const li of list.querySelectorAll(".notif-item.unread")) {
      if (body.all || (body.ticket && li.dataset.ticket === String(body.ticket))) li.classList.remove("unread");
    }
  }

  function toggle(open) {
    panel.hidden = !open;
    bell.setAttribute("aria-expanded", String(open));
    if (open) {  // keyboard users land on the newest notification (or the panel's first button)
      load().then(() => (panel.querySelector(".notif-item a") || panel.querySelector("button")).focus());
    }
  }
  bell.addEventListener("click", () => toggle(panel.hidden));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) { toggle(false); bell.focus(); }
  });
  document.addEventListener("click", (event) => {
    if (!panel.hidden && !root.contains(event.target)) toggle(false);
  });
  $("notif-all-read").addEventListener("click", () => markRead({ all: "1" }));

  // ---- opt-ins ---------------------------------------------------------------------------
  const desktop = $("notif-desktop"), sound = $("notif-sound");
  const canNotify = "Notification" in window;
  desktop.checked = canNotify && localStorage.getItem(prefs.desktop) === "1" && Notification.permission === "granted";
  desktop.disabled = !canNotify || Notification.permission === "denied";
  if (canNotify && Notification.permission === "denied") desktop.title = _("Blocked in this browser's site settings");
  desktop.addEventListener("change", async () => {
    if (desktop.checked && Notification.permission !== "granted") {
      const answer = await Notification.requestPermission();  // asked on this click only
      desktop.checked = answer === "granted";
      desktop.disabled = answer === "denied";
    }
    localStorage.setItem(prefs.desktop, desktop.checked ? "1" : "0");
  });
  sound.checked = localStorage.getItem(prefs.sound) === "1";
  sound.addEventListener("change", () => {
    localStorage.setItem(prefs.sound, sound.checked ? "1" : "0");
    if (sound.checked) chime();  // what it will sound like (and unlocks audio in this tab)
  });

  let audio = null;
  function chime() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    audio = audio || new Context();
    const now = audio.currentTime;
    for (const [i, freq] of [[0, 880], [1, 1318.5]]) {  // two soft notes, 0.35 s in all
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + i * 0.12);
      gain.gain.exponentialRampToValueAtTime(0.15, now + i * 0.12 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.12 + 0.22);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + i * 0.12);
      osc.stop(now + i * 0.12 + 0.25);
    }
  }

  function desktopNotice(n) {
    if (!desktop.checked || !canNotify || Notification.permission !== "granted" || !document.hidden) return;
    // One per notification across the agent's tabs: the tag makes the browser replace duplicates.
    const shown = new Notification(`${n.label}: #${n.ticket} ${n.subject || ""}`.trim(),
      { body: [n.actor, n.text].filter(Boolean).join(": "), tag: `helpdesk-notification-${n.id}` });
    shown.onclick = () => { window.focus(); location.href = n.url; shown.close(); };
  }

  // ---- live ------------------------------------------------------------------------------
  document.addEventListener("helpdesk:notice", (event) => {
    const frame = event.detail;
    if (frame.app !== "notifications") return;
    const items = frame.items || [];
    const here = items.filter((n) => ticketId !== null && n.ticket === ticketId && !document.hidden);
    setUnread(frame.unread);
    if (loaded || !panel.hidden) {
      const empty = list.querySelector(".notif-empty");
      if (empty) empty.remove();
      for (const n of items.slice().reverse()) list.prepend(itemNode(n));
    }
    const elsewhere = items.filter((n) => !here.includes(n));
    for (const n of elsewhere) desktopNotice(n);
    if (elsewhere.length && sound.checked) chime();
    if (here.length) markRead({ ticket: String(ticketId) });  // the agent is looking at it already
  });
  document.addEventListener("helpdesk:reconnected", () => load());
  setUnread(unread);
  // Opening a ticket reads its notifications (as it reads its @mentions).
  if (ticketId !== null && unread > 0) markRead({ ticket: String(ticketId) });
})();
