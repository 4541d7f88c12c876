// The overview: every group of every cluster, refreshed every few seconds.
"use strict";

(() => {
  const { el, badge, fmtInt, fmtSeconds, since, severity, order } = W;
  const table = document.getElementById("groups");
  const tbody = table.tBodies[0];
  const filter = document.getElementById("filter");
  const count = document.getElementById("count");
  const rows = new Map(); // "cluster\u0000group" -> {tr, data}
  let list = []; // the rows' keys in display order
  let data = null;
  const state = { key: "status", dir: -1 };

  const params = new URLSearchParams(location.search);
  filter.value = params.get("q") || "";

  const compare = {
    cluster: (a, b) => a.cluster.localeCompare(b.cluster),
    name: (a, b) => a.g.group.localeCompare(b.g.group),
    status: (a, b) => (severity[a.g.status] || 0) - (severity[b.g.status] || 0),
    lag: (a, b) => a.g.totallag - b.g.totallag,
    seconds: (a, b) => (a.g.lag_seconds ?? -1) - (b.g.lag_seconds ?? -1),
    since: (b, a) => a.g.since - b.g.since, // ascending: shortest time in the status first
  };

  function sortRows(items) {
    const primary = compare[state.key];
    return items.sort((a, b) => primary(a, b) * state.dir ||
      a.cluster.localeCompare(b.cluster) || a.g.group.localeCompare(b.g.group));
  }

  function parts(byStatus) {
    const span = el("span", { cls: "parts" });
    for (const s of order) {
      const n = byStatus[s];
      if (n) span.append(el("span", { cls: "n" }, el("b", { text: fmtInt(n) }), " " + s));
    }
    if (!span.childNodes.length) span.textContent = "–";
    return span;
  }

  function lagText(g) {
    return fmtSeconds(g.lag_seconds);
  }

  function buildRow(cluster, g) {
    const tr = el("tr");
    tr.append(
      el("td", null, el("a", { href: W.clusterURL(cluster), text: cluster })),
      el("td", null, el("a", { href: W.groupURL(cluster, g.group), text: g.group })),
      el("td", null, badge(g.status)),
      el("td", { cls: "num" }, fmtInt(g.totallag)),
      el("td", { cls: "num" }, lagText(g)),
      el("td", null, parts(g.by_status)),
      el("td", null, since(g.since, data.now, g.since_first_seen)),
    );
    return tr;
  }

  // updateRow changes only the cells whose facts changed, so that focus and
  // selection in the table survive a refresh.
  function updateRow(r, cluster, g) {
    const old = r.data;
    const c = r.tr.cells;
    if (old.status !== g.status) c[2].replaceChildren(badge(g.status));
    if (old.totallag !== g.totallag) c[3].textContent = fmtInt(g.totallag);
    if (old.lag_seconds !== g.lag_seconds) c[4].textContent = lagText(g);
    if (JSON.stringify(old.by_status) !== JSON.stringify(g.by_status)) c[5].replaceChildren(parts(g.by_status));
    c[6].replaceChildren(since(g.since, data.now, g.since_first_seen));
    r.data = g;
  }

  function matches(key, q) {
    return !q || key.toLowerCase().includes(q);
  }

  function applyFilter() {
    const q = filter.value.trim().toLowerCase();
    let shown = 0;
    for (const key of list) {
      const r = rows.get(key);
      const show = matches(key, q);
      r.tr.hidden = !show;
      if (show) shown++;
    }
    count.textContent = q ? shown + " of " + list.length + " groups" : list.length + " groups";
    const u = new URL(location.href);
    if (q) u.searchParams.set("q", filter.value.trim()); else u.searchParams.delete("q");
    history.replaceState(null, "", u);
  }

  function render() {
    const items = [];
    for (const c of data.clusters) for (const g of c.groups) items.push({ cluster: c.name, g });
    sortRows(items);
    const seen = new Set();
    const keys = [];
    for (const it of items) {
      const key = it.cluster + "\u0000" + it.g.group;
      seen.add(key);
      keys.push(key);
      const r = rows.get(key);
      if (r) updateRow(r, it.cluster, it.g);
      else rows.set(key, { tr: buildRow(it.cluster, it.g), data: it.g });
    }
    for (const key of rows.keys()) {
      if (!seen.has(key)) { rows.get(key).tr.remove(); rows.delete(key); }
    }
    // Reorder only when the order changed: moving rows loses focus.
    const current = Array.from(tbody.rows);
    const same = current.length === keys.length && keys.every((k, i) => rows.get(k).tr === current[i]);
    if (!same) {
      const frag = document.createDocumentFragment();
      for (const k of keys) frag.append(rows.get(k).tr);
      tbody.append(frag);
    }
    list = keys;
    applyFilter();
    renderSummary(items);
    renderClusters();
    renderIncidents();
  }

  function renderSummary(items) {
    const n = {};
    for (const it of items) n[it.g.status] = (n[it.g.status] || 0) + 1;
    const box = document.getElementById("summary");
    box.replaceChildren(...order.filter((s) => n[s]).map((s) =>
      el("span", null, badge(s), " " + fmtInt(n[s]) + (n[s] === 1 ? " group" : " groups"))));
  }

  function renderClusters() {
    const nav = document.getElementById("clusters");
    const names = data.clusters.map((c) => c.name);
    if (nav.dataset.names === JSON.stringify(names)) return;
    nav.dataset.names = JSON.stringify(names);
    nav.replaceChildren(...names.map((n) => el("li", null, el("a", { href: W.clusterURL(n), text: "Cluster " + n }))));
  }

  function renderIncidents() {
    const t = document.getElementById("incidents");
    const note = document.getElementById("incidents-note");
    if (!data.notifier) {
      t.hidden = true;
      note.textContent = "No notifier is configured.";
      return;
    }
    const inc = data.incidents;
    t.hidden = inc.length === 0;
    note.textContent = inc.length === 0 ? "None: every group the notifiers watch is below their threshold." : "";
    t.tBodies[0].replaceChildren(...inc.map((i) => el("tr", null,
      el("td", null, i.cluster),
      el("td", null, el("a", { href: W.groupURL(i.cluster, i.group), text: i.group })),
      el("td", null, since(i.since, data.now, false)),
      el("td", null, el("code", { text: i.id })),
      el("td", null, i.told.length ? i.told.join(", ") : "none yet"))));
  }

  W.sortable(table.tHead, state, { name: 1, cluster: 1, status: -1, lag: -1, seconds: -1, since: 1 }, () => {
    if (data) render();
  });
  filter.addEventListener("input", applyFilter);

  function refresh() {
    return W.refresh("/ui/api/overview", "", "Cannot read the groups", (d) => { data = d; render(); });
  }

  W.every(5000, refresh);
})();
