/* The dashboard's two small charts, drawn by Chart.js (npm) from the page's JSON config: visits per day
 * and enrolments per agent stacked by status. Every label comes from the config, in the reader's language. */
(function () {
  "use strict";

  var cfg = JSON.parse(document.getElementById("chart-config").textContent);
  var COLOURS = {
    verified: "#1a9850",
    duplicate: "#fdae61",
    needs_correction: "#4575b4",
    rejected: "#d73027",
    received: "#878787",
  };
  var common = { responsive: true, maintainAspectRatio: false, animation: false };

  var visits = new Chart(document.getElementById("chart-visits"), {
    type: "bar",
    data: {
      labels: cfg.visitsPerDay.days,
      datasets: [{ label: cfg.visitsPerDay.label, data: cfg.visitsPerDay.counts, backgroundColor: "#0b5394" }],
    },
    options: Object.assign({}, common, {
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    }),
  });

  var agents = new Chart(document.getElementById("chart-agents"), {
    type: "bar",
    data: {
      labels: cfg.enrollmentsPerAgent.agents,
      datasets: cfg.enrollmentsPerAgent.series.map(function (series) {
        return { label: series.label, data: series.counts, backgroundColor: COLOURS[series.status] || "#444" };
      }),
    },
    options: Object.assign({}, common, {
      indexAxis: "y",
      scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } },
    }),
  });

  window.jangkauCharts = { visits: visits, agents: agents };
  document.body.dataset.charts = "drawn";
})();
