// Warren's dashboard: what every page shares. No dependencies, no build step.
// Names from Kafka (groups, topics, owners) only ever reach the document as
// text (textContent, attribute values), never as markup.
"use strict";

const W = (() => {
  // How bad a status is, for sorting: the group statuses, then the partition ones.
  const severity = { NOTFOUND: 0, OK: 1, WARN: 2, ERR: 3, STOP: 4, STALL: 5, REWIND: 6 };
  const order = ["ERR", "STOP", "STALL", "REWIND", "WARN", "OK", "NOTFOUND"];

  // el builds an element: attrs are attributes (or .text, .cls), children
  // are nodes or strings (as text).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === "text") e.textContent = v;
        else if (k === "cls") e.className = v;
        else e.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function badge(status) {
    const s = severity[status] === undefined ? "UNKNOWN" : status;
    return el("span", { cls: "st st-" + s, text: status });
  }

  const ints = new Intl.NumberFormat("en-US");
  function fmtInt(n) { return n === null || n === undefined ? "–" : ints.format(n); }

  // fmtSeconds writes a lag in time: 0.4 s, 42 s, 12 min 3 s, 5 h 2 min, 3 d 4 h.
  function fmtSeconds(s) {
    if (s === null || s === undefined || !isFinite(s)) return "–";
    if (s < 10) return (Math.round(s * 10) / 10) + " s";
    if (s < 60) return Math.round(s) + " s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + " min " + Math.round(s - m * 60) + " s";
    const h = Math.floor(m / 60);
    if (h < 48) return h + " h " + (m - h * 60) + " min";
    const d = Math.floor(h / 24);
    return d + " d " + (h - d * 24) + " h";
  }

  function fmtTime(ms) {
    const d = new Date(ms);
    return d.toLocaleString(undefined, { hour12: false });
  }

  // since is a <time> saying how long ago ms was (by the server's clock now);
  // atLeast marks a status already there when the dashboard first looked.
  function since(ms, now, atLeast) {
    const text = (atLeast ? "≥ " : "") + fmtSeconds(Math.max(0, (now - ms) / 1000));
    const title = (atLeast ? "at least since " : "since ") + fmtTime(ms) +
      (atLeast ? " (when the dashboard first saw it)" : "");
    return el("time", { datetime: new Date(ms).toISOString(), title: title, text: text });
  }

  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
    let body = null;
    try { body = await r.json(); } catch (e) { /* not JSON */ }
    if (!r.ok) {
      const msg = body && body.message ? body.message : r.status + " " + r.statusText;
      const err = new Error(msg);
      err.status = r.status;
      throw err;
    }
    return body;
  }

  function groupURL(cluster, group) { return "/ui/group?" + new URLSearchParams({ cluster, group }); }
  function clusterURL(cluster) { return "/ui/cluster?" + new URLSearchParams({ cluster }); }

  // every runs task now and then every ms after each run ends; hidden pages
  // wait until they are shown again.
  function every(ms, task) {
    let timer = null;
    async function run() {
      timer = null;
      try { await task(); } catch (e) { /* task reports its own errors */ }
      if (!document.hidden) timer = setTimeout(run, ms);
    }
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && timer === null) run();
    });
    run();
  }

  // updated says when the page last refreshed, or that the last refresh failed.
  function updated(ok, message) {
    const node = document.getElementById("updated");
    if (ok) {
      node.classList.remove("stale");
      node.textContent = "Updated " + new Date().toLocaleTimeString(undefined, { hour12: false });
    } else {
      node.classList.add("stale");
      node.textContent = "Refresh failed: " + message;
    }
  }

  function showError(message) {
    const node = document.getElementById("error");
    if (!node) return;
    node.hidden = !message;
    node.textContent = message || "";
  }

  // rendered marks the end of a render for the performance timeline and the
  // tests: performance.measure "warren:render" runs from the request to the
  // frame after the document changed, and <html data-renders> counts them.
  function rendered(startMark) {
    return new Promise((resolve) => {
      requestAnimationFrame(() => setTimeout(() => {
        performance.mark("warren:drawn");
        const m = performance.measure("warren:render", startMark, "warren:drawn");
        const root = document.documentElement;
        root.dataset.renders = String(Number(root.dataset.renders || 0) + 1);
        root.dataset.renderMs = String(Math.round(m.duration));
        if (!root.dataset.firstDrawnMs) root.dataset.firstDrawnMs = String(Math.round(performance.now()));
        resolve(m.duration);
      }, 0));
    });
  }

  // refresh reads url and hands its data to show, marking the page updated
  // and the render done; a failure is shown on the page (notFound for a 404,
  // when given, else failure and the reason) and thrown to every().
  async function refresh(url, notFound, failure, show) {
    performance.mark("warren:fetch");
    let data;
    try {
      data = await getJSON(url);
    } catch (e) {
      updated(false, e.message);
      showError(e.status === 404 && notFound ? notFound : failure + ": " + e.message);
      throw e;
    }
    showError("");
    show(data);
    updated(true);
    await rendered("warren:fetch");
  }

  // sortable wires the <button data-sort> of a table head: state.key and
  // state.dir (1 ascending, -1 descending) change, then onChange runs.
  function sortable(thead, state, defaults, onChange) {
    function paint() {
      for (const th of thead.querySelectorAll("th")) {
        const b = th.querySelector("button[data-sort]");
        if (!b) continue;
        th.setAttribute("aria-sort", b.dataset.sort === state.key ? (state.dir > 0 ? "ascending" : "descending") : "none");
      }
    }
    thead.addEventListener("click", (ev) => {
      const b = ev.target.closest("button[data-sort]");
      if (!b) return;
      const key = b.dataset.sort;
      state.dir = key === state.key ? -state.dir : (defaults[key] || 1);
      state.key = key;
      paint();
      onChange();
    });
    paint();
  }

  return { severity, order, el, badge, fmtInt, fmtSeconds, fmtTime, since, getJSON, groupURL, clusterURL,
    every, updated, showError, rendered, refresh, sortable };
})();
