// vit-attend's interactive page, part 2 of 2: the drawing, the controls and the URL fragment.
// Plain JavaScript, no network: everything it shows comes from the JSON payload vit-attend
// embedded (see InspectorPayload.swift for its layout), decoded by inspector-maps.js.
//
// Contract for outside checks: the element #current-map carries the map on screen as
// data-values (JSON array, patch grid row-major, the numbers before colour mapping),
// the view as data-state (the fragment's keys), data-note (JSON string: what the fragment
// asked for that the page cannot show, also shown in #note; empty when nothing) and timings
// in milliseconds as data-timings;
// data-overlay-box gives the ViT heat map's [left, top, width, height] in page pixels, so a
// screenshot can be read patch by patch; data-source (a JSON string) says whether attention
// comes from stored matrices ("matrices") or is recomputed from 8-bit queries and keys
// ("queries-keys").
"use strict";
(function () {
  const timings = { scriptStart: performance.now() };
  const payloadElement = document.getElementById("payload");
  const P = JSON.parse(payloadElement.textContent);
  payloadElement.remove(); // The decoded arrays below are all the page needs from it.
  if (P.version !== 1) throw new Error("vit-attend page data version " + P.version + " is not supported");

  const state = Object.assign({ grid: 0, smooth: 0 }, P.initial);
  const {
    bytes, L, H, T, prefix, GW, GH, N, patch, attention, sagan, pool,
    MAPS, FUSIONS, missing, available, queryToken, headRow, storedRow, baseToken, currentMap, pcaChannel,
  } = inspectorMaps(P, state);
  const colormaps = {};
  for (const name of Object.keys(P.colormaps)) colormaps[name] = bytes(P.colormaps[name]);
  const photoURL = URL.createObjectURL(new Blob([bytes(P.image.png)], { type: "image/png" }));
  timings.decoded = performance.now();

  // ---- the view: the URL fragment's keys -------------------------------------------------
  const clampInt = (v, lo, hi) => Math.min(Math.max(Math.round(v), lo), hi);
  let pinned = false;
  let bench = 0;

  // "1 layer", "4 layers".
  const plural = (n, word) => n + " " + word + (n === 1 ? "" : "s");
  // What the fragment asked for and the page cannot show, said on the page (#note) and in
  // #current-map's data-note, instead of falling back silently.
  let notes = [];

  // A fragment that names a head shows that head unless it also names a fusion: a view
  // named in a URL is exactly that view, whatever the page's first view fused.
  function readFragment() {
    notes = [];
    let namedHead = false, namedFusion = false;
    for (const part of location.hash.replace(/^#/, "").split("&")) {
      const eq = part.indexOf("=");
      if (eq < 0) continue;
      const key = decodeURIComponent(part.slice(0, eq)), value = decodeURIComponent(part.slice(eq + 1));
      const number = Number(value);
      if (key === "map" && !MAPS.includes(value)) {
        notes.push("#map=" + value + " is not a map this page draws (it draws " + available().join(", ") + ")" +
          (value === "heads" ? "; the thumbnails below show every head of the layer" : "") + "; showing " + state.map + ".");
      }
      if (key === "map" && MAPS.includes(value)) state.map = value;
      else if (key === "fuse" && FUSIONS.includes(value)) { state.fuse = value; namedFusion = true; }
      else if (key === "cmap" && colormaps[value]) state.cmap = value;
      else if (key === "layer" && Number.isFinite(number)) state.layer = number;
      else if (key === "head" && Number.isFinite(number)) { state.head = number; namedHead = true; }
      else if (key === "alpha" && Number.isFinite(number)) state.alpha = number;
      else if (key === "keep" && Number.isFinite(number)) state.keep = number;
      else if ((key === "grid" || key === "smooth") && Number.isFinite(number)) state[key] = number ? 1 : 0;
      else if (key === "bench" && Number.isFinite(number)) bench = number;
      else if (key === "query") {
        const xy = value.split(",").map(Number);
        if (xy.length === 2 && xy.every(Number.isFinite)) { state.query = xy; pinned = true; }
      }
    }
    if (namedHead && !namedFusion) state.fuse = "none";
    const asked = { map: state.map, layer: state.layer, head: state.head, query: state.query.slice() };
    normalise();
    if (asked.map !== state.map) notes.push("#map=" + asked.map + " " + missing(asked.map) + "; showing " + state.map + ".");
    if (asked.layer !== state.layer) notes.push("#layer=" + asked.layer + ": the model has " + plural(L, "layer") + " (0 to " + (L - 1) + "); showing layer " + state.layer + ".");
    if (asked.head !== state.head) notes.push("#head=" + asked.head + ": the model has " + plural(H, "head") + " (0 to " + (H - 1) + "); showing head " + state.head + ".");
    if (asked.query.join(",") !== state.query.join(",")) {
      notes.push("#query=" + asked.query.join(",") + " is outside the " + GW + "x" + GH + " patch grid; showing patch (" + state.query.join(",") + ").");
    }
    $("note").textContent = notes.join(" ");
    $("note").hidden = notes.length === 0;
  }
  // Keeps every field in range, so any fragment shows some valid view.
  function normalise() {
    state.layer = clampInt(state.layer, 0, L - 1);
    state.head = clampInt(state.head, 0, H - 1);
    state.query = [clampInt(state.query[0], 0, GW - 1), clampInt(state.query[1], 0, GH - 1)];
    state.alpha = Math.min(Math.max(state.alpha, 0), 1);
    state.keep = Math.min(Math.max(state.keep, 0.01), 1);
    if (missing(state.map)) state.map = missing(P.initial.map) ? "query" : P.initial.map;
  }
  function fragment() {
    return "map=" + state.map + "&layer=" + state.layer + "&head=" + state.head + "&query=" + state.query.join(",") +
      "&fuse=" + state.fuse + "&cmap=" + state.cmap + "&alpha=" + state.alpha + "&keep=" + state.keep +
      "&grid=" + state.grid + "&smooth=" + state.smooth;
  }

  // ---- drawing --------------------------------------------------------------------------
  const W = P.image.width, Hpx = P.image.height;
  const zoom = Math.min(Math.max(480 / Math.max(W, Hpx), 1), 8), side = zoom * 0.6;
  const $ = (id) => document.getElementById(id);
  function range(values) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return [lo, hi];
  }
  // Colours `values` into `canvas` (one canvas pixel per value), each scaled to its own range
  // as HeatMap.normalized does; `mask` draws 0 dark and 1 clear instead.
  function paint(canvas, values, width, height, mask) {
    if (canvas.width !== width || canvas.height !== height) { canvas.width = width; canvas.height = height; }
    const context = canvas.getContext("2d"), image = context.createImageData(width, height), px = image.data;
    const table = colormaps[state.cmap], [lo, hi] = range(values), span = hi - lo;
    for (let i = 0; i < values.length; i++) {
      if (mask) { px[4 * i + 3] = values[i] ? 0 : 200; continue; }
      const e = span > 0 ? Math.min(Math.floor(((values[i] - lo) / span) * 256), 255) : 0;
      px[4 * i] = table[3 * e]; px[4 * i + 1] = table[3 * e + 1]; px[4 * i + 2] = table[3 * e + 2]; px[4 * i + 3] = 255;
    }
    context.putImageData(image, 0, 0);
    return [lo, hi];
  }
  // --map pca's picture: each patch its own colour, not a colormap's.
  function paintRGB(canvas) {
    const context = canvas.getContext("2d"), image = context.createImageData(GW, GH), px = image.data;
    const channels = [0, 1, 2].map(pcaChannel);
    for (let i = 0; i < N; i++) {
      for (let k = 0; k < 3; k++) px[4 * i + k] = Math.round(255 * channels[k][i]);
      px[4 * i + 3] = 255;
    }
    context.putImageData(image, 0, 0);
  }
  function place(element, x, y, w, h, scale) {
    element.style.left = x * scale + "px"; element.style.top = y * scale + "px";
    element.style.width = w * scale + "px"; element.style.height = h * scale + "px";
  }
  function setUpStage(id, scale) {
    const stage = $(id);
    stage.style.width = W * scale + "px"; stage.style.height = Hpx * scale + "px";
    stage.querySelector(".photo").src = photoURL;
    const overlay = stage.querySelector(".overlay");
    return { stage: stage, overlay: overlay, marker: stage.querySelector(".marker"), scale: scale };
  }
  const vit = setUpStage("vit-stage", zoom), saganStage = setUpStage("sagan-stage", side), rf = setUpStage("rf-stage", side);
  place(vit.overlay, 0, 0, GW * patch, GH * patch, zoom);
  vit.stage.querySelector(".grid").style.backgroundSize = patch * zoom + "px " + patch * zoom + "px";
  place(saganStage.overlay, 0, 0, P.sagan.gridWidth * P.sagan.cell, P.sagan.gridHeight * P.sagan.cell, side);
  place(rf.overlay, 0, 0, W, Hpx, side);
  const rfBox = rf.stage.querySelector(".rf-box");

  // The CNN views depend only on the query patch and the colormap: redrawn when either
  // changes, so moving between layers and heads costs nothing here.
  let drawnCNN = "", rfCaption = "";
  function drawCNN() {
    const [c, r] = state.query, x = c * patch + Math.floor(patch / 2), y = r * patch + Math.floor(patch / 2);
    for (const s of [vit, saganStage, rf]) place(s.marker, c * patch, r * patch, patch, patch, s.scale);
    if (drawnCNN === c + "," + r + "," + state.cmap) return;
    drawnCNN = c + "," + r + "," + state.cmap;
    // SAGAN: the row of the feature cell under the query patch's centre (stored per patch,
    // or per cell of a scaled-down image above the limit).
    const sgw = P.sagan.gridWidth, sgh = P.sagan.gridHeight;
    const row = P.sagan.byCell
      ? Math.min(Math.floor(y / P.sagan.cell), sgh - 1) * sgw + Math.min(Math.floor(x / P.sagan.cell), sgw - 1)
      : r * GW + c;
    const cells = sagan.length, values = new Float64Array(cells), step = sagan.steps[row];
    for (let i = 0; i < cells; i++) values[i] = sagan.data[row * cells + i] * step;
    paint(saganStage.overlay, values, P.sagan.gridWidth, P.sagan.gridHeight, false);
    // Theoretical field: the unit centred nearest the pixel (ReceptiveField.nearestUnit).
    const f = P.cnn, unit = (p) => Math.round((p - (f.size - 1) / 2 + f.padding) / f.stride);
    const ux = unit(x), uy = unit(y);
    place(rfBox, ux * f.stride - f.padding, uy * f.stride - f.padding, f.size, f.size, side);
    // Say where the box is centred and why: on the unit nearest the query, not on the query.
    const centre = (u) => u * f.stride - f.padding + (f.size - 1) / 2;
    $("rf-caption").textContent = rfCaption + " Box centred at (" + centre(ux) + "," + centre(uy) + "): the field of the output unit nearest the " +
      "query patch's centre (" + x + "," + y + "); units are " + f.stride + " px apart.";
    // Effective field: profile ⊗ profile, shifted to the same unit (EffectiveReceptiveField).
    const ox = ux * f.stride + f.profileOffset, oy = uy * f.stride + f.profileOffset, n = f.profile.length;
    const erf = new Float64Array(W * Hpx);
    for (let j = Math.max(0, oy); j < Math.min(Hpx, oy + n); j++) {
      const wy = f.profile[j - oy];
      for (let i = Math.max(0, ox); i < Math.min(W, ox + n); i++) erf[j * W + i] = wy * f.profile[i - ox];
    }
    paint(rf.overlay, erf, W, Hpx, false);
  }

  const thumbs = [];
  for (let h = 0; h < H; h++) {
    const button = document.createElement("button");
    button.type = "button"; button.className = "thumb";
    const canvas = document.createElement("canvas");
    canvas.style.height = (120 * GH) / GW + "px";
    const label = document.createElement("span");
    label.textContent = "head " + h + (P.headNames[h] ? " (" + P.headNames[h] + ")" : "");
    button.append(canvas, label);
    button.addEventListener("click", () => update({ head: h, fuse: "none" }));
    $("thumbs").append(button);
    thumbs.push({ button: button, canvas: canvas });
  }
  // Every head of the layer from the map's token, or of the pooling head when it is shown.
  function drawThumbs() {
    const token = baseToken(), scratch = new Float64Array(N), pooled = state.map === "pool";
    for (let h = 0; h < H; h++) {
      const values = pooled ? storedRow(pool, Math.min(h, pool.steps.length - 1)) : headRow(state.layer, h, token, scratch);
      paint(thumbs[h].canvas, values, GW, GH, false);
      thumbs[h].button.classList.toggle("selected", state.fuse === "none" && state.head === h);
    }
    const whose = token === 0 && P.hasClassToken ? "the class token" : "patch (" + state.query.join(",") + ")";
    $("heads-title").textContent = pooled ? "every head of the attention-pooling head's query (click to select)"
      : "every head of layer " + state.layer + ": attention of " + whose + " (click to select)";
  }

  // ---- one redraw: the map, the contract attributes, the controls, the fragment ----------
  const current = $("current-map");
  function describeHeads() {
    return state.fuse === "none" ? "head " + state.head + (P.headNames[state.head] ? " (" + P.headNames[state.head] + ")" : "")
      : state.fuse + " of " + plural(H, "head");
  }
  function caption() {
    const target = P.attribution ? " for " + P.attribution.target : "";
    if (state.map === "pool") return "the attention-pooling head's query over the patches, " + describeHeads();
    if (state.map === "gradrollout") return "gradient rollout (Chefer et al. 2021) through " + plural(L, "layer") + target;
    if (state.map === "gradcam") return "Grad-CAM on the last block's norm1" + target;
    if (state.map === "attngrad") return "attention x gradient at layer " + state.layer + " (relu, mean of heads)" + target;
    if (state.map === "pca") return "the patch tokens' first three principal components as RGB (sigmoid of 2 x whitened projection)";
    if (state.map === "norms") return "L2 norm of the patch tokens after block " + state.layer;
    const who = state.map === "query" || !P.hasClassToken ? "patch (" + state.query.join(",") + ")" : "the class token";
    if (state.map === "rollout") {
      const kept = P.rolloutTokens && !P.hasClassToken && P.rolloutTokens[0] !== queryToken()
        ? " (this page keeps rollout for patch (" + ((P.rolloutTokens[0] - prefix) % GW) + "," + Math.floor((P.rolloutTokens[0] - prefix) / GW) + ") only)" : "";
      return "attention rollout of " + who + " through " + plural(L, "layer") + " (" +
        (state.fuse === "none" ? "mean" : state.fuse) + " of heads, discard " + P.rolloutDiscardRatio + ")" + kept;
    }
    if (state.map === "mask") return "keep-mass mask: the fewest patches holding " + Math.round(state.keep * 100) +
      "% of the attention of " + who + ", layer " + state.layer + ", " + describeHeads();
    return "attention of " + who + " at layer " + state.layer + ", " + describeHeads();
  }
  function render() {
    normalise();
    const values = currentMap();
    const [lo, hi] = paint(vit.overlay, values, GW, GH, state.map === "mask");
    if (state.map === "pca") paintRGB(vit.overlay);
    vit.overlay.style.opacity = state.alpha;
    saganStage.overlay.style.opacity = state.alpha;
    rf.overlay.style.opacity = state.alpha;
    for (const s of [vit, saganStage, rf]) {
      s.stage.classList.toggle("smooth", !!state.smooth);
      s.stage.classList.toggle("pinned", pinned);
    }
    vit.stage.classList.toggle("show-grid", !!state.grid);
    drawCNN();
    drawThumbs();
    $("vit-caption").textContent = caption();
    $("bar-min").textContent = lo.toPrecision(3);
    $("bar-max").textContent = hi.toPrecision(3);
    syncControls();
    current.setAttribute("data-values", JSON.stringify(Array.from(values)));
    current.setAttribute("data-state", JSON.stringify(state));
    current.setAttribute("data-note", JSON.stringify(notes.join(" ")));
    const box = vit.overlay.getBoundingClientRect();
    current.setAttribute("data-overlay-box", JSON.stringify([box.left + scrollX, box.top + scrollY, box.width, box.height]));
    try { history.replaceState(null, "", "#" + fragment()); } catch (e) { /* some file:// setups refuse */ }
  }
  function update(changes) {
    Object.assign(state, changes);
    render();
  }

  // ---- controls ---------------------------------------------------------------------------
  function syncControls() {
    $("map").value = state.map; $("layer").value = state.layer; $("layer-value").textContent = state.layer;
    $("head").value = state.head; $("fuse").value = state.fuse; $("cmap").value = state.cmap;
    $("alpha").value = state.alpha; $("alpha-value").textContent = state.alpha;
    $("keep").value = state.keep; $("keep-value").textContent = state.keep;
    $("grid").checked = !!state.grid; $("smooth").checked = !!state.smooth;
    const bar = $("bar").getContext("2d"), strip = bar.createImageData(256, 1), table = colormaps[state.cmap];
    for (let i = 0; i < 256; i++) {
      strip.data.set([table[3 * i], table[3 * i + 1], table[3 * i + 2], 255], 4 * i);
    }
    bar.putImageData(strip, 0, 0);
  }
  function setUpControls() {
    $("title").textContent = "vit-attend: " + P.input;
    $("model").textContent = "model: " + P.model + " | " + plural(L, "layer") + ", " + plural(H, "head") + ", grid " + GW + "x" + GH +
      " of " + patch + "-pixel patches, " + (prefix ? plural(prefix, "prefix token") + (P.hasClassToken ? " (class token first)" : "") : "no class token") +
      (P.note ? " | " + P.note : "");
    current.setAttribute("data-source", JSON.stringify(attention ? "matrices" : "queries-keys"));
    $("layer").max = L - 1;
    for (let h = 0; h < H; h++) $("head").append(new Option("head " + h + (P.headNames[h] ? " (" + P.headNames[h] + ")" : ""), h));
    for (const name of Object.keys(colormaps).sort()) $("cmap").append(new Option(name, name));
    // The menu is the payload's list of views (MapRegistry.swift), labels included.
    for (const { name: m, label } of P.maps) {
      const option = new Option(label, m);
      $("map").append(option);
      option.disabled = !!missing(m);
      option.title = missing(m) ? "this map " + missing(m) : "";
    }
    $("map").addEventListener("change", (e) => update({ map: e.target.value }));
    $("layer").addEventListener("input", (e) => update({ layer: Number(e.target.value) }));
    $("head").addEventListener("change", (e) => update({ head: Number(e.target.value), fuse: "none" }));
    $("fuse").addEventListener("change", (e) => update({ fuse: e.target.value }));
    $("cmap").addEventListener("change", (e) => update({ cmap: e.target.value }));
    $("alpha").addEventListener("input", (e) => update({ alpha: Number(e.target.value) }));
    $("keep").addEventListener("input", (e) => update({ keep: Number(e.target.value) }));
    $("grid").addEventListener("change", (e) => update({ grid: e.target.checked ? 1 : 0 }));
    $("smooth").addEventListener("change", (e) => update({ smooth: e.target.checked ? 1 : 0 }));
    const f = P.cnn;
    rfCaption = "CNN " + f.name + ": theoretical field " + f.size + " px (box), stride " + f.stride +
      ", padding " + f.padding + "; the same at every point. Effective field with uniform weights (heat): 50% of its mass within " +
      Math.round(f.radius50) + " px, 95% within " + Math.round(f.radius95) + " px.";
    $("rf-caption").textContent = rfCaption;
    $("sagan-caption").textContent = "SAGAN attention of the " + P.sagan.cell + "-pixel feature cell under the query patch's centre " +
      "(fixed edge and colour filters, untrained identity query/key): also global.";
  }

  // Pointer: hover moves the query unless pinned; a click pins (or unpins) it.
  function patchAt(s, event) {
    const box = s.stage.getBoundingClientRect();
    const x = (event.clientX - box.left) / s.scale, y = (event.clientY - box.top) / s.scale;
    return [clampInt(Math.floor(x / patch), 0, GW - 1), clampInt(Math.floor(y / patch), 0, GH - 1)];
  }
  for (const s of [vit, saganStage, rf]) {
    s.stage.addEventListener("mousemove", (event) => {
      if (pinned) return;
      const q = patchAt(s, event);
      if (q[0] !== state.query[0] || q[1] !== state.query[1]) update({ query: q });
    });
    s.stage.addEventListener("click", (event) => { pinned = !pinned; update({ query: patchAt(s, event) }); });
  }
  document.addEventListener("keydown", (event) => {
    const tag = event.target.tagName;
    if (tag === "SELECT" || (tag === "INPUT" && event.target.type !== "checkbox") || event.altKey || event.ctrlKey || event.metaKey) return;
    const step = { ArrowUp: -1, ArrowDown: 1, ArrowLeft: -1, ArrowRight: 1 }[event.key];
    if (step !== undefined && event.shiftKey) {
      const [c, r] = state.query, horizontal = event.key === "ArrowLeft" || event.key === "ArrowRight";
      pinned = true;
      update({ query: horizontal ? [c + step, r] : [c, r + step] });
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      update({ layer: state.layer + step });
    } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      update({ head: (state.head + step + H) % H, fuse: "none" });
    } else if (event.key === "f") {
      update({ fuse: FUSIONS[(FUSIONS.indexOf(state.fuse) + 1) % FUSIONS.length] });
    } else if (event.key === "m") {
      const maps = available();
      update({ map: maps[(maps.indexOf(state.map) + 1) % maps.length] });
    } else if (event.key === "g") {
      update({ grid: state.grid ? 0 : 1 });
    } else {
      return;
    }
    event.preventDefault();
  });
  window.addEventListener("hashchange", () => {
    if (location.hash.slice(1) === fragment()) return;
    readFragment();
    render();
  });

  // ---- start, and the timings a test reads ------------------------------------------------
  setUpControls();
  readFragment();
  render();
  timings.ready = performance.now();
  // `bench=K` in the fragment: K hover redraws over successive patches, timed one by one.
  if (bench > 0) {
    const kept = state.query.slice(), times = [];
    for (let k = 0; k < bench; k++) {
      const start = performance.now();
      update({ query: [k % GW, Math.floor(k / GW) % GH] });
      times.push(performance.now() - start);
    }
    update({ query: kept });
    times.sort((a, b) => a - b);
    timings.hovers = bench;
    timings.hoverMedian = times[Math.floor(times.length / 2)];
    timings.hoverMax = times[times.length - 1];
    timings.hoverMean = times.reduce((a, b) => a + b, 0) / times.length;
  }
  current.setAttribute("data-timings", JSON.stringify(timings));
  requestAnimationFrame(() => {
    timings.firstFrame = performance.now();
    current.setAttribute("data-timings", JSON.stringify(timings));
  });
})();
