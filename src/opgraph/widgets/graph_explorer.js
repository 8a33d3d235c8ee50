// GraphExplorer's browser side (anywidget ESM, plain JavaScript: no dependencies, no build step).
// Python sends the visible boxes already laid out ("view": columns ids/labels/families/sizes/x/y/w and
// edges src/dst); this file draws them on a canvas (zoom: wheel, pan: drag), culls what is off
// screen, and turns clicks into model changes: a cluster click appends to "expanded", a node click
// sets "selected" (shift-click: a second node, for the path), the search box sets "query".

const NODE_H = 26;

function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function render({ model, el }) {
  const t0 = performance.now();
  const search = h("input", { type: "search", class: "opg-gx-search", placeholder: "search a name or an op" });
  const status = h("span", { class: "opg-gx-status" });
  const fitButton = h("button", { class: "opg-gx-button" }, "fit");
  const collapseButton = h("button", { class: "opg-gx-button" }, "collapse all");
  const expandButton = h("button", { class: "opg-gx-button", title: "every node drawn" }, "expand all");
  const canvas = h("canvas", { class: "opg-gx-canvas" });
  const side = h("div", { class: "opg-gx-side" });
  const box = h("div", { class: "opg-gx-box" }, canvas);
  const root = h("div", { class: "opg-gx" },
    h("div", { class: "opg-gx-toolbar" }, search, fitButton, expandButton, collapseButton, status),
    h("div", { class: "opg-gx-body" }, box, side));
  el.replaceChildren(root);

  const st = { scale: 1, tx: 0, ty: 0, view: null, index: new Map(), fitted: false, pending: false,
               drag: null, paints: 0, marks: { sel: new Set(), path: new Set(), match: new Set() } };

  function size() {
    const dpr = window.devicePixelRatio || 1;
    const width = Math.max(200, box.clientWidth || 600);
    const height = model.get("height");
    box.style.height = height + "px";
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
    return { width, height, dpr };
  }

  function boxHeight(k) { return st.view.sizes[k] ? NODE_H + 6 : NODE_H; }

  function fit() {
    const v = st.view;
    if (!v || !v.ids.length) return;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let k = 0; k < v.ids.length; k++) {
      x0 = Math.min(x0, v.x[k] - v.w[k] / 2); x1 = Math.max(x1, v.x[k] + v.w[k] / 2);
      y0 = Math.min(y0, v.y[k] - NODE_H); y1 = Math.max(y1, v.y[k] + NODE_H);
    }
    const { width, height } = { width: canvas.clientWidth || 600, height: model.get("height") };
    st.scale = Math.min(1.5, Math.min(width / (x1 - x0 + 40), height / (y1 - y0 + 40)));
    st.tx = width / 2 - st.scale * (x0 + x1) / 2;
    st.ty = height / 2 - st.scale * (y0 + y1) / 2;
  }

  function centre(id) {
    const k = st.index.get(id);
    if (k === undefined) return;
    const width = canvas.clientWidth || 600, height = model.get("height");
    if (st.scale < 0.6) st.scale = 0.8;
    st.tx = width / 2 - st.scale * st.view.x[k];
    st.ty = height / 2 - st.scale * st.view.y[k];
  }

  function schedule() {
    if (st.pending) return;
    st.pending = true;
    requestAnimationFrame(paint);
  }

  function paint() {
    st.pending = false;
    const started = performance.now();
    const v = st.view;
    const { width, height, dpr } = size();
    const ctx = canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!v) return;
    ctx.setTransform(dpr * st.scale, 0, 0, dpr * st.scale, dpr * st.tx, dpr * st.ty);
    // The world rectangle on screen: only what meets it is drawn.
    const wx0 = -st.tx / st.scale, wy0 = -st.ty / st.scale;
    const wx1 = wx0 + width / st.scale, wy1 = wy0 + height / st.scale;
    const n = v.ids.length;
    const onScreen = new Uint8Array(n);
    for (let k = 0; k < n; k++) {
      const hw = v.w[k] / 2;
      onScreen[k] = v.x[k] + hw >= wx0 && v.x[k] - hw <= wx1 && v.y[k] + NODE_H >= wy0 && v.y[k] - NODE_H <= wy1;
    }
    const lw = 1 / Math.max(st.scale, 0.05);
    const plain = new Path2D(), back = new Path2D(), inner = new Path2D(), onPath = new Path2D();
    const pathSet = st.marks.path;
    for (let e = 0; e < v.src.length; e++) {
      const a = v.src[e], b = v.dst[e];
      if (!onScreen[a] && !onScreen[b]) {
        // Both ends off screen: skip unless the segment could cross the screen.
        const xa = v.x[a], xb = v.x[b], ya = v.y[a], yb = v.y[b];
        if (Math.max(xa, xb) < wx0 || Math.min(xa, xb) > wx1 || Math.max(ya, yb) < wy0 || Math.min(ya, yb) > wy1) continue;
      }
      const x1 = v.x[a], y1 = v.y[a] + boxHeight(a) / 2, x2 = v.x[b], y2 = v.y[b] - boxHeight(b) / 2;
      const target = pathSet.has(v.ids[a]) && pathSet.has(v.ids[b]) ? onPath
        : v.counts[e] === 0 ? inner : y2 <= y1 ? back : plain;
      target.moveTo(x1, y1);
      if (y2 <= y1) target.bezierCurveTo(x1 + 60, y1 + 40, x2 + 60, y2 - 40, x2, y2);
      else target.lineTo(x2, y2);
    }
    ctx.lineWidth = lw;
    ctx.strokeStyle = "#9a9a9a"; ctx.stroke(plain);
    ctx.setLineDash([4 * lw, 3 * lw]);
    ctx.strokeStyle = "#c77"; ctx.stroke(back);
    ctx.strokeStyle = "#2a9d8f"; ctx.stroke(inner);
    ctx.setLineDash([]);
    ctx.lineWidth = 3 * lw; ctx.strokeStyle = "#e76f51"; ctx.stroke(onPath);
    // Boxes, one fill per family.
    const colors = model.get("colors");
    const byFamily = new Map();
    for (let k = 0; k < n; k++) {
      if (!onScreen[k]) continue;
      const fam = v.outputs[k] ? "output" : v.families[k];
      if (!byFamily.has(fam)) byFamily.set(fam, new Path2D());
      const p = byFamily.get(fam), bh = boxHeight(k);
      p.rect(v.x[k] - v.w[k] / 2, v.y[k] - bh / 2, v.w[k], bh);
    }
    for (const [fam, p] of byFamily) {
      ctx.fillStyle = colors[fam] || colors.other || "#fff";
      ctx.fill(p);
    }
    const outline = new Path2D(), cluster = new Path2D(), marked = [];
    for (let k = 0; k < n; k++) {
      if (!onScreen[k]) continue;
      const bh = boxHeight(k), x = v.x[k] - v.w[k] / 2, y = v.y[k] - bh / 2;
      (v.sizes[k] ? cluster : outline).rect(x, y, v.w[k], bh);
      if (v.sizes[k]) cluster.rect(x + 3, y + 3, v.w[k] - 6, bh - 6);
      const id = v.ids[k];
      if (st.marks.sel.has(id) || st.marks.match.has(id) || pathSet.has(id)) marked.push(k);
    }
    ctx.lineWidth = lw; ctx.strokeStyle = "#555"; ctx.stroke(outline);
    ctx.lineWidth = 1.5 * lw; ctx.strokeStyle = "#333"; ctx.stroke(cluster);
    for (const k of marked) {
      const id = v.ids[k], bh = boxHeight(k);
      ctx.lineWidth = 3 * lw;
      ctx.strokeStyle = st.marks.sel.has(id) ? "#1d4ed8" : pathSet.has(id) ? "#e76f51" : "#d97706";
      ctx.strokeRect(v.x[k] - v.w[k] / 2 - 2 * lw, v.y[k] - bh / 2 - 2 * lw, v.w[k] + 4 * lw, bh + 4 * lw);
    }
    if (st.scale * 11 >= 5) {
      ctx.fillStyle = "#111";
      ctx.font = "11px Menlo, Consolas, monospace";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      for (let k = 0; k < n; k++) {
        if (!onScreen[k]) continue;
        let text = v.labels[k];
        const room = Math.floor((v.w[k] - 8) / 6.6);
        if (text.length > room) text = text.slice(0, Math.max(1, room - 1)) + "…";
        ctx.fillText(text, v.x[k], v.y[k]);
      }
    }
    st.paints += 1;
    el.dataset.paints = String(st.paints);
    el.dataset.visible = String(n);
    el.dataset.lastPaintMs = (performance.now() - started).toFixed(1);
    if (!el.dataset.firstPaintMs) el.dataset.firstPaintMs = (performance.now() - t0).toFixed(1);
    root.classList.add("opg-gx-painted");
  }

  function updateStatus() {
    const v = st.view;
    const m = model.get("matches");
    const p = model.get("path");
    let text = v ? `${v.ids.length.toLocaleString()} boxes shown · ${model.get("summary")}` : "";
    if (m && m.query) text += ` · “${m.query}”: ${m.count} match${m.count === 1 ? "" : "es"}`;
    if (p && p.found !== undefined) text += p.found ? ` · path: ${p.items.length} nodes` : " · no path between them";
    status.textContent = text;
  }

  function setMarks() {
    const m = model.get("matches") || {}, p = model.get("path") || {};
    const selected = model.get("selected") || [];
    const visibleSel = [];
    for (const d of model.get("details") || []) if (d.visible) visibleSel.push(d.visible);
    st.marks = { sel: new Set(visibleSel.length ? visibleSel : selected), path: new Set(p.visible || []),
                 match: new Set(m.visible || []) };
  }

  function onView() {
    st.view = model.get("view");
    st.index = new Map(st.view.ids.map((id, k) => [id, k]));
    if (!st.fitted) { size(); fit(); st.fitted = true; }
    setMarks(); updateStatus(); schedule();
  }

  function link(id, label) {
    return h("a", { class: "opg-gx-link", href: "#", onclick: (ev) => {
      ev.preventDefault();
      model.send({ action: "reveal", id, add: ev.shiftKey });     // shift: a second node, for the path
    } }, label);
  }

  function showDetails() {
    const parts = [];
    for (const d of model.get("details") || []) {
      if (d.kind) {     // a cluster
        parts.push(h("div", { class: "opg-gx-card" }, h("div", { class: "opg-gx-title" }, `${d.title} (${d.size})`),
          h("div", {}, `${d.kind} cluster, ${d.children} children`)));
        continue;
      }
      const rows = [["op", d.op || "(input)"], ["name", d.names.join(", ") || "–"],
        ["type", d.types.join(", ")], ["static shape", d.shapes.map((s) => s || "?").join(", ")],
        ["family", d.family], ["scope", d.scope || "–"], ["source", d.source || "unknown"]];
      const table = h("table", { class: "opg-gx-table" },
        ...rows.map(([k, val]) => h("tr", {}, h("th", {}, k), h("td", {}, val))));
      const list = (title, xs) => h("div", {}, h("span", { class: "opg-gx-sub" }, `${title} (${xs.length}): `),
        ...xs.slice(0, 30).flatMap((x, i) => [i ? ", " : "", link(x.id, x.label)]),
        xs.length > 30 ? ` … ${xs.length - 30} more` : "");
      const card = h("div", { class: "opg-gx-card" },
        h("div", { class: "opg-gx-title" }, d.label), table,
        list("inputs", d.inputs), d.constants.length ? h("div", { class: "opg-gx-sub" }, "constants: " + d.constants.slice(0, 10).join(", ")) : null,
        list("clients", d.clients),
        d.inner_graph_of ? h("div", {}, "inside the inner graph of ", link(d.inner_graph_of.id, d.inner_graph_of.label)) : null,
        ...(d.clusters || []).slice(0, 1).map((c) => h("button", { class: "opg-gx-button", onclick: () => model.send({ action: "collapse", id: c.id }) },
          `collapse “${c.title}”`)));
      parts.push(card);
    }
    const p = model.get("path");
    if (p && p.found) {
      parts.push(h("div", { class: "opg-gx-card" }, h("div", { class: "opg-gx-title" }, `path (${p.items.length} nodes)`),
        h("div", {}, ...p.labels.slice(0, 40).flatMap((label, i) => [i ? " → " : "", link(p.items[i], label)]))));
    } else if (p && p.found === false) {
      parts.push(h("div", { class: "opg-gx-card" }, "No path between the two selected nodes."));
    }
    const m = model.get("matches");
    if (m && m.query) {
      parts.push(h("div", { class: "opg-gx-card" }, h("div", { class: "opg-gx-title" }, `“${m.query}”: ${m.count} match${m.count === 1 ? "" : "es"}`),
        h("div", {}, ...m.items.slice(0, 40).flatMap((x, i) => [i ? ", " : "", link(x.id, x.label)]))));
    }
    if (!parts.length) parts.push(h("div", { class: "opg-gx-sub" },
      "Click a cluster (double outline) to open it, a node for its details; shift-click a second node " +
      "(on the drawing or in a list) for the path between them."));
    side.replaceChildren(...parts);
  }

  function hit(ev) {
    const r = canvas.getBoundingClientRect();
    const wx = (ev.clientX - r.left - st.tx) / st.scale, wy = (ev.clientY - r.top - st.ty) / st.scale;
    const v = st.view;
    if (!v) return -1;
    // Within 4 screen px of a box counts (boxes are tiny when a wide graph is fitted); the nearest wins.
    const slack = 4 / st.scale;
    let best = -1, bestDist = Infinity;
    for (let k = v.ids.length - 1; k >= 0; k--) {
      const dx = Math.abs(wx - v.x[k]) - v.w[k] / 2, dy = Math.abs(wy - v.y[k]) - boxHeight(k) / 2;
      if (dx <= slack && dy <= slack) {
        const dist = Math.max(dx, 0) + Math.max(dy, 0);
        if (dist < bestDist) { best = k; bestDist = dist; }
      }
    }
    return best;
  }

  canvas.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = canvas.getBoundingClientRect();
    const mx = ev.clientX - r.left, my = ev.clientY - r.top;
    const factor = Math.exp(-ev.deltaY * 0.0015);
    const scale = Math.min(4, Math.max(0.002, st.scale * factor));
    st.tx = mx - (mx - st.tx) * (scale / st.scale);
    st.ty = my - (my - st.ty) * (scale / st.scale);
    st.scale = scale;
    schedule();
  }, { passive: false });
  canvas.addEventListener("mousedown", (ev) => { st.drag = { x: ev.clientX, y: ev.clientY, tx: st.tx, ty: st.ty, moved: false }; });
  window.addEventListener("mousemove", (ev) => {
    const d = st.drag;
    if (!d) return;
    if (Math.abs(ev.clientX - d.x) + Math.abs(ev.clientY - d.y) > 3) d.moved = true;
    if (d.moved) { st.tx = d.tx + ev.clientX - d.x; st.ty = d.ty + ev.clientY - d.y; schedule(); }
  });
  window.addEventListener("mouseup", () => { setTimeout(() => { st.drag = null; }, 0); });
  canvas.addEventListener("click", (ev) => {
    if (st.drag && st.drag.moved) return;
    const k = hit(ev);
    if (k < 0) return;
    const id = st.view.ids[k];
    if (st.view.sizes[k]) {
      model.set("expanded", [...model.get("expanded"), id]);
    } else {
      const sel = model.get("selected");
      model.set("selected", ev.shiftKey && sel.length ? [sel[sel.length - 1], id] : [id]);
    }
    model.save_changes();
  });
  search.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { model.set("query", search.value); model.save_changes(); }
  });
  search.addEventListener("search", () => { model.set("query", search.value); model.save_changes(); });
  fitButton.addEventListener("click", () => { fit(); schedule(); });
  collapseButton.addEventListener("click", () => { model.set("expanded", []); model.save_changes(); });
  expandButton.addEventListener("click", () => { st.fitted = false; model.send({ action: "expand_all" }); });

  const handlers = {
    "change:view": onView,
    "change:focus": () => { centre(model.get("focus")); schedule(); },
    "change:details": () => { setMarks(); showDetails(); schedule(); },
    "change:matches": () => { setMarks(); updateStatus(); showDetails(); schedule(); },
    "change:path": () => { setMarks(); updateStatus(); showDetails(); schedule(); },
    "change:selected": () => { setMarks(); schedule(); },
    "change:height": schedule,
  };
  for (const [name, fn] of Object.entries(handlers)) model.on(name, fn);
  // A small handle for automation (the browser tests): what is drawn, and where a box is on screen.
  root.opgExplorer = {
    boxes: () => (st.view ? { ids: st.view.ids, sizes: st.view.sizes } : null),
    selected: () => model.get("selected"),
    screenPoint: (id) => {
      const k = st.index.get(id);
      if (k === undefined) return null;
      const r = canvas.getBoundingClientRect();
      return { x: r.left + st.tx + st.scale * st.view.x[k], y: r.top + st.ty + st.scale * st.view.y[k] };
    },
  };
  const resize = new ResizeObserver(() => schedule());
  resize.observe(box);
  onView();
  if (model.get("focus")) centre(model.get("focus"));
  showDetails();
  return () => {
    for (const [name, fn] of Object.entries(handlers)) model.off(name, fn);
    resize.disconnect();
  };
}

export default { render };
