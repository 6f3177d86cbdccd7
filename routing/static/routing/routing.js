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
  // The first beat after the console's socket had time to register the connection.
  setTimeout(beat, 1500);
  setInterval(beat, 30000);
})();
