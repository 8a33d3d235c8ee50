// ProfileView's browser side (anywidget ESM, plain JavaScript: no dependencies, no build step).
// It draws what Python sends (model "profiles", "comparison") and asks Python to re-sort by
// setting "sort_by" / "descending"; switching tables ("table") and "show all" are local.

const COLUMNS = {
  nodes: [
    ["index", "#", ""], ["name", "node", "l"], ["percent", "time share", "l"], ["time", "time", ""],
    ["calls", "calls", ""], ["per_call", "time / call", ""],
  ],
  op_classes: [
    ["name", "op class", "l"], ["percent", "time share", "l"], ["time", "time", ""],
    ["calls", "calls", ""], ["per_call", "time / call", ""], [null, "nodes", ""],
  ],
};
const PHASE_COLORS = {
  graph: "#9ecae1", rewrite: "#6baed6", codegen: "#fdae6b", numba_jit: "#e6550d", cache_load: "#74c476", jax_jit: "#756bb1",
};

function fmtTime(s) {
  if (s === null || s === undefined) return "–";
  if (s === 0) return "0";
  if (s < 1e-3) return (s * 1e6).toFixed(1) + " µs";
  if (s < 1) return (s * 1e3).toFixed(2) + " ms";
  return s.toFixed(3) + " s";
}

function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "style") e.setAttribute("style", v);
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function bar(percent, color) {
  const width = Math.max(0, Math.min(100, percent));
  return h("span", { class: "opg-pv-barcell" },
    h("span", { class: "opg-pv-bar", style: `width:${width}px;${color ? "background:" + color : ""}` }),
    h("span", { class: "opg-pv-pct" }, percent.toFixed(1) + "%"));
}

function compileBreakdown(p) {
  const total = p.compile.phases.reduce((a, ph) => a + ph.seconds, 0);
  const stack = h("div", { class: "opg-pv-stack", title: "compile phases" });
  const legend = h("div", { class: "opg-pv-legend" });
  for (const ph of p.compile.phases) {
    const share = total > 0 ? (100 * ph.seconds) / total : 0;
    if (share > 0) {
      stack.append(h("span", {
        style: `width:${share}%;background:${PHASE_COLORS[ph.key] || "#999"}`,
        title: `${ph.label}: ${fmtTime(ph.seconds)}`,
      }));
    }
    legend.append(h("span", { class: "opg-pv-key" },
      h("span", { class: "opg-pv-swatch", style: `background:${PHASE_COLORS[ph.key] || "#999"}` }),
      `${ph.label} ${fmtTime(ph.seconds)}`));
  }
  return h("div", { class: "opg-pv-compile" },
    h("div", { class: "opg-pv-sub" }, `Compile time ${fmtTime(p.compile.total)}`), stack, legend);
}

function table(model, p, which, state) {
  const kind = model.get("table");
  const sortBy = model.get("sort_by");
  const desc = model.get("descending");
  const head = h("tr");
  for (const [key, label, cls] of COLUMNS[kind]) {
    const arrow = key === sortBy ? (desc ? " ▼" : " ▲") : "";
    const th = h("th", { class: cls + (key ? " opg-pv-sortable" : "") }, label + arrow);
    if (key) {
      th.addEventListener("click", () => {
        // Same column: flip the direction; another: descending (slowest first), names ascending.
        if (key === sortBy) model.set("descending", !desc);
        else { model.set("sort_by", key); model.set("descending", key !== "name"); }
        model.save_changes();
      });
    }
    head.append(th);
  }
  const rows = p[kind];
  const limit = state.showAll ? rows.length : model.get("max_rows");
  const body = [];
  for (const r of rows.slice(0, limit)) {
    const name = kind === "nodes"
      ? `${r.name}${r.shapes ? " (" + r.shapes + ")" : ""}${r.object_mode ? "  [object mode]" : ""}`
      : r.name;
    const cells = kind === "nodes" ? [h("td", {}, String(r.index))] : [];
    cells.push(
      h("td", { class: "l", title: name }, name), h("td", { class: "l" }, bar(r.percent)),
      h("td", {}, fmtTime(r.time)), h("td", {}, String(r.calls)), h("td", {}, fmtTime(r.per_call)));
    if (kind === "op_classes") cells.push(h("td", {}, String(r.n_nodes)));
    body.push(h("tr", {}, ...cells));
  }
  const parts = [h("table", { class: "opg-pv-table" }, head, ...body)];
  if (rows.length > limit) {
    parts.push(h("button", { class: "opg-pv-more", onclick: () => { state.showAll = true; state.redraw(); } },
      `show all ${rows.length} rows`));
  }
  if (!rows.some((r) => r.calls > 0)) {
    parts.push(h("div", { class: "opg-pv-sub" },
      "No per-node timings (not called yet, or the linker runs the graph as one compiled unit)."));
  }
  return h("div", {}, ...parts);
}

function comparison(model) {
  const rows = model.get("comparison");
  const [a, b] = model.get("profiles").map((p) => p.label);
  const head = h("tr", {}, h("th", { class: "l" }, "op class"), h("th", {}, a), h("th", {}, b),
    h("th", {}, `${b} / ${a}`));
  const body = rows.map((r) => h("tr", {},
    h("td", { class: "l" }, r.name), h("td", {}, fmtTime(r.time_a)), h("td", {}, fmtTime(r.time_b)),
    h("td", { class: r.ratio === null ? "" : r.ratio > 1 ? "opg-pv-worse" : "opg-pv-better" },
      r.ratio === null ? "–" : r.ratio.toFixed(2) + "x")));
  return h("div", { class: "opg-pv-comparison" },
    h("div", { class: "opg-pv-sub" }, "Time per op class, side by side"),
    h("table", { class: "opg-pv-table" }, head, ...body));
}

function render({ model, el }) {
  const state = { showAll: false, redraw: null };
  const draw = () => {
    const profiles = model.get("profiles");
    const kind = model.get("table");
    const tabs = h("div", { class: "opg-pv-tabs" });
    for (const [key, label] of [["nodes", "per node"], ["op_classes", "per op class"]]) {
      tabs.append(h("button", {
        class: "opg-pv-tab" + (key === kind ? " opg-pv-active" : ""),
        onclick: () => { model.set("table", key); model.save_changes(); },
      }, label));
    }
    const columns = h("div", { class: "opg-pv-columns" });
    profiles.forEach((p, which) => {
      const calls = `${p.calls} call${p.calls === 1 ? "" : "s"}, ${fmtTime(p.per_call)} per call`;
      columns.append(h("div", { class: "opg-pv-column" },
        h("div", { class: "opg-pv-title" }, p.label, h("span", { class: "opg-pv-sub" }, p.mode && p.mode !== p.label ? "  " + p.mode : "")),
        compileBreakdown(p),
        h("div", { class: "opg-pv-sub" }, calls),
        table(model, p, which, state)));
    });
    const parts = [tabs, columns];
    if (profiles.length === 2) parts.push(comparison(model));
    el.replaceChildren(h("div", { class: "opg-pv" }, ...parts));
  };
  state.redraw = draw;
  draw();
  for (const name of ["profiles", "comparison", "table", "sort_by", "descending", "max_rows"]) {
    model.on(`change:${name}`, draw);
  }
  return () => {
    for (const name of ["profiles", "comparison", "table", "sort_by", "descending", "max_rows"]) {
      model.off(`change:${name}`, draw);
    }
  };
}

export default { render };
