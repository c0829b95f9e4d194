// Draws the lineage sent with the page: layout in a worker (dagre), then SVG nodes coloured
// by state, with a letter (colour is never the only signal), that open their model on click.
(() => {
  const data = JSON.parse(document.getElementById("lineage-data").textContent);
  const svg = document.getElementById("lineage");
  const NS = "http://www.w3.org/2000/svg";
  const el = (name, attrs, parent) => {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    parent.appendChild(node);
    return node;
  };
  const nodes = data.nodes.map((n) => ({ ...n, width: 34 + 7.2 * n.id.length }));
  const draw = ({ placed, lines, width, height }) => {
    svg.setAttribute("viewBox", `0 0 ${Math.max(width, 300)} ${Math.max(height, 80)}`);
    svg.style.width = `${Math.max(width, 300)}px`;
    svg.style.height = `${Math.max(height, 80)}px`;
    const edges = el("g", { class: "edges" }, svg);
    for (const line of lines) {
      const d = line.points.map((p, i) => `${i ? "L" : "M"}${p.x},${p.y}`).join(" ");
      const path = el("path", { d, class: "edge" }, edges);
      el("title", {}, path).textContent = `${line.from} → ${line.to}`;
      // an arrowhead where the edge reaches the model that reads: data flows that way
      const [a, b] = line.points.slice(-2);
      const angle = Math.atan2(b.y - a.y, b.x - a.x);
      const corner = (turn) => `${b.x - 8 * Math.cos(angle + turn)},${b.y - 8 * Math.sin(angle + turn)}`;
      el("path", { d: `M${b.x},${b.y} L${corner(0.45)} L${corner(-0.45)} Z`, class: "arrowhead" }, edges);
    }
    for (const n of nodes) {
      const p = placed[n.id];
      const g = el("g", {
        class: `node s-${n.state}${n.focus ? " focus" : ""}`,
        transform: `translate(${p.x - n.width / 2},${p.y - 14})`,
        "data-id": n.id, "data-state": n.state, tabindex: n.kind === "source" ? -1 : 0,
      }, svg);
      el("title", {}, g).textContent = `${n.id}: ${n.state} (${n.kind}${n.owner ? ", owner " + n.owner : ""})`;
      el("rect", { width: n.width, height: 28, rx: 5 }, g);
      el("rect", { class: "mark", x: 5, y: 5, width: 18, height: 18, rx: 3 }, g);
      el("text", { class: "letter", x: 14, y: 18 }, g).textContent = n.letter;
      el("text", { x: 28, y: 18 }, g).textContent = n.id;
      if (n.kind !== "source") {
        const open = () => { window.location.href = `${svg.dataset.href || "/models/"}${n.id}`; };
        g.addEventListener("click", open);
        g.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
      }
    }
    svg.dataset.ready = "true";
  };
  if (window.dagre && window.lineageLayout) {
    draw(lineageLayout(window.dagre, nodes, data.edges));  // the report: no worker from disk
  } else {
    const worker = new Worker("/static/lineage-worker.js");
    worker.onmessage = (event) => draw(event.data);
    worker.postMessage({ nodes, edges: data.edges });
  }
})();
