// tiegraph explorer: search entities, expand neighbourhoods, run "connected through"
// patterns, read the claims behind every tie, and follow the `changes` subscription live.
// Plain browser JavaScript, no build step; the only library is the vendored Cytoscape.js.
// Everything from the server is put into the page with textContent, never as HTML.
(function () {
  'use strict';

  const ENTITY_KINDS = ['COMPANY', 'AGENCY', 'NONPROFIT', 'PERSON', 'GROUP'];
  const RELATION_KINDS = ['VENDOR_TO', 'PART_OF', 'OFFICER_OF', 'EMPLOYEE_OF', 'MEMBER_OF',
    'OWNS', 'DONATION', 'LOBBIED', 'PRESSURED', 'ASSOCIATED_WITH'];
  const DIRECTIONS = ['ANY', 'OUT', 'IN'];
  // Colour and shape per entity kind; the legend is drawn from this table.
  const KIND_STYLE = {
    COMPANY: { color: '#1e88e5', shape: 'round-rectangle', label: 'company' },
    AGENCY: { color: '#6a1b9a', shape: 'hexagon', label: 'agency' },
    NONPROFIT: { color: '#2e7d32', shape: 'ellipse', label: 'nonprofit' },
    PERSON: { color: '#f9a825', shape: 'ellipse', label: 'person' },
    GROUP: { color: '#00838f', shape: 'diamond', label: 'group' },
  };

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- GraphQL over HTTP

  async function gql(query, variables) {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify({ query, variables: variables || {} }),
    });
    let body;
    try {
      body = await res.json();
    } catch (e) {
      throw new Error('HTTP ' + res.status + ': the answer is not JSON');
    }
    if (body.errors && body.errors.length) {
      throw new Error(body.errors.map((e) => e.message).join('; '));
    }
    if (!res.ok) throw new Error('HTTP ' + res.status);
    return body.data;
  }

  const ENTITY_FIELDS = 'id kind name';
  const RELATION_FIELDS = 'id kind status standing role from { id kind name } to { id kind name }';
  const CLAIM_FIELDS = 'id stance quote recordedAt claimant { id name kind } ' +
    'source { id title url publisher published }';

  const Q_SEARCH = `query Search($search: String, $kind: EntityKind) {
    entities(search: $search, kind: $kind, first: 25) { nodes { ${ENTITY_FIELDS} aliases } }
  }`;
  const Q_NEIGHBORHOOD = `query Neighborhood($id: ID!, $depth: Int!, $includeDenied: Boolean!) {
    neighborhood(id: $id, depth: $depth, includeDenied: $includeDenied) {
      partial nodes { ${ENTITY_FIELDS} } edges { ${RELATION_FIELDS} }
    }
  }`;
  const Q_CONNECTED = `query Connected($from: ID!, $pattern: [HopInput!]!, $includeDenied: Boolean!) {
    connected(from: $from, pattern: $pattern, includeDenied: $includeDenied, examples: 3, first: 100) {
      partial totalCount
      edges { node { entity { ${ENTITY_FIELDS} } pathCount
        examples { hops { direction from { id } to { id } relation { ${RELATION_FIELDS} } } } } }
    }
  }`;
  const Q_RELATION = `query Relation($id: ID!) {
    relation(id: $id) { ${RELATION_FIELDS} description start end amount { value currency }
      createdAt updatedAt claims { ${CLAIM_FIELDS} } }
  }`;
  const Q_ENTITY = `query Entity($id: ID!) {
    entity(id: $id) { ${ENTITY_FIELDS} aliases description country category
      identifiers { scheme value } createdAt updatedAt }
  }`;
  const Q_STATS = '{ stats { entities relations } }';

  // ---------------------------------------------------------------- state

  const state = {
    // Entities whose neighbourhood the user expanded, with the depth used.
    expanded: new Map(),
    // The last "connected through" run: { from, pattern } or null.
    connected: null,
    // What the side panel shows: { type: 'relation' | 'entity', id } or null.
    panel: null,
    includeDenied: false,
    live: false,
    // Every change event received, newest last (tests read this).
    changes: [],
  };

  // ---------------------------------------------------------------- the graph

  const cy = cytoscape({
    container: $('cy'),
    wheelSensitivity: 0.3,
    minZoom: 0.2,
    maxZoom: 3,
    style: [
      {
        selector: 'node',
        style: {
          label: 'data(name)',
          'background-color': (n) => (KIND_STYLE[n.data('kind')] || {}).color || '#888',
          shape: (n) => (KIND_STYLE[n.data('kind')] || {}).shape || 'ellipse',
          width: 34,
          height: 34,
          'font-size': 11,
          'text-valign': 'bottom',
          'text-margin-y': 4,
          'text-wrap': 'wrap',
          'text-max-width': 120,
          'text-background-color': '#fbfcfd',
          'text-background-opacity': 0.8,
          'text-background-padding': 1,
          'border-width': 1,
          'border-color': '#0004',
        },
      },
      { selector: 'node.expanded', style: { 'border-width': 3, 'border-color': '#263238' } },
      { selector: 'node.origin', style: { width: 44, height: 44, 'border-width': 4, 'border-color': '#1565c0' } },
      { selector: 'node.reached', style: { 'border-width': 4, 'border-color': '#43a047', 'font-weight': 'bold' } },
      {
        selector: 'edge',
        style: {
          width: 2.5,
          'curve-style': 'bezier',
          'control-point-step-size': 36,
          'target-arrow-shape': 'triangle',
          'arrow-scale': 1.1,
          'line-color': '#37474f',
          'target-arrow-color': '#37474f',
          label: 'data(label)',
          'font-size': 9,
          color: '#455a64',
          'text-rotation': 'autorotate',
          'text-background-color': '#fbfcfd',
          'text-background-opacity': 0.85,
          'text-background-padding': 1,
        },
      },
      { selector: 'edge[standing = "REPORTED"]', style: { 'line-color': '#90a4ae', 'target-arrow-color': '#90a4ae', width: 2 } },
      {
        selector: 'edge[standing = "DISPUTED"]',
        style: { 'line-color': '#ef8a17', 'target-arrow-color': '#ef8a17', 'line-style': 'dotted', width: 3.5 },
      },
      {
        selector: 'edge[standing = "DENIED"]',
        style: {
          'line-color': '#d62728',
          'target-arrow-color': '#d62728',
          'line-style': 'dashed',
          'line-dash-pattern': [8, 4],
          width: 3,
          color: '#b71c1c',
        },
      },
      { selector: 'edge.onpath', style: { width: 4.5, 'z-index': 5 } },
      { selector: '.fresh', style: { 'overlay-color': '#ffeb3b', 'overlay-opacity': 0.45, 'overlay-padding': 6 } },
      { selector: ':selected', style: { 'overlay-color': '#1565c0', 'overlay-opacity': 0.2, 'overlay-padding': 5 } },
    ],
  });

  function nodeData(e) {
    return { id: e.id, kind: e.kind, name: e.name };
  }

  function edgeLabel(r) {
    const kind = r.kind.toLowerCase().replace(/_/g, ' ');
    return r.status ? kind + ' (' + r.status.toLowerCase() + ')' : kind;
  }

  // Adds or updates a node; returns whether it is new.
  function upsertNode(e) {
    const n = cy.getElementById(e.id);
    if (n.nonempty()) {
      n.data(nodeData(e));
      return false;
    }
    cy.add({ group: 'nodes', data: nodeData(e) });
    return true;
  }

  // Adds or updates an edge (and its two ends); returns the elements that are new.
  function upsertEdge(r) {
    let added = cy.collection();
    for (const end of [r.from, r.to]) {
      if (upsertNode(end)) added = added.union(cy.getElementById(end.id));
    }
    const data = {
      id: r.id,
      source: r.from.id,
      target: r.to.id,
      kind: r.kind,
      status: r.status || null,
      standing: r.standing,
      role: r.role || null,
      label: edgeLabel(r),
    };
    const e = cy.getElementById(r.id);
    if (e.nonempty()) {
      e.data(data);
    } else {
      added = added.union(cy.add({ group: 'edges', data }));
    }
    return added;
  }

  // Lays the graph out. With `opts.placeOnly` (live updates) the drawing stays put and new
  // nodes are set down in a free spot around a neighbour already drawn; otherwise a force
  // layout runs from scratch and the view is fitted at a readable scale.
  function layout(added, opts) {
    opts = opts || {};
    const fresh = added ? added.nodes() : cy.collection();
    const settled = cy.nodes().filter((n) => !fresh.contains(n));
    if (added && fresh.empty()) {
      // Nothing new to place: leave the drawing as it is.
    } else if ((opts.placeOnly || fresh.length * 2 < settled.length) && settled.nonempty()) {
      fresh.forEach((n) => {
        const anchor = n.neighborhood('node').filter((m) => !fresh.contains(m));
        const c = anchor.nonempty() ? anchor[0].position() : { x: 0, y: 0 };
        let best = null;
        for (let i = 0; i < 16; i++) {
          const a = (Math.PI * 2 * i) / 16;
          const p = { x: c.x + 170 * Math.cos(a), y: c.y + 170 * Math.sin(a) };
          const room = Math.min(...cy.nodes().filter((m) => m !== n).map((m) =>
            Math.hypot(m.position().x - p.x, m.position().y - p.y)));
          if (!best || room > best.room) best = { p, room };
        }
        n.position(best.p);
      });
      const bb = cy.elements().renderedBoundingBox();
      if (bb.x1 < 0 || bb.y1 < 0 || bb.x2 > cy.width() || bb.y2 > cy.height()) cy.fit(undefined, 50);
    } else {
      cy.layout({
        name: 'cose',
        animate: false,
        randomize: true,
        fit: true,
        padding: 50,
        nodeRepulsion: () => 60000,
        idealEdgeLength: () => 150,
        edgeElasticity: () => 80,
        nodeOverlap: 40,
        gravity: 0.4,
        numIter: 2500,
      }).run();
      // A small graph fitted to the screen would be drawn huge; keep it at a readable scale.
      if (cy.zoom() > 1.1) {
        cy.zoom(1.1);
        cy.center();
      }
    }
    $('empty-hint').style.display = cy.elements().nonempty() ? 'none' : 'block';
  }

  function flash(elements) {
    if (!elements || elements.empty()) return;
    elements.addClass('fresh');
    setTimeout(() => elements.removeClass('fresh'), 2500);
  }

  // ---------------------------------------------------------------- status line

  let busy = 0;
  function status(text, isError) {
    const el = $('status');
    el.textContent = text || '';
    el.className = isError ? 'error' : '';
  }
  async function withStatus(label, fn) {
    busy += 1;
    status(label + '…');
    try {
      const out = await fn();
      status('');
      return out;
    } catch (e) {
      status(label + ' failed: ' + e.message, true);
      throw e;
    } finally {
      busy -= 1;
    }
  }

  async function refreshStats() {
    try {
      const d = await gql(Q_STATS);
      $('stats').textContent = d.stats.entities + ' entities · ' + d.stats.relations + ' ties';
    } catch (e) {
      $('stats').textContent = '';
    }
  }

  // ---------------------------------------------------------------- search

  function kindBadge(kind) {
    const b = document.createElement('span');
    b.className = 'kind';
    b.textContent = (KIND_STYLE[kind] || { label: kind }).label;
    b.style.background = (KIND_STYLE[kind] || {}).color || '#888';
    return b;
  }

  async function search() {
    const text = $('search-text').value.trim();
    const kind = $('search-kind').value || null;
    const d = await withStatus('Searching', () => gql(Q_SEARCH, { search: text || null, kind }));
    const ul = $('search-results');
    ul.textContent = '';
    if (!d.entities.nodes.length) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = 'No entity matches.';
      ul.appendChild(li);
    }
    for (const e of d.entities.nodes) {
      const li = document.createElement('li');
      li.dataset.id = e.id;
      li.title = 'Expand ' + e.id + (e.aliases.length ? ' (' + e.aliases.join(', ') + ')' : '');
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = e.name;
      li.append(kindBadge(e.kind), name);
      li.addEventListener('click', () => {
        $('connected-from').value = e.id;
        expand(e.id).catch(() => {});
      });
      ul.appendChild(li);
    }
    return d.entities.nodes;
  }

  // ---------------------------------------------------------------- neighbourhoods

  async function loadNeighborhood(id, depth) {
    const d = await gql(Q_NEIGHBORHOOD, { id, depth, includeDenied: state.includeDenied });
    let added = cy.collection();
    cy.batch(() => {
      for (const n of d.neighborhood.nodes) {
        if (upsertNode(n)) added = added.union(cy.getElementById(n.id));
      }
      for (const r of d.neighborhood.edges) added = added.union(upsertEdge(r));
      cy.getElementById(id).addClass('expanded');
    });
    return { added, partial: d.neighborhood.partial };
  }

  async function expand(id, depth) {
    depth = depth || Number($('depth').value) || 1;
    const { added, partial } = await withStatus('Expanding ' + id, () => loadNeighborhood(id, depth));
    state.expanded.set(id, Math.max(depth, state.expanded.get(id) || 0));
    layout(added);
    flash(added);
    if (partial) status('The neighbourhood of ' + id + ' was cut at the server\'s budget.');
    const n = cy.getElementById(id);
    if (n.nonempty()) showEntity(id).catch(() => {});
    return added;
  }

  // ---------------------------------------------------------------- connected through

  function hopRow(hop) {
    hop = hop || {};
    const li = document.createElement('li');
    const row = document.createElement('div');
    row.className = 'hop-row';
    const sel = (cls, options, value, title) => {
      const s = document.createElement('select');
      s.className = cls;
      s.title = title;
      for (const [v, label] of options) {
        const o = document.createElement('option');
        o.value = v;
        o.textContent = label;
        s.appendChild(o);
      }
      s.value = value || '';
      return s;
    };
    const num = (cls, value, title) => {
      const i = document.createElement('input');
      i.type = 'number';
      i.min = cls === 'hop-min' ? '0' : '1';
      i.max = '6';
      i.value = String(value);
      i.className = cls;
      i.title = title;
      return i;
    };
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'small';
    remove.textContent = '×';
    remove.title = 'Remove this hop';
    remove.addEventListener('click', () => li.remove());
    row.append(
      sel('hop-relation', [['', 'any tie']].concat(RELATION_KINDS.map((k) => [k, k])), hop.relation, 'Relation kind the hop crosses'),
      sel('hop-direction', DIRECTIONS.map((d) => [d, d]), hop.direction || 'ANY', 'OUT follows from→to, IN goes against it'),
      sel('hop-entity', [['', 'any entity']].concat(ENTITY_KINDS.map((k) => [k, k])), hop.entity, 'Kind the hop must reach'),
      num('hop-min', hop.min == null ? 1 : hop.min, 'Fewest relations crossed'),
      num('hop-max', hop.max == null ? 1 : hop.max, 'Most relations crossed'),
      remove,
    );
    li.appendChild(row);
    return li;
  }

  function setHops(hops) {
    const ol = $('hops');
    ol.textContent = '';
    for (const h of hops) ol.appendChild(hopRow(h));
  }

  function readPattern() {
    return Array.from($('hops').children).map((li) => {
      const hop = {
        direction: li.querySelector('.hop-direction').value,
        minRepeat: Number(li.querySelector('.hop-min').value),
        maxRepeat: Number(li.querySelector('.hop-max').value),
      };
      const rel = li.querySelector('.hop-relation').value;
      const ent = li.querySelector('.hop-entity').value;
      if (rel) hop.relationKinds = [rel];
      if (ent) hop.entityKinds = [ent];
      return hop;
    });
  }

  function mission() {
    $('connected-from').value = 'cbp';
    setHops([
      { relation: 'VENDOR_TO', direction: 'IN' },
      { direction: 'ANY', entity: 'NONPROFIT' },
    ]);
  }

  async function loadConnected(from, pattern) {
    const d = await gql(Q_CONNECTED, { from, pattern, includeDenied: state.includeDenied });
    const c = d.connected;
    let added = cy.collection();
    cy.batch(() => {
      cy.elements().removeClass('origin reached onpath');
      for (const edge of c.edges) {
        for (const path of edge.node.examples) {
          for (const hop of path.hops) {
            added = added.union(upsertEdge(hop.relation));
            cy.getElementById(hop.relation.id).addClass('onpath');
          }
        }
        if (upsertNode(edge.node.entity)) added = added.union(cy.getElementById(edge.node.entity.id));
        cy.getElementById(edge.node.entity.id).addClass('reached');
      }
      cy.getElementById(from).addClass('origin');
    });
    return { added, connected: c };
  }

  function showConnected(from, c) {
    $('connected-summary').textContent = c.totalCount + ' entit' + (c.totalCount === 1 ? 'y' : 'ies') +
      ' reached from ' + from + (c.partial ? ' (search stopped at its budget: there may be more)' : '');
    const ul = $('connected-results');
    ul.textContent = '';
    for (const edge of c.edges) {
      const e = edge.node.entity;
      const li = document.createElement('li');
      li.dataset.id = e.id;
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = e.name;
      const count = document.createElement('span');
      count.className = 'count';
      count.textContent = edge.node.pathCount + (edge.node.pathCount === 1 ? ' path' : ' paths');
      li.append(kindBadge(e.kind), name, count);
      li.title = 'Show ' + e.id + ' and its example paths';
      li.addEventListener('click', () => {
        const paths = edge.node.examples.flatMap((p) => p.hops.map((h) => h.relation.id));
        cy.elements().unselect();
        const sel = cy.getElementById(e.id).union(cy.collection(paths.map((id) => cy.getElementById(id))));
        sel.select();
        cy.animate({ fit: { eles: sel.union(cy.getElementById(from)), padding: 60 }, duration: 300 });
        showEntity(e.id);
      });
      ul.appendChild(li);
    }
  }

  async function runConnected() {
    const from = $('connected-from').value.trim();
    const pattern = readPattern();
    if (!from) throw new Error('Say which entity the pattern starts from.');
    if (!pattern.length) throw new Error('Add at least one hop.');
    state.connected = { from, pattern };
    const { added, connected } = await withStatus('Running the pattern', () => loadConnected(from, pattern));
    layout(added);
    flash(added);
    showConnected(from, connected);
    return connected;
  }

  // ---------------------------------------------------------------- the side panel

  function clearPanel() {
    state.panel = null;
    $('panel-body').textContent = '';
    $('panel-empty').style.display = 'block';
  }

  function panelStart() {
    $('panel-empty').style.display = 'none';
    const body = $('panel-body');
    body.textContent = '';
    return body;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function entityLink(e) {
    const a = el('a', null, e.name);
    a.title = e.id;
    a.addEventListener('click', () => {
      if (cy.getElementById(e.id).nonempty()) {
        cy.elements().unselect();
        cy.getElementById(e.id).select();
      }
      showEntity(e.id);
    });
    return a;
  }

  function definitions(pairs) {
    const dl = el('dl');
    for (const [k, v] of pairs) {
      if (v == null || v === '') continue;
      dl.append(el('dt', null, k));
      const dd = el('dd');
      if (v instanceof Node) dd.appendChild(v);
      else dd.textContent = String(v);
      dl.append(dd);
    }
    return dl;
  }

  async function showRelation(id) {
    state.panel = { type: 'relation', id };
    const d = await withStatus('Reading the claims', () => gql(Q_RELATION, { id }));
    if (!state.panel || state.panel.id !== id) return;
    const r = d.relation;
    const body = panelStart();
    body.dataset.relation = id;
    if (!r) {
      body.append(el('p', 'muted', 'The tie ' + id + ' no longer exists.'));
      return;
    }
    body.append(el('h3', null, edgeLabel(r)));
    const ends = el('div', 'ends');
    ends.append(entityLink(r.from), document.createTextNode(' → '), entityLink(r.to));
    body.append(ends);
    const standing = el('span', 'standing ' + r.standing, r.standing.toLowerCase());
    body.append(definitions([
      ['standing', standing],
      ['status', r.status && r.status.toLowerCase()],
      ['role', r.role],
      ['what', r.description],
      ['amount', r.amount && r.amount.value.toLocaleString() + ' ' + r.amount.currency],
      ['from', r.start],
      ['until', r.end],
      ['id', r.id],
    ]));
    body.append(el('h2', null, r.claims.length + (r.claims.length === 1 ? ' claim' : ' claims')));
    for (const c of r.claims) {
      const box = el('div', 'claim ' + c.stance);
      box.dataset.claim = c.id;
      const who = c.claimant ? c.claimant.name : 'the source, in its own voice';
      box.append(el('div', 'stance', (c.stance === 'ASSERTS' ? 'asserts' : 'denies') + ' · ' + who));
      box.append(el('blockquote', 'quote', '“' + c.quote + '”'));
      const src = el('div', 'source');
      src.append(document.createTextNode('Source: '));
      let title;
      if (c.source.url && /^https?:\/\//i.test(c.source.url)) {
        title = el('a', null, c.source.title);
        title.href = c.source.url;
        title.target = '_blank';
        title.rel = 'noopener noreferrer';
      } else {
        title = el('cite', null, c.source.title);
      }
      title.classList.add('source-title');
      src.append(title);
      const extra = [c.source.publisher, c.source.published].filter(Boolean).join(', ');
      if (extra) src.append(document.createTextNode(' — ' + extra));
      src.append(el('div', 'muted', 'source id: ' + c.source.id));
      box.append(src);
      body.append(box);
    }
  }

  async function showEntity(id) {
    state.panel = { type: 'entity', id };
    const d = await withStatus('Reading ' + id, () => gql(Q_ENTITY, { id }));
    if (!state.panel || state.panel.id !== id) return;
    const e = d.entity;
    const body = panelStart();
    body.dataset.entity = id;
    if (!e) {
      body.append(el('p', 'muted', 'The entity ' + id + ' no longer exists.'));
      return;
    }
    const h = el('h3', null, e.name + ' ');
    h.append(kindBadge(e.kind));
    body.append(h);
    body.append(definitions([
      ['id', e.id],
      ['also', e.aliases.join(', ')],
      ['what', e.description],
      ['category', e.category],
      ['country', e.country],
      ['identifiers', e.identifiers.map((i) => i.scheme + ':' + i.value).join(', ')],
      ['recorded', e.createdAt],
    ]));
    const buttons = el('div', 'buttons');
    const exp = el('button', 'primary', 'Expand neighbourhood');
    exp.type = 'button';
    exp.id = 'panel-expand';
    exp.addEventListener('click', () => expand(e.id).catch(() => {}));
    const from = el('button', null, 'Start a pattern here');
    from.type = 'button';
    from.addEventListener('click', () => {
      $('connected-from').value = e.id;
      $('connected-from').focus();
    });
    buttons.append(exp, from);
    body.append(buttons);
    const ties = cy.getElementById(e.id).connectedEdges();
    if (ties.nonempty()) {
      body.append(el('h2', null, 'Ties drawn'));
      const ul = el('ul', 'results');
      ties.forEach((t) => {
        const other = t.source().id() === e.id ? t.target() : t.source();
        const li = el('li');
        li.append(el('span', 'standing ' + t.data('standing'), t.data('standing').toLowerCase()),
          el('span', 'name', t.data('label') + (t.source().id() === e.id ? ' → ' : ' ← ') + other.data('name')));
        li.addEventListener('click', () => {
          cy.elements().unselect();
          t.select();
          showRelation(t.id()).catch(() => {});
        });
        ul.append(li);
      });
      body.append(ul);
    }
  }

  function refreshPanel() {
    if (!state.panel) return Promise.resolve();
    const p = state.panel.type === 'relation' ? showRelation(state.panel.id) : showEntity(state.panel.id);
    return p.catch(() => {});
  }

  cy.on('tap', 'edge', (ev) => {
    showRelation(ev.target.id()).catch(() => {});
  });
  cy.on('tap', 'node', (ev) => {
    showEntity(ev.target.id()).catch(() => {});
  });
  cy.on('dbltap', 'node', (ev) => {
    expand(ev.target.id()).catch(() => {});
  });
  cy.on('tap', (ev) => {
    if (ev.target === cy) clearPanel();
  });

  // ---------------------------------------------------------------- replaying the view

  // Draws the view again from the server: every expanded neighbourhood and the last
  // pattern. Used when "include denied" changes and after the live connection comes back.
  async function rebuild() {
    cy.elements().remove();
    let added = cy.collection();
    for (const [id, depth] of Array.from(state.expanded)) {
      try {
        added = added.union((await loadNeighborhood(id, depth)).added);
      } catch (e) {
        state.expanded.delete(id); // deleted meanwhile: nothing left to expand
      }
    }
    if (state.connected) {
      try {
        const { added: more, connected } = await loadConnected(state.connected.from, state.connected.pattern);
        added = added.union(more);
        showConnected(state.connected.from, connected);
      } catch (e) {
        $('connected-summary').textContent = 'The pattern no longer runs: ' + e.message;
        $('connected-results').textContent = '';
        state.connected = null;
      }
    }
    layout(added);
    await refreshPanel();
  }

  // ---------------------------------------------------------------- live changes

  // The graphql-transport-ws protocol, client side: connection_init, wait for
  // connection_ack, subscribe, then `next` messages until `complete`; answer `ping` with
  // `pong`. On a dropped connection, reconnect with a growing delay and redraw the view,
  // since changes made meanwhile were missed.
  const SUBSCRIPTION = 'subscription Changes { changes { kind recordType id entities } }';
  let socket = null;
  let retryDelay = 500;
  let everConnected = false;

  function setLive(on, text) {
    state.live = on;
    const b = $('live');
    b.className = on ? 'on' : 'off';
    b.textContent = text || (on ? 'live' : 'offline');
  }

  function connectLive() {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql/ws';
    let ws;
    try {
      ws = new WebSocket(url, 'graphql-transport-ws');
    } catch (e) {
      setLive(false);
      return;
    }
    socket = ws;
    setLive(false, 'connecting…');
    ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    ws.onmessage = (msg) => {
      let m;
      try {
        m = JSON.parse(msg.data);
      } catch (e) {
        return;
      }
      switch (m.type) {
        case 'connection_ack':
          ws.send(JSON.stringify({ id: 'changes', type: 'subscribe', payload: { query: SUBSCRIPTION } }));
          setLive(true);
          retryDelay = 500;
          if (everConnected) enqueue(() => rebuild());
          everConnected = true;
          break;
        case 'next':
          if (m.payload && m.payload.data && m.payload.data.changes) {
            const change = m.payload.data.changes;
            enqueue(() => applyChange(change));
          }
          break;
        case 'ping':
          ws.send(JSON.stringify({ type: 'pong' }));
          break;
        case 'error':
          status('The live subscription failed: ' + JSON.stringify(m.payload), true);
          break;
        case 'complete':
          setLive(false, 'ended');
          break;
        default:
          break;
      }
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      setLive(false);
      setTimeout(connectLive, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 15000);
    };
  }

  // Changes are applied one at a time, in the order they arrive.
  let queue = Promise.resolve();
  function enqueue(task) {
    queue = queue.then(task).catch((e) => status('Live update failed: ' + e.message, true));
    return queue;
  }

  function logChange(c) {
    const li = el('li');
    const time = new Date().toLocaleTimeString();
    li.append(document.createTextNode(time + ' ' + c.kind.toLowerCase() + ' ' + c.recordType.toLowerCase() + ' '),
      el('code', null, c.id));
    const ul = $('activity');
    ul.prepend(li);
    while (ul.children.length > 50) ul.lastChild.remove();
  }

  async function applyChange(c) {
    state.changes.push(c);
    logChange(c);
    const inView = c.entities.some((id) => cy.getElementById(id).nonempty());
    if (c.recordType === 'ENTITY') {
      const n = cy.getElementById(c.id);
      if (c.kind === 'DELETED') {
        n.remove();
        state.expanded.delete(c.id);
      } else if (n.nonempty()) {
        const d = await gql(Q_ENTITY, { id: c.id });
        if (d.entity) upsertNode(d.entity);
        flash(n);
      }
    } else if (c.recordType === 'RELATION' || c.recordType === 'CLAIM') {
      // A claim's id is `<relation id>.c<n>`; its change may move the relation's standing.
      const relId = c.recordType === 'RELATION' ? c.id : c.id.replace(/\.c\d+$/, '');
      const drawn = cy.getElementById(relId);
      if (c.recordType === 'RELATION' && c.kind === 'DELETED') {
        drawn.remove();
      } else if (inView || drawn.nonempty()) {
        const d = await gql(Q_RELATION, { id: relId });
        const r = d.relation;
        if (!r || (r.standing === 'DENIED' && !state.includeDenied)) {
          drawn.remove();
        } else {
          const added = upsertEdge(r);
          if (added.nodes().nonempty()) layout(added, { placeOnly: true });
          flash(cy.getElementById(r.id).union(added));
        }
      }
    }
    $('empty-hint').style.display = cy.elements().nonempty() ? 'none' : 'block';
    const p = state.panel;
    const relId = c.recordType === 'CLAIM' ? c.id.replace(/\.c\d+$/, '') : c.id;
    if (p && (p.id === relId || (p.type === 'entity' && c.entities.includes(p.id)) ||
        (p.type === 'relation' && c.recordType === 'SOURCE'))) {
      await refreshPanel();
    }
    refreshStats();
  }

  // ---------------------------------------------------------------- wiring

  function fillKinds() {
    const sk = $('search-kind');
    for (const k of ENTITY_KINDS) {
      const o = document.createElement('option');
      o.value = k;
      o.textContent = KIND_STYLE[k].label;
      sk.appendChild(o);
    }
    const legend = $('legend-kinds');
    for (const k of ENTITY_KINDS) {
      const row = el('div', 'legend-row');
      const sw = el('span', 'swatch ' + KIND_STYLE[k].shape);
      sw.style.background = KIND_STYLE[k].color;
      row.append(sw, document.createTextNode(KIND_STYLE[k].label));
      legend.append(row);
    }
  }

  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    search().catch(() => {});
  });
  $('connected-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    runConnected().catch((e) => status(e.message, true));
  });
  $('add-hop').addEventListener('click', () => $('hops').appendChild(hopRow()));
  $('mission').addEventListener('click', mission);
  $('include-denied').addEventListener('change', (ev) => {
    state.includeDenied = ev.target.checked;
    enqueue(() => withStatus('Redrawing', rebuild));
  });
  $('fit').addEventListener('click', () => {
    cy.fit(undefined, 50);
    if (cy.zoom() > 1.1) {
      cy.zoom(1.1);
      cy.center();
    }
  });
  $('relayout').addEventListener('click', () => layout(null));
  $('clear').addEventListener('click', () => {
    cy.elements().remove();
    state.expanded.clear();
    state.connected = null;
    $('connected-results').textContent = '';
    $('connected-summary').textContent = '';
    clearPanel();
    $('empty-hint').style.display = 'block';
  });

  fillKinds();
  setHops([{ relation: 'VENDOR_TO', direction: 'IN' }, { direction: 'ANY', entity: 'NONPROFIT' }]);
  refreshStats();
  connectLive();

  // For tests and the curious: the graph, the state and the actions, from the console.
  window.tiegraphExplorer = {
    cy,
    state,
    gql,
    search,
    expand,
    runConnected,
    rebuild,
    mission,
    isBusy: () => busy > 0,
    idle: () => queue,
  };
})();
