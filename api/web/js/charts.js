// Hourly AQI charts (uPlot), drawn over bands in the decision's category colours.
export function aqiChart(el, rows, levels, width, from, to) {
  const xs = rows.map((r) => new Date(r.start).getTime() / 1000);
  const ys = rows.map((r) => r.aqi);
  const top = Math.max(200, ...ys.map((y) => y + 20));
  const bands = (u) => {
    const { ctx, bbox } = u;
    ctx.save();
    for (const level of levels) {
      const y0 = u.valToPos(Math.min(level.high + (level.high < 500 ? 0.5 : 0), top), "y", true);
      const y1 = u.valToPos(Math.max(level.low - 0.5, 0), "y", true);
      if (level.low > top) continue;
      ctx.fillStyle = `rgba(${level.colour.join(",")},0.18)`;
      ctx.fillRect(bbox.left, y0, bbox.width, y1 - y0);
    }
    ctx.restore();
  };
  return new uPlot({
    width, height: 150, legend: { show: false }, cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true, min: from, max: to }, y: { range: [0, top] } },
    axes: [{ stroke: "#9fb0c0", grid: { stroke: "#2a3a4a" }, values: (u, splits) => splits.map((ts) => tick(ts, to - from)) },
           { stroke: "#9fb0c0", grid: { stroke: "#2a3a4a" }, size: 40 }],
    series: [{}, { stroke: "#ffffff", width: 2, points: { show: rows.length < 40 }, spanGaps: false }],
    hooks: { drawClear: [bands] },
  }, [xs, ys], el);
}

// A time tick in Vietnam's time: hours over a day, day/month over longer ranges.
function tick(ts, range) {
  const options = range > 2 * 86400 ? { day: "2-digit", month: "2-digit" } : { hour: "2-digit", minute: "2-digit" };
  return new Date(ts * 1000).toLocaleString("en-GB", { timeZone: "Asia/Ho_Chi_Minh", ...options });
}
