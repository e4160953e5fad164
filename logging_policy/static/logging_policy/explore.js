// The explorer page: one uPlot line per group over time, and the raw events behind a table cell.
(function () {
  "use strict";
  const dataNode = document.getElementById("answer-data");
  if (!dataNode) return;
  const answer = JSON.parse(dataNode.textContent);
  const chart = document.getElementById("explore-chart");
  const series = answer.series;
  const palette = ["#417690", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#2c3e50", "#16a085", "#f39c12",
                   "#7f8c8d", "#e84393"];

  function label(group) {
    const parts = Object.entries(group).map(([k, v]) => `${k}=${v === null ? "(none)" : v}`);
    return parts.length ? parts.join(", ") : "all";
  }

  if (chart && series.buckets.length && window.uPlot) {
    const data = [series.buckets, ...series.lines.map((line) => line.values)];
    const opts = {
      width: Math.min(Math.max((chart.clientWidth || 900) - 20, 300), 900), height: 300,
      // The query's whole time range on the x axis, so a lone bucket sits where it belongs.
      scales: {x: {time: true, range: [series.start, series.end]}},
      series: [{}, ...series.lines.map((line, i) => ({
        label: label(line.group), stroke: palette[i % palette.length], width: 2, spanGaps: false,
        points: {show: true, size: 6},
      }))],
      axes: [{}, {size: 70}],
    };
    new window.uPlot(opts, data, chart);
  } else if (chart) {
    chart.textContent = "No time series: nothing matched.";
  }

  const rawBox = document.getElementById("raw-events");

  function show(events, group) {
    rawBox.textContent = "";
    const title = document.createElement("h2");
    title.textContent = `Newest kept events of ${label(group)} (${events.length}${events.length >= 50 ? ", the newest 50" : ""})`;
    rawBox.appendChild(title);
    for (const event of events) {
      const details = document.createElement("details");
      details.className = "raw-event";
      const summary = document.createElement("summary");
      const error = event.error ? ` ${event.error.code}` : "";
      summary.textContent = `${event.timestamp} ${event.operation}${error} ${event.request_id || ""}`;
      const pre = document.createElement("pre");
      pre.textContent = JSON.stringify(event, null, 2);
      details.appendChild(summary);
      details.appendChild(pre);
      rawBox.appendChild(details);
    }
  }

  document.querySelectorAll("a.raw-link").forEach((link) => {
    link.addEventListener("click", (click) => {
      click.preventDefault();
      const params = new URLSearchParams(window.location.search);
      params.set("format", "json");
      params.set("raw", "1");
      params.set("group", link.dataset.group);
      const groupValues = JSON.parse(link.dataset.group);
      const row = answer.rows.find((r) => JSON.stringify(Object.values(r.group)) === JSON.stringify(groupValues));
      fetch(`${window.location.pathname}?${params}`, {credentials: "same-origin"})
        .then((response) => response.json())
        .then((body) => {
          if (body.error) { rawBox.textContent = `${body.error.code}: ${body.error.message}`; return; }
          show(body.events, row ? row.group : {});
        });
    });
  });
})();
