// Reads tiegraph's Cytoscape.js and graphology exports with the real libraries.
// Usage: node check.mjs BASE_URL OUT_DIR (NODE_PATH points at tests-ext/node_modules).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import assert from "node:assert/strict";

// NODE_PATH applies to require, not to import: load the packages through require.
const require = createRequire(import.meta.url);
const cytoscape = require("cytoscape");
const { MultiDirectedGraph } = require("graphology");
const Graph = require("graphology");

const [base, out] = process.argv.slice(2);
const SOURCE = "raices-declines-salesforce-donation";
const pattern = JSON.stringify([
  { relationKinds: ["VENDOR_TO"], direction: "IN" },
  { direction: "ANY", entityKinds: ["NONPROFIT"] },
]);
const scopes = {
  all: {},
  neighborhood: { scope: "neighborhood", id: "dhs", depth: "1" },
  paths: { scope: "paths", from: "cbp", pattern },
};
let checks = 0;
const check = (condition, message) => {
  checks += 1;
  assert.ok(condition, message);
};

async function fetchExport(format, params) {
  const query = new URLSearchParams({ format, ...params });
  const response = await fetch(`${base}/export?${query}`);
  check(response.status === 200, `${format}: HTTP ${response.status}`);
  check(response.headers.get("content-type").startsWith("application/json"), `${format}: content-type`);
  check(/attachment; filename=/.test(response.headers.get("content-disposition")), `${format}: content-disposition`);
  return response.json();
}

function checkClaims(name, claims) {
  check(Array.isArray(claims) && claims.length > 0, `${name}: claims are a list`);
  for (const claim of claims) {
    check(claim.source.id === SOURCE && claim.quote.length > 0, `${name}: a cited claim`);
    check(["ASSERTS", "DENIES"].includes(claim.stance), `${name}: a stance`);
  }
}

function checkScope(name, scope, nodes, edges) {
  // nodes: Map id -> attributes; edges: list of {id, source, target, attributes}
  for (const edge of edges) {
    check(["CONFIRMED", "REPORTED", "DISPUTED", "DENIED"].includes(edge.attributes.standing), `${name}: standing`);
    checkClaims(name, edge.attributes.claims);
  }
  if (scope === "all") {
    check(nodes.size === 12 && edges.length === 17, `${name}: ${nodes.size}/${edges.length}`);
    check(nodes.get("cbp").kind === "AGENCY", `${name}: CBP is an agency`);
    const ice = edges.find((e) => e.id === "salesforce-vendor-to-ice");
    check(ice.attributes.standing === "DENIED" && ice.attributes.kind === "VENDOR_TO", `${name}: the ICE denial`);
    const donation = edges.find((e) => e.id === "salesforce-donation-to-raices");
    check(donation.attributes.status === "DECLINED" && donation.attributes.amount === 250000, `${name}: the donation`);
    const toCbp = edges.filter((e) => e.source === "salesforce" && e.target === "cbp");
    check(toCbp.length === 2, `${name}: two parallel relations to CBP`);
  } else if (scope === "neighborhood") {
    check([...nodes.keys()].sort().join() === "cbp,dhs,ice", `${name}: nodes ${[...nodes.keys()]}`);
    check(edges.length === 2 && edges.every((e) => e.attributes.kind === "PART_OF"), `${name}: PART_OF edges`);
  } else {
    for (const id of ["raices", "media-alliance", "fight-for-the-future"]) {
      check(nodes.get(id)?.kind === "NONPROFIT", `${name}: ${id} is a nonprofit on a path`);
    }
  }
}

function checkCytoscape(name, scope, doc) {
  const cy = cytoscape({ headless: true, elements: doc.elements });
  const nodes = new Map(cy.nodes().map((n) => [n.id(), n.data()]));
  const edges = cy.edges().map((e) => ({ id: e.id(), source: e.source().id(), target: e.target().id(), attributes: e.data() }));
  check(cy.edges().every((e) => e.source().nonempty() && e.target().nonempty()), `${name}: every edge has its ends`);
  checkScope(name, scope, nodes, edges);
  cy.destroy();
}

function checkGraphology(name, scope, doc) {
  const graph = Graph.from(doc);
  check(graph.type === "directed" && graph.multi === true, `${name}: a directed multigraph`);
  const copy = new MultiDirectedGraph();
  copy.import(doc);
  check(copy.order === graph.order && copy.size === graph.size, `${name}: import() agrees with from()`);
  const nodes = new Map(graph.mapNodes((key, attributes) => [key, attributes]));
  const edges = graph.mapEdges((id, attributes, source, target) => ({ id, source, target, attributes }));
  checkScope(name, scope, nodes, edges);
}

for (const [scope, params] of Object.entries(scopes)) {
  checkCytoscape(`http ${scope} cytoscape`, scope, await fetchExport("cytoscape", params));
  checkGraphology(`http ${scope} graphology`, scope, await fetchExport("graphology", params));
  const file = (format) => JSON.parse(readFileSync(`${out}/cli-${scope}.${format}`, "utf8"));
  checkCytoscape(`cli ${scope} cytoscape`, scope, file("cytoscape"));
  checkGraphology(`cli ${scope} graphology`, scope, file("graphology"));
}

// GraphQL answers with the same documents, as objects: handed to the libraries unparsed.
const response = await fetch(`${base}/graphql`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ query: "{ export(format: CYTOSCAPE) g: export(format: GRAPHOLOGY) }" }),
});
const answer = await response.json();
check(!answer.errors, `GraphQL export: ${JSON.stringify(answer.errors)}`);
check(typeof answer.data.export === "object" && typeof answer.data.g === "object", "GraphQL exports are JSON objects");
checkCytoscape("graphql cytoscape", "all", answer.data.export);
checkGraphology("graphql graphology", "all", answer.data.g);

console.log(`check.mjs: ${checks} checks passed`);
