/* Charts (uPlot) and the route map (Leaflet) of VoltTracker's pages; data comes from json_script tags. */
"use strict";

function vtData(id) {
  const tag = document.getElementById(id);
  return tag ? JSON.parse(tag.textContent) : null;
}

function vtWidth(el) {
  return Math.max(el.clientWidth || 0, 320);
}

/* A vertical line at each mark's x, labelled; drawn on every redraw. The chart element records where
   it drew (data-marks-drawn: the marks' pixel positions), so a page test can tell it was drawn. */
function vtMarksPlugin(marks) {
  return {
    hooks: {
      draw: [(u) => {
        const ctx = u.ctx, drawn = [];
        for (const mark of marks) {
          const x = Math.round(u.valToPos(mark.x, "x", true));
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
          ctx.save();
          ctx.strokeStyle = mark.color || "#c0392b";
          ctx.lineWidth = 2 * devicePixelRatio;
          ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.fillStyle = mark.color || "#c0392b";
          ctx.font = `${12 * devicePixelRatio}px sans-serif`;
          ctx.fillText(mark.label, x + 4 * devicePixelRatio, u.bbox.top + 14 * devicePixelRatio);
          ctx.restore();
          drawn.push(Math.round(x / devicePixelRatio));
        }
        u.root.parentElement.dataset.marksDrawn = drawn.join(",");
      }],
    },
  };
}

/* Times on charts read as on the page: in the site's zone (TIME_ZONE, not the browser's), 24-hour. */
const vtZone = document.querySelector('meta[name="vt-time-zone"]')?.content;
const vtDate = vtZone ? (ts) => uPlot.tzDate(new Date(ts * 1e3), vtZone) : (ts) => new Date(ts * 1e3);
const vtHourMinute = uPlot.fmtDate("{HH}:{mm}");
const vtHourMinuteSecond = uPlot.fmtDate("{HH}:{mm}:{ss}");

/* A time chart: `series` [{label, values, stroke, scale, unit}], two scales at most (left, right). */
function vtTimeChart(el, times, series, marks, height) {
  const scales = [...new Set(series.map((s) => s.scale))];
  const axes = [{values: (u, splits) => splits.map((v) => (v == null ? "" : vtHourMinute(vtDate(v))))}];
  scales.forEach((scale, i) => {
    const units = series.filter((s) => s.scale === scale).map((s) => s.unit);
    axes.push({scale, side: i === 0 ? 3 : 1, grid: {show: i === 0}, label: [...new Set(units)].join(" / ")});
  });
  const opts = {
    width: vtWidth(el), height: height || 260, tzDate: vtDate,
    scales: {x: {time: true}},
    series: [{value: (u, v) => (v == null ? "–" : vtHourMinuteSecond(vtDate(v)))}, ...series.map((s) => ({
      label: s.label, stroke: s.stroke, scale: s.scale, width: 1.5, spanGaps: true,
      value: (u, v) => (v == null ? "–" : `${v} ${s.unit}`),
    }))],
    axes,
    plugins: [vtMarksPlugin(marks || [])],
  };
  return vtFollowWidth(el, new uPlot(opts, [times, ...series.map((s) => s.values)], el));
}

/* Charts keep the width of their box when the page's layout settles or the window changes. */
function vtFollowWidth(el, chart) {
  new ResizeObserver(() => {
    const width = vtWidth(el);
    if (Math.abs(width - chart.width) > 2) chart.setSize({width, height: chart.height});
  }).observe(el);
  return chart;
}

/* Points of y against x (x sorted), no lines: a scatter or a trend's samples. */
function vtPointsChart(el, xs, ys, xLabel, yLabel, stroke) {
  const opts = {
    width: vtWidth(el), height: 260,
    scales: {x: {time: false}},
    series: [{label: xLabel}, {label: yLabel, stroke: stroke || "#2c7fb8", paths: () => null,
                               points: {show: true, size: 7, fill: stroke || "#2c7fb8"}}],
    axes: [{label: xLabel}, {label: yLabel}],
  };
  return vtFollowWidth(el, new uPlot(opts, [xs, ys], el));
}

/* The route: OpenStreetMap tiles when the browser is online; the track is drawn either way, on a
   blank background when the tiles cannot load. */
function vtTrackMap(el, track) {
  if (!track || track.length === 0) {
    el.textContent = "No GPS readings in this trip.";
    el.classList.add("vt-empty");
    return null;
  }
  const map = L.map(el, {preferCanvas: false});
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19, attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
  }).addTo(map);
  const line = L.polyline(track, {color: "#c0392b", weight: 4}).addTo(map);
  L.circleMarker(track[0], {radius: 6, color: "#1a9850", fillOpacity: 1}).bindTooltip("start").addTo(map);
  L.circleMarker(track[track.length - 1], {radius: 6, color: "#333", fillOpacity: 1}).bindTooltip("end").addTo(map);
  map.fitBounds(line.getBounds(), {padding: [20, 20]});
  el.dataset.points = String(track.length);
  return map;
}
