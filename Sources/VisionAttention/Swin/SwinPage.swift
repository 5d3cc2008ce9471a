/// The Swin page's HTML, style and script in one template (`SwinScene.page(input:)` fills
/// `{{TITLE}}` and `{{PAYLOAD}}`): the image, a head choice, and one canvas per block drawn
/// for the query the last click set.
enum SwinPage {
  static let template = #"""
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"><title>{{TITLE}}</title>
    <style>
    body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #1e1e1e; }
    #blocks { display: flex; flex-wrap: wrap; gap: 14px; }
    figure { margin: 0; } figcaption { max-width: 260px; }
    canvas { image-rendering: pixelated; border: 1px solid #ccc; }
    #input { cursor: crosshair; }
    </style></head><body>
    <h1 style="font-size:16px">{{TITLE}}</h1>
    <p id="caption"></p>
    <p>Click the image to move the query. Heads: <select id="heads"></select></p>
    <div id="blocks"><figure><canvas id="input"></canvas><figcaption id="where"></figcaption></figure></div>
    <script type="application/json" id="payload">{{PAYLOAD}}</script>
    <script>
    "use strict";
    const P = JSON.parse(document.getElementById("payload").textContent);
    const bytes = (b) => Uint8Array.from(atob(b), (c) => c.charCodeAt(0));
    const blocks = P.blocks.map((b) => {
      const sources = new Int32Array(bytes(b.sources).buffer);
      const slotOf = new Int32Array(b.height * b.width);
      sources.forEach((cell, slot) => { if (cell >= 0) slotOf[cell] = slot; });
      return Object.assign({}, b, { sources, slotOf, weights: bytes(b.weights), rowMax: new Float32Array(bytes(b.row_max).buffer) });
    });
    const most = Math.max(...blocks.map((b) => b.heads));
    const select = document.getElementById("heads");
    ["mean", "max"].concat([...Array(most).keys()].map((h) => "head " + h)).forEach((name) => select.add(new Option(name, name)));
    document.getElementById("caption").textContent = P.caption;
    // Inferno, five stops, interpolated.
    const stops = [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]];
    function colour(v) {
      const x = Math.min(Math.max(v, 0), 1) * (stops.length - 1), i = Math.min(Math.floor(x), stops.length - 2), t = x - i;
      return stops[i].map((c, k) => c + (stops[i + 1][k] - c) * t);
    }
    const image = new Image();
    let query = P.query;
    function weight(b, w, head, i, j) {
      const row = (w * b.heads + head) * b.n + i;
      return b.weights[row * b.n + j] / 255 * b.rowMax[row];
    }
    function draw() {
      const choice = select.value;
      const input = document.getElementById("input");
      [input.width, input.height] = [P.width, P.height];
      const ctx = input.getContext("2d");
      ctx.drawImage(image, 0, 0);
      ctx.strokeStyle = "#00e5ff"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(query.x + 0.5, query.y + 0.5, 5, 0, 2 * Math.PI); ctx.stroke();
      document.getElementById("where").textContent = "query at model-input pixel (" + query.x + "," + query.y + ")";
      document.querySelectorAll("figure.block").forEach((f) => f.remove());
      for (const b of blocks) {
        const figure = document.createElement("figure"); figure.className = "block";
        const canvas = document.createElement("canvas"); [canvas.width, canvas.height] = [P.width, P.height];
        const caption = document.createElement("figcaption");
        figure.append(canvas, caption); document.getElementById("blocks").append(figure);
        const c = canvas.getContext("2d"); c.drawImage(image, 0, 0);
        const head = choice.startsWith("head") ? Number(choice.slice(5)) : -1;
        const shift = b.shift[0] || b.shift[1] ? "shifted (" + b.shift[1] + "," + b.shift[0] + ")" : "not shifted";
        caption.textContent = "block " + b.block + ", stage " + b.stage + ": " + b.width + "x" + b.height + " cells of " + b.cell + " px, " + b.window[1] + "x" + b.window[0] + " windows " + shift;
        if (head >= b.heads) { caption.textContent += "; no head " + head + " here"; continue; }
        const cell = Math.min(Math.floor(query.y / b.cell), b.height - 1) * b.width + Math.min(Math.floor(query.x / b.cell), b.width - 1);
        const slot = b.slotOf[cell], w = Math.floor(slot / b.n), i = slot % b.n;
        const values = new Map();
        for (let j = 0; j < b.n; j++) {
          const key = b.sources[w * b.n + j];
          if (key < 0) continue;
          const all = [...Array(b.heads).keys()].map((h) => weight(b, w, h, i, j));
          values.set(key, head >= 0 ? all[head] : choice === "max" ? Math.max(...all) : all.reduce((s, a) => s + a, 0) / b.heads);
        }
        const peak = Math.max(...values.values(), 1e-12);
        c.fillStyle = "rgba(0,0,0,0.55)"; c.fillRect(0, 0, P.width, P.height);
        for (const [key, v] of values) {
          const [x, y] = [(key % b.width) * b.cell, Math.floor(key / b.width) * b.cell];
          const [r, g, bl] = colour(v / peak);
          c.drawImage(image, x, y, b.cell, b.cell, x, y, b.cell, b.cell);
          c.fillStyle = "rgba(" + r + "," + g + "," + bl + ",0.6)"; c.fillRect(x, y, b.cell, b.cell);
        }
        c.strokeStyle = "#00e5ff"; c.beginPath(); c.arc(query.x + 0.5, query.y + 0.5, 5, 0, 2 * Math.PI); c.stroke();
        caption.textContent += "; peak " + peak.toFixed(3);
      }
    }
    document.getElementById("input").addEventListener("click", (e) => {
      const r = e.target.getBoundingClientRect();
      query = { x: Math.floor((e.clientX - r.left) * P.width / r.width), y: Math.floor((e.clientY - r.top) * P.height / r.height) };
      draw();
    });
    select.addEventListener("change", draw);
    image.onload = draw;
    image.src = P.image;
    </script></body></html>
    """#
}
