// The charts of the report pages, drawn by Chart.js (static/vendor/chartjs, loaded just
// before this file). Every <canvas data-chart="kind" data-source="id"> reads its data from
// the JSON script element with that id, written by the server with `json_script`: labels
// and series names arrive in the page's language, so this file holds no words of its own.
(function () {
  "use strict";

  if (typeof Chart === "undefined") return; // the page keeps its tables

  const COLORS = ["#c81623", "#2563eb", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777"];
  const lang = document.documentElement.lang || undefined;
  const counts = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
  const amounts = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const shares = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });

  const body = getComputedStyle(document.body);
  Chart.defaults.font.family = body.fontFamily;
  Chart.defaults.color = body.getPropertyValue("--muted").trim() || "#616e7c";
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = window.matchMedia("(prefers-reduced-motion: reduce)").matches
    ? false
    : Chart.defaults.animation;

  function readJSON(id) {
    const element = id && document.getElementById(id);
    if (!element) return null;
    try {
      return JSON.parse(element.textContent);
    } catch {
      return null;
    }
  }

  function format(value, money) {
    if (value === null || value === undefined) return "—";
    return (money ? amounts : counts).format(value);
  }

  // Overview: paid amount as bars on the left axis, paying people as a line on the right.
  function trend(canvas, data) {
    const axisTitle = data.axes || {};
    return new Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: data.series.map((series) => {
          const money = series.axis === "money";
          return {
            type: money ? "bar" : "line",
            label: series.label,
            data: series.data,
            yAxisID: money ? "money" : "count",
            backgroundColor: money ? "rgba(200, 22, 35, 0.25)" : COLORS[1],
            borderColor: money ? COLORS[0] : COLORS[1],
            borderWidth: money ? 1 : 2,
            pointRadius: 2,
            spanGaps: false,
            order: money ? 2 : 1,
            money,
          };
        }),
      },
      options: {
        interaction: { mode: "index", intersect: false },
        scales: {
          money: {
            position: "left",
            beginAtZero: true,
            title: { display: Boolean(axisTitle.money), text: axisTitle.money },
            ticks: { callback: (value) => counts.format(value) },
          },
          count: {
            position: "right",
            beginAtZero: true,
            grid: { drawOnChartArea: false },
            title: { display: Boolean(axisTitle.count), text: axisTitle.count },
            ticks: { precision: 0, callback: (value) => counts.format(value) },
          },
        },
        plugins: {
          // `order` puts the line above the bars; the legend keeps the server's order.
          legend: { labels: { sort: (a, b) => a.datasetIndex - b.datasetIndex } },
          tooltip: {
            callbacks: {
              label: (item) => `${item.dataset.label}: ${format(item.raw, item.dataset.money)}`,
            },
          },
        },
      },
    });
  }

  // One package: a line per metric over the days.
  function lines(canvas, data) {
    return new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.series.map((series, index) => ({
          label: series.label,
          data: series.data,
          borderColor: COLORS[index % COLORS.length],
          backgroundColor: COLORS[index % COLORS.length],
          borderWidth: 2,
          pointRadius: data.labels.length > 40 ? 0 : 3,
          tension: 0.2,
        })),
      },
      options: {
        interaction: { mode: "index", intersect: false },
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0, callback: (value) => counts.format(value) } },
        },
        plugins: {
          tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${format(item.raw)}` } },
        },
      },
    });
  }

  // Writes "what share of the step before" above each bar of the funnel.
  const stepShares = {
    id: "reportStepShares",
    afterDatasetsDraw(chart) {
      const { ctx } = chart;
      const values = chart.data.datasets[0].data;
      const meta = chart.getDatasetMeta(0);
      ctx.save();
      ctx.font = `600 12px ${Chart.defaults.font.family}`;
      ctx.fillStyle = "#1f2933";
      ctx.textAlign = "center";
      meta.data.forEach((bar, index) => {
        const text = index === 0 ? format(values[0]) : share(values[index], values[index - 1]);
        ctx.fillText(text, bar.x, bar.y - 6);
      });
      ctx.restore();
    },
  };

  function share(value, before) {
    return before ? shares.format(value / before) : "—";
  }

  function funnel(canvas, data) {
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          {
            data: data.data,
            backgroundColor: data.data.map((_, index) => COLORS[index % COLORS.length]),
            borderRadius: 4,
          },
        ],
      },
      options: {
        layout: { padding: { top: 22 } },
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0, callback: (value) => counts.format(value) } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: (item) => {
                const text = format(item.raw);
                if (item.dataIndex === 0) return text;
                const before = data.data[item.dataIndex - 1];
                return `${text} (${share(item.raw, before)} ${data.step_label || ""})`;
              },
            },
          },
        },
      },
      plugins: [stepShares],
    });
  }

  // Top products: one list at a time, chosen with the select named by data-top-select.
  function top(canvas, data) {
    const lists = data.lists || {};
    const select = document.querySelector(`[data-top-select="${canvas.id}"]`);
    const first = select && select.value in lists ? select.value : Object.keys(lists)[0];
    if (!first) return null;
    const valueLabel = (list) => (list.money ? data.value_label.money : data.value_label.count);
    const chart = new Chart(canvas, {
      type: "bar",
      data: { labels: [], datasets: [{ data: [], backgroundColor: COLORS[0], borderRadius: 3 }] },
      options: {
        indexAxis: "y",
        scales: { x: { beginAtZero: true, ticks: { callback: (value) => counts.format(value) } } },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: (item) => `${item.dataset.label}: ${format(item.raw, item.dataset.money)}`,
            },
          },
        },
      },
    });
    function show(name) {
      const list = lists[name];
      if (!list) return;
      chart.data.labels = list.labels;
      Object.assign(chart.data.datasets[0], {
        data: list.data,
        label: valueLabel(list),
        money: list.money,
      });
      chart.update();
    }
    show(first);
    if (select) select.addEventListener("change", () => show(select.value));
    return chart;
  }

  const KINDS = { trend, lines, funnel, top };

  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const draw = KINDS[canvas.dataset.chart];
    const data = readJSON(canvas.dataset.source);
    if (!draw || !data || (!data.labels && !data.lists)) return;
    draw(canvas, data);
  });
})();
