// The console's visual primitives for rows rendered live (issue 17), the twins of
// tickets/console/icons.py and avatars.py (keep them in step):
//   helpdeskUI.icon(name, label)    an <svg> using the sprite (console/icons.svg)
//   helpdeskUI.channel(key)         a channel's icon, named for screen readers and on hover
//   helpdeskUI.avatar(name, picture) initials on a colour derived from the name, or our picture
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const script = document.currentScript;
  const sprite = (script && script.dataset.sprite) || "/static/console/icons.svg";
  const CHANNEL_ICONS = { email: "email", sms: "sms", whatsapp: "whatsapp", messenger: "messenger",
    instagram: "instagram", telegram: "telegram", chat: "chat" };
  const _ = window.gettext || ((s) => s);  // Django's JavaScript catalog (/jsi18n/), loaded first
  const CHANNEL_LABELS = { email: _("Email"), sms: "SMS", whatsapp: "WhatsApp", messenger: "Messenger",
    instagram: "Instagram", telegram: "Telegram", chat: _("Live chat") };
  const PALETTE_SIZE = 8;

  function icon(name, label) {
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("class", `icon i-${name}`);
    svg.setAttribute("focusable", "false");
    if (label) { svg.setAttribute("role", "img"); svg.setAttribute("aria-label", label); }
    else svg.setAttribute("aria-hidden", "true");
    const use = document.createElementNS(NS, "use");
    use.setAttribute("href", `${sprite}#i-${name}`);
    svg.append(use);
    return svg;
  }
  function channel(key) {
    const label = CHANNEL_LABELS[key] || key;
    const span = document.createElement("span");
    span.className = `channel ch-${key}`;
    span.title = label;
    span.append(icon(CHANNEL_ICONS[key] || "channel", label));
    return span;
  }
  // Same rules as avatars.initials() and avatars.colour() (crc32 of the lower-cased name).
  function initials(name) {
    const words = ((name || "").split("@")[0].match(/[\p{L}\p{M}]+|\d+/gu) || []);
    const letters = words.filter((w) => !/^\d+$/.test(w)).map((w) => w[0]);
    if (!letters.length) return words.length ? "#" : "?";
    return (letters[0] + (letters.length > 1 ? letters[letters.length - 1] : "")).toUpperCase();
  }
  let table = null;
  function crc32(text) {
    if (!table) {
      table = new Uint32Array(256);
      for (let n = 0; n < 256; n++) {
        let c = n;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
        table[n] = c >>> 0;
      }
    }
    let crc = 0xffffffff;
    for (const byte of new TextEncoder().encode(text)) crc = table[(crc ^ byte) & 0xff] ^ (crc >>> 8);
    return (crc ^ 0xffffffff) >>> 0;
  }
  function colour(name) { return crc32((name || "").trim().toLowerCase()) % PALETTE_SIZE; }
  function avatar(name, picture, size) {
    const cls = `avatar${size ? ` avatar-${size}` : ""}`;
    if (picture && picture.startsWith("/") && !picture.startsWith("//")) {
      const img = document.createElement("img");
      img.className = cls;
      img.src = picture;
      img.alt = "";
      img.referrerPolicy = "no-referrer";
      return img;
    }
    const span = document.createElement("span");
    span.className = `${cls} av-${colour(name)}`;
    span.setAttribute("aria-hidden", "true");
    span.textContent = initials(name);
    return span;
  }
  window.helpdeskUI = { icon, channel, avatar, initials, colour };
})();
