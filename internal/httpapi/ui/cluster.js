// A cluster: its topics, their log ends, and the groups that read each.
"use strict";

(() => {
  const { el, fmtInt } = W;
  const cluster = new URLSearchParams(location.search).get("cluster") || "";
  const filter = document.getElementById("filter");
  let data = null;

  document.getElementById("name").textContent = cluster;
  document.getElementById("crumb-cluster").textContent = "Cluster " + cluster;
  document.title = "Cluster " + cluster + " – Warren";

  // offsets lists the log end of each partition; long lists fold away.
  function offsets(list) {
    const text = list.map((o, i) => i + ": " + fmtInt(o)).join(", ");
    if (list.length <= 8) return el("span", { cls: "offsets", text: text || "–" });
    return el("details", null, el("summary", { text: list.length + " partitions" }), el("span", { cls: "offsets", text }));
  }

  function readers(groups) {
    if (!groups.length) return el("span", { cls: "muted", text: "no group" });
    const span = el("span");
    groups.forEach((g, i) => {
      if (i) span.append(", ");
      span.append(el("a", { href: W.groupURL(cluster, g), text: g }));
    });
    return span;
  }

  function render() {
    const q = filter.value.trim().toLowerCase();
    const frag = document.createDocumentFragment();
    let shown = 0;
    for (const t of data.topics) {
      if (q && !t.name.toLowerCase().includes(q)) continue;
      shown++;
      const sum = t.offsets.reduce((a, b) => a + b, 0);
      frag.append(el("tr", null,
        el("th", { scope: "row" }, t.name),
        el("td", { cls: "num" }, fmtInt(t.partitions)),
        el("td", { cls: "num" }, fmtInt(sum)),
        el("td", null, offsets(t.offsets)),
        el("td", null, readers(t.groups))));
    }
    document.getElementById("topics").tBodies[0].replaceChildren(frag);
    document.getElementById("count").textContent = q ? shown + " of " + data.topics.length + " topics" : data.topics.length + " topics";
  }

  filter.addEventListener("input", () => { if (data) render(); });

  function refresh() {
    return W.refresh("/ui/api/cluster?" + new URLSearchParams({ cluster }), "No cluster " + JSON.stringify(cluster) + ".",
      "Cannot read the cluster", (d) => {
        data = d;
        // An open <details> survives only if the table is left alone: redraw
        // only when something changed.
        const key = JSON.stringify(data.topics);
        if (key !== render.last) { render(); render.last = key; }
      });
  }

  W.every(10000, refresh);
})();
