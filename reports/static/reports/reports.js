// The Reports page (issue 15). Every chart is drawn from the table beside it: the numbers are the
// cells' data-value, the labels the rows' headings, and a click on a bar or point follows the
// cell's own link to the drill-down. So the table stays the source of truth, and a person on a
// keyboard or a screen reader gets every figure and every drill-down from the table alone.
// Colours are the console's custom properties, read again when the theme changes.
(function () {
  "use strict";
  const root = document.documentElement;
  const charts = [];

  function token(name) { return getComputedStyle(root).getPropertyValue(name).trim(); }
  function palette() { return [token("--accent"), token("--ok"), token("--warn"), token("--bad"), token("--muted")]; }

  function readTable(table) {
    const heads = Array.from(table.tHead.rows[0].cells);
    const rows = Array.from(table.tBodies[0].rows).filter((row) => !row.classList.contains("empty"));
    const labels = rows.map((row) => row.cells[0].textContent.trim());
    const series = [];
    heads.forEach((th, i) => {
      if (!th.dataset.series) return;
      series.push({
        label: th.textContent.trim(),
        kind: th.dataset.series,
        unit: th.dataset.unit || "",
        data: rows.map((row) => { const v = row.cells[i].dataset.value; return v === "" ? null : Number(v); }),
        links: rows.map((row) => { const a = row.cells[i].querySelector("a"); return a ? a.href : null; }),
      });
    });
    return { labels, series };
  }

  function unitLabel(unit) {
    if (unit === "h") return gettext("hours");
    if (unit === "%") return "%";
    return "";
  }

  function options(table, horizontal) {
    const unit = table.dataset.unit || "";
    const fg = token("--fg"), muted = token("--muted"), line = token("--line");
    const valueAxis = { beginAtZero: true, ticks: { color: muted, precision: unit === "" ? 0 : undefined },
      grid: { color: line }, title: { display: unit !== "", text: unitLabel(unit), color: muted } };
    const labelAxis = { ticks: { color: muted, autoSkip: true, maxRotation: 0 }, grid: { display: false } };
    return {
      indexAxis: horizontal ? "y" : "x",
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "nearest", intersect: true },
      scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
      plugins: { legend: { labels: { color: fg } }, tooltip: { callbacks: { footer: () => gettext("Click to see the tickets") } } },
      onClick: (event, elements, chart) => {
        if (!elements.length) return;
        const href = chart.data.datasets[elements[0].datasetIndex].links[elements[0].index];
        if (href) window.location.assign(href);
      },
      onHover: (event, elements, chart) => { chart.canvas.style.cursor = elements.length ? "pointer" : "default"; },
    };
  }

  function datasets(series, type) {
    const colours = palette();
    return series.map((s, i) => ({
      label: s.label,
      type: type === "hbar" ? "bar" : s.kind,
      data: s.data,
      links: s.links,
      backgroundColor: colours[i % colours.length],
      borderColor: colours[i % colours.length],
      borderWidth: s.kind === "line" ? 2 : 0,
      pointRadius: s.kind === "line" ? 3 : 0,
      pointHoverRadius: 6,
      spanGaps: true,
      order: s.kind === "line" ? 0 : 1,  // lines over bars
    }));
  }

  function draw(table) {
    const canvas = document.getElementById(table.dataset.chart);
    if (!canvas || typeof Chart === "undefined") return;
    const { labels, series } = readTable(table);
    const type = table.dataset.type;
    const horizontal = type === "hbar";
    if (horizontal) canvas.parentElement.style.minHeight = `${Math.max(220, labels.length * 28 + 60)}px`;
    const chart = new Chart(canvas, {
      type: horizontal ? "bar" : (type === "line" ? "line" : "bar"),
      data: { labels, datasets: datasets(series, type) },
      options: options(table, horizontal),
    });
    charts.push({ chart, table, series, type });
  }

  function recolour() {
    for (const item of charts) {
      item.chart.data.datasets = datasets(item.series, item.type);
      item.chart.options = options(item.table, item.type === "hbar");
      item.chart.update("none");
    }
  }

  function wireDefinitions() {
    document.querySelectorAll(".def-toggle").forEach((button) => {
      const text = document.getElementById(button.getAttribute("aria-controls"));
      button.addEventListener("click", () => {
        const open = button.getAttribute("aria-expanded") !== "true";
        button.setAttribute("aria-expanded", String(open));
        text.classList.toggle("open", open);
      });
      button.addEventListener("keydown", (event) => {
        if (event.key === "Escape") { button.setAttribute("aria-expanded", "false"); text.classList.remove("open"); }
      });
    });
  }

  function wireForm() {
    const period = document.getElementById("r-period");
    const custom = document.getElementById("r-custom");
    if (!period || !custom) return;
    // The dates matter only for a custom range: shown when it is chosen, and choosing a date chooses it.
    const show = () => { custom.hidden = period.value !== "custom"; };
    period.addEventListener("change", show);
    custom.querySelectorAll("input").forEach((input) => input.addEventListener("change", () => { period.value = "custom"; }));
    show();
  }

  function start() {
    wireForm();
    wireDefinitions();
    document.querySelectorAll("table[data-chart]").forEach(draw);
    new MutationObserver(recolour).observe(root, { attributes: true, attributeFilter: ["data-theme"] });
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", recolour);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
