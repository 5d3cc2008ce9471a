// vit-attend's interactive page, part 1 of 2: the payload's arrays decoded, and the maps over
// the patch grid computed from them, with no DOM. inspector.js (part 2) draws them; the page
// holds both in one <script>, this part first (InspectorPage.swift).
"use strict";

// Decodes payload `P` (InspectorPayload.swift) and returns what the page draws from. The maps
// follow the view `state` (the URL fragment's keys), read at each call: the page changes it
// in place.
function inspectorMaps(P, state) {
  function bytes(base64) {
    const text = atob(base64);
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  }
  // Per-row quantised matrix (QuantisedRows.swift): value = byte * scale[row] / 255.
  function rows(q) {
    const scales = new Float32Array(bytes(q.scales).buffer);
    const steps = new Float64Array(scales.length);
    for (let r = 0; r < scales.length; r++) steps[r] = scales[r] / 255;
    return { data: bytes(q.bytes), steps: steps, length: q.rowLength };
  }

  const L = P.layers, H = P.heads, T = P.tokens, prefix = P.prefixTokens;
  const GW = P.gridWidth, GH = P.gridHeight, N = GW * GH, patch = P.patchSize;
  // Every weight (P.attention), or, above --full-attention-limit, each layer's queries and
  // keys at 8 bits (QuantisedQueriesKeys.swift) from which rows are recomputed on demand.
  const attention = P.attention ? rows(P.attention) : null;
  const queriesKeys = P.queriesKeys ? P.queriesKeys.layers.map((l) => ({
    q: new Int8Array(bytes(l.q).buffer), k: new Int8Array(bytes(l.k).buffer),
    qScales: new Float32Array(bytes(l.qScales).buffer), kScales: new Float32Array(bytes(l.kScales).buffer),
  })) : null;
  const rollout = {};
  for (const name of Object.keys(P.rollout)) rollout[name] = rows(P.rollout[name]);
  const sagan = rows(P.sagan.rows);
  // The views the page offers, in menu order, as the payload lists them (MapRegistry.swift):
  // each with its menu label and what the page must hold to draw it.
  const MAPS = P.maps.map((m) => m.name), FUSIONS = ["none", "mean", "max", "min"];
  const requirement = {};
  for (const m of P.maps) requirement[m.name] = m.requires || "";
  const GRADIENT_MAPS = MAPS.filter((m) => requirement[m] === "attribution");
  // The attention-pooling head's rows ([heads, N]) and the class-specific maps ([1, N], or
  // [layers, N] for a map of one layer), when the model has them.
  const pool = P.pool ? rows(P.pool) : null;
  let gradients = null;
  if (P.attribution) {
    gradients = {};
    for (const m of GRADIENT_MAPS) gradients[m] = rows(P.attribution[m]);
  }
  // The maps of the tokens (--map pca's colours [3, N], the patches' norms [layers, N]).
  const tokenMaps = P.tokenMaps ? { pca: rows(P.tokenMaps.pca), norms: rows(P.tokenMaps.norms) } : null;
  // Why a map is missing from this page, or "" when it draws it.
  function missing(map) {
    if (requirement[map] === "classToken" && !P.hasClassToken) return "needs a class token, and this model has none";
    if (requirement[map] === "pool" && !pool) return "needs an attention-pooling head, and this model has none";
    if (requirement[map] === "attribution" && !gradients) return "is not on this page (" + P.attributionNote + ")";
    if (requirement[map] === "tokens" && !tokenMaps) return "is not on this page (" + P.tokenMapsNote + ")";
    return "";
  }
  const available = () => MAPS.filter((m) => !missing(m));

  // ---- maps over the patch grid (Float64Array(N), row-major) ------------------------------
  const queryToken = () => prefix + state.query[1] * GW + state.query[0];
  // Every head's row from `token` at `layer` from the 8-bit queries and keys:
  // softmax_j(sq · sk[j] / 127² · Σ q·k[j] / √d). The last few are kept, so moving between
  // heads, fusions and maps at one patch recomputes nothing.
  const recomputed = new Map();
  function recomputedRows(layer, token) {
    const key = layer + "," + token;
    if (recomputed.has(key)) return recomputed.get(key);
    const qk = queriesKeys[layer], d = P.queriesKeys.headDimension, C = H * d, out = [];
    for (let h = 0; h < H; h++) {
      const row = new Float64Array(T), q = token * C + h * d;
      const factor = qk.qScales[token * H + h] / (127 * 127 * Math.sqrt(d));
      let top = -Infinity;
      for (let j = 0; j < T; j++) {
        const k = j * C + h * d;
        let dot = 0;
        for (let e = 0; e < d; e++) dot += qk.q[q + e] * qk.k[k + e];
        row[j] = dot * factor * qk.kScales[j * H + h];
        if (row[j] > top) top = row[j];
      }
      let sum = 0;
      for (let j = 0; j < T; j++) { row[j] = Math.exp(row[j] - top); sum += row[j]; }
      for (let j = 0; j < T; j++) row[j] /= sum;
      out.push(row);
    }
    if (recomputed.size >= 4 * L) recomputed.delete(recomputed.keys().next().value);
    recomputed.set(key, out);
    return out;
  }
  // One head's weights from `token` to every patch at `layer`.
  function headRow(layer, head, token, out) {
    if (!attention) {
      const row = recomputedRows(layer, token)[head];
      for (let i = 0; i < N; i++) out[i] = row[prefix + i];
      return out;
    }
    const row = (layer * H + head) * T + token, step = attention.steps[row], base = row * T + prefix, data = attention.data;
    for (let i = 0; i < N; i++) out[i] = data[base + i] * step;
    return out;
  }
  // The selected head's row, or the fusion of all `count` heads (AttentionRecord.fused);
  // `head(h, out)` fills `out` with head h's row and returns it.
  function selected(count, head) {
    const out = new Float64Array(N);
    if (state.fuse === "none") return head(Math.min(state.head, count - 1), out);
    const one = new Float64Array(N);
    head(0, out);
    for (let h = 1; h < count; h++) {
      head(h, one);
      if (state.fuse === "mean") for (let i = 0; i < N; i++) out[i] += one[i];
      else if (state.fuse === "max") for (let i = 0; i < N; i++) out[i] = Math.max(out[i], one[i]);
      else for (let i = 0; i < N; i++) out[i] = Math.min(out[i], one[i]);
    }
    if (state.fuse === "mean") for (let i = 0; i < N; i++) out[i] /= count;
    return out;
  }
  const selectionRow = (layer, token) => selected(H, (h, out) => headRow(layer, h, token, out));
  // Whose attention the class-token-or-query maps follow: the class token when asked for.
  const baseToken = () => (state.map === "query" || !P.hasClassToken ? queryToken() : 0);
  // DINO's keep-mass mask (AttentionRecord.keepMassMask): the fewest largest cells holding
  // `keep` of the mass, as 1; the rest 0.
  function keepMass(values, keep) {
    let total = 0;
    for (const v of values) total += Math.max(v, 0);
    const mask = new Float64Array(values.length);
    if (!(total > 0)) return mask;
    const order = Array.from(values.keys()).sort((a, b) => values[b] - values[a]);
    let mass = 0;
    for (const i of order) {
      if (mass >= keep * total) break;
      mask[i] = 1;
      mass += Math.max(values[i], 0);
    }
    return mask;
  }
  // Row `row` of quantised rows `q` over the patches, into `out`.
  function storedRow(q, row, out = new Float64Array(N)) {
    const step = q.steps[row];
    for (let i = 0; i < N; i++) out[i] = q.data[row * N + i] * step;
    return out;
  }
  const poolRow = () => selected(pool.steps.length, (h, out) => storedRow(pool, h, out));
  // --map pca's colour channel `k` (0 red, 1 green, 2 blue) of every patch, in [0, 1].
  const pcaChannel = (k) => storedRow(tokenMaps.pca, k);
  function currentMap() {
    if (state.map === "pool") return poolRow();
    if (state.map === "norms") return storedRow(tokenMaps.norms, state.layer);
    // The first component's colour stands for the RGB picture where one value is needed.
    if (state.map === "pca") return pcaChannel(0);
    if (GRADIENT_MAPS.includes(state.map)) {
      // One row per layer for a map of one layer (attngrad), else one row.
      const stored = gradients[state.map];
      return storedRow(stored, stored.steps.length > 1 ? state.layer : 0);
    }
    if (state.map === "rollout") {
      const r = rollout[state.fuse === "none" ? "mean" : state.fuse];
      // With a class token only its row is stored (row 0); without, every token's row, or
      // above the limit the rows of P.rolloutTokens alone (the first stands in for others).
      const token = P.hasClassToken ? 0 : queryToken(), out = new Float64Array(N);
      const row = P.rolloutTokens ? Math.max(P.rolloutTokens.indexOf(token), 0) : token, step = r.steps[row];
      for (let i = 0; i < N; i++) out[i] = r.data[row * T + prefix + i] * step;
      return out;
    }
    const values = selectionRow(state.layer, baseToken());
    return state.map === "mask" ? keepMass(values, state.keep) : values;
  }

  return {
    bytes, L, H, T, prefix, GW, GH, N, patch, attention, sagan, pool,
    MAPS, FUSIONS, missing, available, queryToken, headRow, storedRow, baseToken, currentMap, pcaChannel,
  };
}
