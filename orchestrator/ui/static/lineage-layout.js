// The lineage layout, shared by the worker (the UI) and the page itself (the one-file report,
// where a file:// page may not start a worker): dagre, left to right.
function lineageLayout(dagre, nodes, edges) {
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
  return { placed, lines, width: box.width, height: box.height };
}
