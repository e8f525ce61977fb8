// A Linkflow report page: draws the snapshot with Chart.js (static/vendor/chartjs, loaded
// just before this file) and, while Linkflow computes the report, asks the REST API again
// every couple of seconds until it is ready or failed. The server sends the report already
// normalized (`chart`: kind, labels, series, numbers, table; see reports/cdp/charts.py) and
// every word in the page's language (#report-labels), so this file holds no words of its own.
(function () {
  "use strict";

  const root = document.getElementById("linkflow-report");
  if (!root) return;

  const COLORS = ["#c81623", "#2563eb", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];
  const IN_FLIGHT = ["pending", "computing"];
  const lang = document.documentElement.lang || undefined;
  const numbers = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
  const labels = readJSON("report-labels") || { status: {} };
  const interval = Number(root.dataset.pollMs) || 2000;
  const $ = (id) => document.getElementById(id);

  let chart = null;
  let drawnAt = undefined; // ready_at of the snapshot on screen
  let failures = 0;

  function readJSON(id) {
    const element = document.getElementById(id);
    if (!element) return null;
    try {
      return JSON.parse(element.textContent);
    } catch {
      return null;
    }
  }

  function format(value) {
    return value === null || value === undefined ? "—" : numbers.format(value);
  }

  // "2024-05-20 09:30:00" in the browser's time, as the server writes it.
  function stamp(iso) {
    const at = new Date(iso);
    const two = (n) => String(n).padStart(2, "0");
    const day = `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}`;
    return `${day} ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
  }

  function color(index, alpha) {
    const hex = COLORS[index % COLORS.length];
    if (alpha === undefined) return hex;
    const [r, g, b] = [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16));
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }

  // --- drawing -----------------------------------------------------------------------------

  function pie(canvas, data) {
    return new Chart(canvas, {
      type: "pie",
      data: {
        labels: data.labels,
        datasets: data.series.map((series) => ({
          label: series.label,
          data: series.data,
          backgroundColor: data.labels.map((_, index) => color(index)),
        })),
      },
      options: {
        plugins: {
          tooltip: { callbacks: { label: (item) => `${item.label}: ${format(item.raw)}` } },
        },
      },
    });
  }

  function series(canvas, data) {
    const twoAxes = data.series.some((s) => s.axis === "right");
    const anyBar = data.series.some((s) => s.render === "bar");
    const axis = (position) => ({
      position,
      stacked: data.stacked,
      beginAtZero: true,
      grid: position === "right" ? { drawOnChartArea: false } : undefined,
      ticks: { callback: (value) => format(value) },
    });
    const scales = { x: { stacked: data.stacked }, left: axis("left") };
    if (twoAxes) scales.right = axis("right");
    return new Chart(canvas, {
      type: anyBar ? "bar" : "line",
      data: {
        labels: data.labels,
        datasets: data.series.map((s, index) => {
          const bar = s.render === "bar";
          const area = s.render === "area";
          return {
            type: bar ? "bar" : "line",
            label: s.label,
            data: s.data,
            yAxisID: s.axis === "right" ? "right" : "left",
            stack: data.stacked ? s.stack : undefined,
            borderColor: color(index),
            backgroundColor: bar || area ? color(index, area ? 0.35 : 0.75) : color(index),
            borderWidth: bar ? 1 : 2,
            fill: area ? (data.stacked ? "stack" : "origin") : false,
            pointRadius: data.labels.length > 40 ? 0 : 3,
            tension: 0.2,
            spanGaps: false,
            order: bar ? 2 : 1, // lines above bars
          };
        }),
      },
      options: {
        interaction: { mode: "index", intersect: false },
        scales,
        plugins: {
          legend: { labels: { sort: (a, b) => a.datasetIndex - b.datasetIndex } },
          tooltip: {
            callbacks: { label: (item) => `${item.dataset.label}: ${format(item.raw)}` },
          },
        },
      },
    });
  }

  function showNumbers(data) {
    const list = $("report-numbers");
    list.replaceChildren(
      ...data.numbers.map((item) => {
        const wrap = document.createElement("div");
        const term = document.createElement("dt");
        const value = document.createElement("dd");
        term.textContent = item.label;
        value.textContent = item.value === null ? item.text || "—" : format(item.value);
        wrap.append(term, value);
        return wrap;
      }),
    );
  }

  function draw(data) {
    const panel = $("report-chart-panel");
    const canvas = $("report-chart");
    if (chart) {
      chart.destroy();
      chart = null;
    }
    panel.hidden = !data || data.kind === "table";
    canvas.dataset.kind = data ? data.kind : "";
    root.dataset.chartType = data ? data.type : "";
    if (panel.hidden) return;
    $("report-numbers").hidden = data.kind !== "numbers";
    $("report-chart-box").hidden = data.kind === "numbers";
    if (data.kind === "numbers") {
      showNumbers(data);
    } else if (typeof Chart !== "undefined" && data.series.length) {
      Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
      Chart.defaults.maintainAspectRatio = false;
      if (window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
        Chart.defaults.animation = false;
      }
      chart = data.kind === "pie" ? pie(canvas, data) : series(canvas, data);
    }
  }

  function fillTable(table) {
    const head = document.createElement("tr");
    table.columns.forEach((column, index) => {
      const cell = document.createElement("th");
      cell.scope = "col";
      if (index >= table.label_columns) cell.className = "number";
      cell.textContent = column;
      head.append(cell);
    });
    const rows = table.rows.map((row) => {
      const line = document.createElement("tr");
      row.forEach((value, index) => {
        const isLabel = index < table.label_columns;
        const cell = document.createElement(isLabel ? "th" : "td");
        if (isLabel) cell.scope = "row";
        else cell.className = "number";
        cell.textContent = value || "—";
        line.append(cell);
      });
      return line;
    });
    if (!rows.length) {
      const line = document.createElement("tr");
      const cell = document.createElement("td");
      cell.colSpan = Math.max(table.columns.length, 1);
      cell.textContent = labels.empty || "";
      line.append(cell);
      rows.push(line);
    }
    const element = $("report-table");
    element.tHead.replaceChildren(head);
    element.tBodies[0].replaceChildren(...rows);
    $("report-table-truncated").hidden = !table.truncated;
    $("report-table-panel").hidden = false;
  }

  // --- state -------------------------------------------------------------------------------

  function render(state, { tableOnPage = false } = {}) {
    const inFlight = IN_FLIGHT.includes(state.status);
    root.dataset.status = state.status;
    const badge = $("report-status");
    badge.dataset.status = state.status;
    badge.textContent = labels.status[state.status] || state.status;
    $("report-progress").hidden = !inFlight;
    const refresh = $("refresh-report");
    if (refresh) refresh.disabled = inFlight;
    $("report-error").hidden = !state.error;
    $("report-error-text").textContent = state.error || "";
    if (state.name) $("report-name").textContent = state.name;
    if (state.chart && state.ready_at !== drawnAt) {
      drawnAt = state.ready_at;
      draw(state.chart);
      if (!tableOnPage) {
        $("report-chart-type").textContent = state.chart.type_label || state.chart.type || "—";
        $("report-ready-at").textContent = stamp(state.ready_at);
        fillTable(state.chart.table);
      }
    }
    return inFlight;
  }

  async function poll() {
    try {
      const response = await fetch(root.dataset.api, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      failures = 0;
      if (render(await response.json())) window.setTimeout(poll, interval);
    } catch {
      failures += 1;
      if (failures >= 3) {
        $("report-error").hidden = false;
        $("report-error-text").textContent = labels.poll_failed || "";
        return;
      }
      window.setTimeout(poll, interval * 2);
    }
  }

  const initial = readJSON("report-state");
  if (!initial) return;
  // The server already wrote the table of the snapshot it rendered.
  if (render(initial, { tableOnPage: true })) window.setTimeout(poll, interval);
})();
