// A group: its status, each partition's rule and evidence, and a chart per
// topic of committed offsets against the broker's log end.
"use strict";

(() => {
  const { el, badge, fmtInt, fmtSeconds, since, order } = W;
  const params = new URLSearchParams(location.search);
  const cluster = params.get("cluster") || "";
  const group = params.get("group") || "";
  const badOnly = document.getElementById("bad-only");
  const charts = new Map(); // topic -> {section, canvas, select, summary}
  let data = null;

  document.getElementById("name").textContent = group;
  document.getElementById("crumb-group").textContent = group;
  const crumb = document.getElementById("crumb-cluster");
  crumb.textContent = "Cluster " + cluster;
  crumb.href = W.clusterURL(cluster);
  document.title = group + " – Warren";

  function lagTime(p) {
    if (p.lag_seconds === null || p.lag_seconds === undefined) return "–";
    return (p.lag_estimated ? "≈ " : "") + fmtSeconds(p.lag_seconds);
  }

  function renderFacts() {
    document.getElementById("status").replaceChildren(badge(data.status));
    const counts = {};
    for (const p of data.partitions) counts[p.status] = (counts[p.status] || 0) + 1;
    const byStatus = order.filter((s) => counts[s]).map((s) => fmtInt(counts[s]) + " " + s).join(", ");
    const facts = [
      ["Cluster", el("a", { href: W.clusterURL(data.cluster), text: data.cluster })],
      ["In this status for", since(data.since, data.now, data.since_first_seen)],
      ["Lag (messages)", fmtInt(data.totallag)],
      ["Partitions", fmtInt(data.partition_count) + (byStatus ? " (" + byStatus + ")" : "")],
      ["Window complete", Math.round(data.complete * 100) + " %"],
    ];
    if (data.incident) {
      const i = data.incident;
      facts.push(["Open incident", el("span", null, el("code", { text: i.id }), " since ", W.fmtTime(i.since),
        ", told: " + (i.told.length ? i.told.join(", ") : "none yet"))]);
    }
    document.getElementById("facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", null, v)]));
  }

  function renderTable() {
    const tbody = document.getElementById("partitions").tBodies[0];
    const only = badOnly.checked;
    const frag = document.createDocumentFragment();
    let shown = 0;
    for (const p of data.partitions) {
      if (only && p.status === "OK") continue;
      shown++;
      frag.append(el("tr", null,
        el("td", null, p.topic),
        el("td", { cls: "num" }, String(p.partition)),
        el("td", null, badge(p.status)),
        el("td", { cls: "num" }, fmtInt(p.current_lag)),
        el("td", { cls: "num" }, lagTime(p)),
        el("td", null, p.owner || "–"),
        el("td", null, p.client_id || "–"),
        el("td", { cls: "why" }, p.why || (p.status === "OK" ? "keeping up" : "–"))));
    }
    tbody.replaceChildren(frag);
    document.getElementById("count").textContent = shown + " of " + data.partitions.length + " partitions";
  }

  // colours reads the palette of the current colour scheme.
  function colours() {
    const css = getComputedStyle(document.documentElement);
    const v = (name) => css.getPropertyValue(name).trim();
    return {
      fg: v("--fg"), muted: v("--muted"), line: v("--line"), broker: v("--broker"),
      status: { OK: v("--ok"), WARN: v("--warn"), ERR: v("--err"), STOP: v("--err"), STALL: v("--stall"),
        REWIND: v("--rewind"), NOTFOUND: v("--none") },
    };
  }

  function abbrev(n) {
    const a = Math.abs(n);
    if (a >= 1e12) return (n / 1e12).toFixed(2) + "T";
    if (a >= 1e9) return (n / 1e9).toFixed(2) + "G";
    if (a >= 1e6) return (n / 1e6).toFixed(2) + "M";
    if (a >= 1e4) return (n / 1e3).toFixed(1) + "k";
    return String(Math.round(n));
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString(undefined, { hour12: false });
  }

  // draw plots the topic's partitions (or only one) on its canvas: one path
  // per colour, so that 500 partitions are a handful of strokes.
  function draw(chart, topic, status) {
    const canvas = chart.canvas;
    const only = chart.select.value === "" ? null : Number(chart.select.value);
    const series = only === null ? topic.partitions : topic.partitions.filter((s) => s.partition === only);
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 600, h = canvas.clientHeight || 260;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const c = colours();
    let t0 = Infinity, t1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const s of series) {
      for (const arr of [s.commits, s.broker]) {
        for (let i = 0; i < arr.length; i += 2) {
          if (arr[i] < t0) t0 = arr[i];
          if (arr[i] > t1) t1 = arr[i];
          if (arr[i + 1] < y0) y0 = arr[i + 1];
          if (arr[i + 1] > y1) y1 = arr[i + 1];
        }
      }
    }
    ctx.font = "12px system-ui, sans-serif";
    if (t0 === Infinity) {
      ctx.fillStyle = c.muted;
      ctx.fillText("No commits or log end readings in the window yet.", 12, 24);
      chart.drawn = 0;
      return;
    }
    // Up to now, so that a consumer that stopped shows as a gap.
    if (data && data.now > t1) t1 = data.now;
    if (t1 === t0) { t0 -= 1000; t1 += 1000; }
    if (y1 === y0) { y0 -= 1; y1 += 1; }
    const pad = (y1 - y0) * 0.04;
    y0 = Math.max(0, y0 - pad); y1 += pad;
    const L = 64, R = 12, T = 10, B = 24;
    const x = (t) => L + (t - t0) / (t1 - t0) * (w - L - R);
    const y = (v) => h - B - (v - y0) / (y1 - y0) * (h - T - B);
    // Grid and labels.
    ctx.strokeStyle = c.line; ctx.fillStyle = c.muted; ctx.lineWidth = 1; ctx.setLineDash([]);
    ctx.beginPath();
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (let i = 0; i <= 4; i++) {
      const v = y0 + (y1 - y0) * i / 4, py = Math.round(y(v)) + 0.5;
      ctx.moveTo(L, py); ctx.lineTo(w - R, py);
      ctx.fillText(abbrev(v), L - 6, py);
    }
    ctx.stroke();
    ctx.textBaseline = "top";
    ctx.textAlign = "left"; ctx.fillText(clock(t0), L, h - B + 6);
    ctx.textAlign = "right"; ctx.fillText(clock(t1), w - R, h - B + 6);
    if (w > 420) { ctx.textAlign = "center"; ctx.fillText(clock((t0 + t1) / 2), (L + w - R) / 2, h - B + 6); }
    // The log end: one dashed path for every partition.
    ctx.strokeStyle = c.broker; ctx.lineWidth = 1; ctx.setLineDash([4, 3]);
    ctx.beginPath();
    for (const s of series) line(ctx, s.broker, x, y);
    ctx.stroke();
    ctx.setLineDash([]);
    // Commits: one path per status colour.
    const byColour = new Map();
    for (const s of series) {
      const col = c.status[status.get(topic.name + "\u0000" + s.partition)] || c.status.OK;
      if (!byColour.has(col)) byColour.set(col, []);
      byColour.get(col).push(s);
    }
    ctx.lineWidth = only === null ? 1.5 : 2;
    for (const [col, list] of byColour) {
      ctx.strokeStyle = col; ctx.fillStyle = col;
      ctx.beginPath();
      for (const s of list) line(ctx, s.commits, x, y);
      ctx.stroke();
      if (only !== null) {
        for (const s of list) {
          for (let i = 0; i < s.commits.length; i += 2) ctx.fillRect(x(s.commits[i]) - 2.5, y(s.commits[i + 1]) - 2.5, 5, 5);
        }
      }
    }
    chart.drawn = series.length;
    canvas.dataset.drawn = String(series.length);
  }

  function line(ctx, arr, x, y) {
    for (let i = 0; i < arr.length; i += 2) {
      if (i === 0) ctx.moveTo(x(arr[0]), y(arr[1])); else ctx.lineTo(x(arr[i]), y(arr[i + 1]));
    }
  }

  function renderCharts() {
    const status = new Map();
    const byTopic = new Map();
    for (const p of data.partitions) {
      status.set(p.topic + "\u0000" + p.partition, p.status);
      const t = byTopic.get(p.topic) || { lag: 0, worst: null, n: 0 };
      t.lag += p.current_lag; t.n++;
      if (p.lag_seconds !== null && p.lag_seconds !== undefined && (t.worst === null || p.lag_seconds > t.worst)) t.worst = p.lag_seconds;
      byTopic.set(p.topic, t);
    }
    const box = document.getElementById("charts");
    const seen = new Set();
    data.topics.forEach((topic, i) => {
      seen.add(topic.name);
      let chart = charts.get(topic.name);
      if (!chart) {
        const id = "chart-" + charts.size + "-" + i;
        const select = el("select", { id: id + "-p" });
        const canvas = el("canvas", { role: "img" });
        const summary = el("p", { cls: "legend" });
        const section = el("section", { cls: "chart", "aria-labelledby": id + "-h" },
          el("h3", { id: id + "-h" }, el("span", { cls: "muted", text: "Topic " }), topic.name),
          summary,
          el("div", { cls: "controls" }, el("label", { for: id + "-p", text: "Partition" }), select),
          canvas,
          el("div", { cls: "legend", "aria-hidden": "true" },
            el("span", null, el("span", { cls: "swatch commit" }), "committed offset (colour of its status)"),
            el("span", null, el("span", { cls: "swatch broker" }), "log end")));
        chart = { section, canvas, select, summary, options: "" };
        select.addEventListener("change", () => draw(chart, chart.topic, chart.status));
        charts.set(topic.name, chart);
      }
      box.append(chart.section); // keeps the order of data.topics
      chart.topic = topic;
      chart.status = status;
      const opts = topic.partitions.map((s) => s.partition).join(",");
      if (chart.options !== opts) {
        const keep = chart.select.value;
        chart.select.replaceChildren(el("option", { value: "", text: "All " + topic.partitions.length }),
          ...topic.partitions.map((s) => el("option", { value: String(s.partition), text: String(s.partition) })));
        chart.select.value = topic.partitions.some((s) => String(s.partition) === keep) ? keep : "";
        chart.options = opts;
      }
      const t = byTopic.get(topic.name) || { lag: 0, worst: null };
      chart.summary.textContent = "Lag " + fmtInt(t.lag) + " messages; furthest behind in time: " + fmtSeconds(t.worst) + ".";
      chart.canvas.setAttribute("aria-label", "Chart of the committed offsets of " + topic.partitions.length +
        " partitions of topic " + topic.name + " against the log end; lag " + fmtInt(t.lag) + " messages, " +
        fmtSeconds(t.worst) + " at most. The table of partitions below has the same facts.");
      draw(chart, topic, status);
    });
    for (const [name, chart] of charts) {
      if (!seen.has(name)) { chart.section.remove(); charts.delete(name); }
    }
  }

  function render() {
    renderFacts();
    renderCharts();
    renderTable();
  }

  badOnly.addEventListener("change", () => { if (data) renderTable(); });
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (data) renderCharts(); }, 150);
  });
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => { if (data) renderCharts(); });

  function refresh() {
    return W.refresh("/ui/api/group?" + new URLSearchParams({ cluster, group }),
      "No group " + JSON.stringify(group) + " in cluster " + JSON.stringify(cluster) + ".",
      "Cannot read the group", (d) => { data = d; render(); });
  }

  W.every(5000, refresh);
})();
