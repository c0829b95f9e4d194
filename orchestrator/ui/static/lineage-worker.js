// Lays out a lineage graph off the page's thread with dagre (vendored: dagre.min.js).
importScripts("dagre.min.js");
self.onmessage = (event) => {
  const { nodes, edges } = event.data;
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 60, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: n.width, height: 28 });
  for (const [from, to] of edges) g.setEdge(from, to);
  dagre.layout(g);
  const placed = {};
  for (const id of g.nodes()) { const p = g.node(id); placed[id] = { x: p.x, y: p.y }; }
  const lines = g.edges().map((e) => ({ from: e.v, to: e.w, points: g.edge(e).points }));
  const box = g.graph();
  self.postMessage({ placed, lines, width: box.width, height: box.height });
};
