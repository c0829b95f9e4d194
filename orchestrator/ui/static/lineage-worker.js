// Lays out a lineage graph off the page's thread with dagre (vendored: dagre.min.js).
importScripts("dagre.min.js", "lineage-layout.js");
self.onmessage = (event) => {
  const { nodes, edges } = event.data;
  self.postMessage(lineageLayout(dagre, nodes, edges));
};
