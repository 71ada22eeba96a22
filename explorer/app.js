// tiegraph explorer: opens on the mission question drawn and explained; search entities (with
// name suggestions in every entity field), expand neighbourhoods, run "connected through"
// patterns with honest counts and paging, read each result's paths as cited text and the
// claims behind every tie, and follow the `changes` subscription live.
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
  // The README's mission question, which the page opens on.
  const MISSION = {
    from: 'cbp',
    hops: [{ relation: 'VENDOR_TO', direction: 'IN' }, { direction: 'ANY', entity: 'NONPROFIT' }],
    question: 'Which nonprofits are connected to U.S. Customs and Border Protection through its vendors, and who says so?',
  };
  // Page sizes: entities listed per search, entities reached per "connected" page (each drawn
  // with up to EXAMPLES example paths), paths per page of a result's cited paths.
  const PAGE = { search: 25, connected: 100, paths: 3, suggestions: 8 };
  const EXAMPLES = 4;

  const $ = (id) => document.getElementById(id);
  const fmt = (n) => Number(n).toLocaleString('en-US');
  const plural = (n, one, many) => fmt(n) + ' ' + (n === 1 ? one : many);

  // ---------------------------------------------------------------- GraphQL over HTTP

  // Runs a query; a refusal becomes an Error carrying the server's message, code and field.
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
      const err = new Error(body.errors.map((e) => e.message).join('; '));
      const ext = body.errors[0].extensions || {};
      err.code = ext.code;
      err.field = ext.field;
      throw err;
    }
    if (!res.ok) throw new Error('HTTP ' + res.status);
    return body.data;
  }

  const ENTITY_FIELDS = 'id kind name';
  const RELATION_FIELDS = 'id kind status standing role from { id kind name } to { id kind name }';
  const CLAIM_FIELDS = 'id stance quote recordedAt claimant { id name kind } ' +
    'source { id title url publisher published }';

  const Q_SUGGEST = `query Suggest($text: String!) {
    entities(filter: {text: $text}, first: ${PAGE.suggestions}) { edges { node { id name kind } } }
  }`;
  const Q_RESOLVE = `query Resolve($text: String!) {
    entities(filter: {text: $text}, first: 50) { edges { node { id name kind aliases } } }
  }`;
  // Built once the page knows whether the server counts search results (`totalCount`).
  let Q_SEARCH = null;
  const Q_NEIGHBORHOOD = `query Neighborhood($id: ID!, $depth: Int!, $includeDenied: Boolean!) {
    neighborhood(id: $id, depth: $depth, includeDenied: $includeDenied) {
      partial nodes { ${ENTITY_FIELDS} } edges { ${RELATION_FIELDS} }
    }
  }`;
  const Q_CONNECTED = `query Connected($from: ID!, $pattern: [HopInput!]!, $includeDenied: Boolean!, $first: Int!, $after: String) {
    connected(from: $from, pattern: $pattern, includeDenied: $includeDenied, examples: ${EXAMPLES}, first: $first, after: $after) {
      partial totalCount pageInfo { hasNextPage endCursor }
      edges { node { entity { ${ENTITY_FIELDS} } pathCount pathCountExact
        examples { hops { direction from { id name } to { id name } relation { ${RELATION_FIELDS} } } } } }
    }
  }`;
  const Q_PATHS = `query Paths($from: ID!, $to: ID!, $pattern: [HopInput!]!, $includeDenied: Boolean!, $first: Int!, $after: String) {
    paths(from: $from, to: $to, pattern: $pattern, includeDenied: $includeDenied, first: $first, after: $after) {
      totalCount partial pageInfo { hasNextPage endCursor }
      edges { node { length hops { direction from { ${ENTITY_FIELDS} } to { ${ENTITY_FIELDS} }
        relation { id kind status standing role claims { ${CLAIM_FIELDS} } } } } }
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
    // The last "connected through" run: { from, fromName, pattern, edges, totalCount,
    // partial, hasNextPage, endCursor } or null.
    connected: null,
    // What the side panel shows: { type: 'relation' | 'entity' | 'paths', id } or null.
    panel: null,
    includeDenied: false,
    live: false,
    // The opening view (the mission question) has been drawn and explained.
    ready: false,
    // Every change event received, newest last (tests read this).
    changes: [],
    // The server's `entities` connection has `totalCount`.
    entityTotals: false,
  };

  // ---------------------------------------------------------------- the graph

  const cy = cytoscape({
    container: $('cy'),
    wheelSensitivity: 0.3,
    minZoom: 0.1,
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
          'text-max-width': 110,
          'text-background-color': '#fbfcfd',
          'text-background-opacity': 0.85,
          'text-background-padding': 2,
          'border-width': 1,
          'border-color': '#0004',
          'z-index': 10,
          'min-zoomed-font-size': 6,
        },
      },
      { selector: 'node.expanded', style: { 'border-width': 3, 'border-color': '#263238' } },
      { selector: 'node.origin', style: { width: 44, height: 44, 'border-width': 4, 'border-color': '#1565c0' } },
      { selector: 'node.reached', style: { 'border-width': 4, 'border-color': '#43a047', 'font-weight': 'bold' } },
      {
        selector: 'edge',
        style: {
          width: 2.5,
          // Several ties between the same two entities (either way) are drawn as a fan of
          // curves, CONTROL_STEP pixels apart where they are widest; each label sits on its own.
          'curve-style': 'bezier',
          'control-point-step-size': 64,
          'target-arrow-shape': 'triangle',
          'arrow-scale': 1.1,
          'line-color': '#37474f',
          'target-arrow-color': '#37474f',
          label: 'data(label)',
          'font-size': 11,
          color: '#37474f',
          'text-rotation': 'autorotate',
          'text-background-color': '#fbfcfd',
          'text-background-opacity': 0.9,
          'text-background-padding': 1,
          'text-events': 'yes',
          // Labels too small to read (a big drawing zoomed out) are left out until zoomed in.
          'min-zoomed-font-size': 7,
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
      // In the layered drawing ties run left to right: level labels, one above the other.
      { selector: 'edge.flat', style: { 'text-rotation': 'none' } },
      { selector: '.fresh', style: { 'overlay-color': '#ffeb3b', 'overlay-opacity': 0.45, 'overlay-padding': 6 } },
      { selector: ':selected', style: { 'overlay-color': '#1565c0', 'overlay-opacity': 0.2, 'overlay-padding': 5 } },
    ],
  });

  // The caption above the graph grows and shrinks with what it says, and the layout changes
  // with the window: tell Cytoscape whenever its box changes, or clicks land off target.
  if (window.ResizeObserver) new ResizeObserver(() => cy.resize()).observe($('cy'));

  function nodeData(e) {
    return { id: e.id, kind: e.kind, name: e.name };
  }

  function kindWords(kind) {
    return kind.toLowerCase().replace(/_/g, ' ');
  }

  // A tie's label: its kind, and its status when it is not simply active.
  function edgeLabel(r) {
    const kind = kindWords(r.kind);
    return r.status && r.status !== 'ACTIVE' ? kind + ' (' + r.status.toLowerCase() + ')' : kind;
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

  // Keeps a small graph at a readable scale after fitting it.
  function readableZoom() {
    if (cy.zoom() > 1.15) {
      cy.zoom(1.15);
      cy.center();
    }
  }

  // Lays the graph out. With `opts.placeOnly` (live updates) the drawing stays put and new
  // nodes are set down in a free spot around a neighbour already drawn. A view holding only a
  // pattern's answer is drawn in layers from its origin, left to right (the origin, the
  // entities its paths go through, the entities reached); anything else by a force layout.
  function layout(added, opts) {
    opts = opts || {};
    const fresh = added ? added.nodes() : cy.collection();
    const settled = cy.nodes().filter((n) => !fresh.contains(n));
    if (added && fresh.empty()) {
      // Nothing new to place: leave the drawing as it is.
    } else if (added && (opts.placeOnly || fresh.length * 2 < settled.length) && settled.nonempty()) {
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
    } else if (state.connected && state.expanded.size === 0 && cy.getElementById(state.connected.from).nonempty()) {
      layeredLayout(cy.getElementById(state.connected.from));
    } else {
      cy.edges().removeClass('flat');
      cy.layout({
        name: 'cose',
        animate: false,
        randomize: true,
        fit: true,
        padding: 50,
        nodeDimensionsIncludeLabels: true,
        nodeRepulsion: () => 90000,
        idealEdgeLength: (e) => 140 + 50 * Math.min(3, e.parallelEdges().length - 1),
        edgeElasticity: () => 80,
        nodeOverlap: 60,
        gravity: 0.4,
        numIter: 2500,
      }).run();
      readableZoom();
    }
    $('empty-hint').style.display = cy.elements().nonempty() ? 'none' : 'block';
  }

  // Columns by distance from the origin (left to right), each column's entities spread
  // evenly and sorted by name; a column too long for the window is folded into several.
  function layeredLayout(origin) {
    const depth = new Map([[origin.id(), 0]]);
    const queue = [origin];
    while (queue.length) {
      const n = queue.shift();
      n.neighborhood('node').forEach((m) => {
        if (!depth.has(m.id())) {
          depth.set(m.id(), depth.get(n.id()) + 1);
          queue.push(m);
        }
      });
    }
    const columns = [];
    cy.nodes().forEach((n) => {
      const d = depth.has(n.id()) ? depth.get(n.id()) : columns.length;
      (columns[d] = columns[d] || []).push(n);
    });
    const rowGap = 150;
    const colGap = 330;
    const maxRows = Math.max(4, Math.floor(Math.max(cy.height(), 420) / 60));
    let x = 0;
    for (const col of columns.filter(Boolean)) {
      col.sort((a, b) => a.data('name').localeCompare(b.data('name')));
      const folds = Math.ceil(col.length / maxRows);
      const rows = Math.ceil(col.length / folds);
      col.forEach((n, i) => {
        const fold = Math.floor(i / rows);
        const row = i % rows;
        n.position({ x: x + fold * 170, y: (row - (rows - 1) / 2) * rowGap });
      });
      x += colGap + (folds - 1) * 170;
    }
    cy.edges().addClass('flat');
    cy.fit(undefined, 50);
    readableZoom();
  }

  function flash(elements) {
    if (!elements || elements.empty()) return;
    elements.addClass('fresh');
    setTimeout(() => elements.removeClass('fresh'), 2500);
  }

  // ---------------------------------------------------------------- progress and errors

  // The status line on the graph says what is under way; errors are shown inline, next to
  // what caused them (a field, a form, the panel, the graph).
  let busy = 0;
  function status(text) {
    $('status').textContent = text || '';
    $('status').style.display = text ? 'block' : 'none';
  }
  async function withStatus(label, fn) {
    busy += 1;
    status(label + '…');
    try {
      return await fn();
    } finally {
      busy -= 1;
      if (busy === 0) status('');
    }
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  // Shows (or, with no message, clears) the error box with the given id.
  function showError(id, message) {
    const box = $(id);
    box.textContent = message || '';
    box.hidden = !message;
  }

  // An error about what a field holds: shown under the field, which is marked invalid.
  class FieldError extends Error {}
  function fieldError(input, message) {
    showError(input.id + '-error', message);
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  async function refreshStats() {
    try {
      const d = await gql(Q_STATS);
      $('stats').textContent = fmt(d.stats.entities) + ' entities · ' + fmt(d.stats.relations) + ' ties';
    } catch (e) {
      $('stats').textContent = '';
    }
  }

  function kindBadge(kind) {
    const b = document.createElement('span');
    b.className = 'kind';
    b.textContent = (KIND_STYLE[kind] || { label: kind }).label;
    b.style.background = (KIND_STYLE[kind] || {}).color || '#888';
    return b;
  }

  // ---------------------------------------------------------------- entity fields

  // Name suggestions for a field that names an entity: as the user types, the server's
  // `entities(filter: {text})` is asked for at most PAGE.suggestions matches, listed by name; picking
  // one (click, or arrows and Enter) puts its name in the field and remembers its id.
  function attachSuggestions(input) {
    const list = el('ul', 'suggestions');
    list.id = input.id + '-suggestions';
    list.setAttribute('role', 'listbox');
    list.hidden = true;
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-controls', list.id);
    input.setAttribute('aria-expanded', 'false');
    input.insertAdjacentElement('afterend', list);
    const chip = el('span', 'id-chip');
    chip.id = input.id + '-id';
    list.insertAdjacentElement('afterend', chip);
    let asked = 0;
    let timer = null;
    let items = [];
    let active = -1;

    function hide() {
      asked += 1; // an answer still on its way is dropped
      clearTimeout(timer);
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      active = -1;
    }
    function showChip() {
      chip.textContent = input.dataset.id ? 'id: ' + input.dataset.id : '';
    }
    function highlight() {
      Array.from(list.children).forEach((li, i) => li.classList.toggle('active', i === active));
    }
    function render(text, message) {
      list.textContent = '';
      list.dataset.for = text; // what the list answers (tests wait on it)
      if (message) list.append(el('li', 'muted', message));
      else if (!items.length) list.append(el('li', 'muted', 'No entity matches “' + text + '”.'));
      items.forEach((item, i) => {
        const li = el('li');
        li.setAttribute('role', 'option');
        li.dataset.id = item.id;
        li.append(kindBadge(item.kind), el('span', 'name', item.name), el('span', 'sid', item.id));
        li.addEventListener('mousedown', (ev) => {
          ev.preventDefault(); // keep the focus in the field
          pick(item);
        });
        li.addEventListener('mouseenter', () => { active = i; highlight(); });
        list.append(li);
      });
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
    }
    async function ask() {
      const text = input.value.trim();
      const mine = ++asked;
      if (!text) {
        hide();
        return;
      }
      try {
        const d = await gql(Q_SUGGEST, { text });
        if (mine !== asked) return; // an older answer than the field's text
        items = d.entities.edges.map((e) => e.node);
        active = -1;
        render(text);
      } catch (e) {
        if (mine !== asked) return;
        items = [];
        render(text, 'Suggestions failed: ' + e.message);
      }
    }
    function pick(item) {
      setEntity(input, item);
      hide();
      input.dispatchEvent(new CustomEvent('entity-picked', { detail: item }));
    }
    input.addEventListener('input', () => {
      delete input.dataset.id;
      delete input.dataset.name;
      showChip();
      fieldError(input, '');
      clearTimeout(timer);
      timer = setTimeout(ask, 120);
    });
    input.addEventListener('keydown', (ev) => {
      if (list.hidden || !items.length) return;
      if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
        ev.preventDefault();
        const step = ev.key === 'ArrowDown' ? 1 : -1;
        active = (active + step + items.length) % items.length;
        highlight();
      } else if (ev.key === 'Enter' && active >= 0) {
        ev.preventDefault();
        pick(items[active]);
      } else if (ev.key === 'Escape') {
        hide();
      }
    });
    input.addEventListener('blur', () => setTimeout(hide, 150));
    input.addEventListener('entity-set', showChip);
    return { hide, ask };
  }

  // Puts an entity in a field: its name shown, its id kept.
  function setEntity(input, e) {
    input.value = e.name;
    input.dataset.id = e.id;
    input.dataset.name = e.name;
    fieldError(input, '');
    input.dispatchEvent(new Event('entity-set'));
  }

  // The entity a field names: the one picked from the suggestions, else the one entity whose
  // id, name or alias is exactly what was typed. Anything else is a FieldError saying why.
  async function resolveEntity(input) {
    const text = input.value.trim();
    if (!text) throw new FieldError('Say which entity: type a name and pick it from the suggestions.');
    if (input.dataset.id && input.dataset.name === text) return { id: input.dataset.id, name: text };
    let nodes;
    try {
      nodes = (await gql(Q_RESOLVE, { text })).entities.edges.map((e) => e.node);
    } catch (e) {
      throw new FieldError('Could not look “' + text + '” up: ' + e.message);
    }
    const low = text.toLowerCase();
    let exact = nodes.filter((n) => n.id === text);
    if (!exact.length) {
      exact = nodes.filter((n) => n.name.toLowerCase() === low ||
        (n.aliases || []).some((a) => a.toLowerCase() === low));
    }
    if (exact.length === 1) {
      setEntity(input, exact[0]);
      return { id: exact[0].id, name: exact[0].name };
    }
    if (exact.length > 1) {
      throw new FieldError(exact.length + ' entities are called “' + text + '” (' +
        exact.map((n) => n.id).join(', ') + '): pick one from the suggestions.');
    }
    const near = nodes.slice(0, 3).map((n) => n.name);
    throw new FieldError('No entity is called “' + text + '”' +
      (near.length ? '. Did you mean ' + near.join(', ') + '? Pick one from the suggestions.' : '.'));
  }

  // ---------------------------------------------------------------- search

  // Detects whether `entities` counts its matches (newer servers do); without a count the
  // page says "more match" instead of "of N".
  async function detectFeatures() {
    try {
      const d = await gql('{ __type(name: "EntityConnection") { fields { name } } }');
      state.entityTotals = !!(d.__type && d.__type.fields.some((f) => f.name === 'totalCount'));
    } catch (e) {
      state.entityTotals = false; // introspection may be off: count without it
    }
    Q_SEARCH = `query Search($filter: EntityFilter, $first: Int!, $after: String) {
      entities(filter: $filter, first: $first, after: $after) {
        ${state.entityTotals ? 'totalCount' : ''} pageInfo { hasNextPage endCursor }
        edges { node { ${ENTITY_FIELDS} aliases } }
      }
    }`;
  }

  const searchState = { text: null, kind: null, shown: [], total: null, hasNextPage: false, endCursor: null };

  async function search(more) {
    const text = more ? searchState.text : $('search-text').value.trim();
    const kind = more ? searchState.kind : ($('search-kind').value || null);
    showError('search-error', '');
    if (!more) {
      $('search-results').textContent = '';
      $('search-count').textContent = '';
      $('search-more').hidden = true;
    }
    let d;
    try {
      d = await withStatus('Searching', () => gql(Q_SEARCH, {
        filter: { text: text || null, kinds: kind ? [kind] : null },
        first: PAGE.search, after: more ? searchState.endCursor : null,
      }));
    } catch (e) {
      Object.assign(searchState, { shown: [], hasNextPage: false });
      $('search-results').textContent = '';
      $('search-count').textContent = '';
      $('search-more').hidden = true;
      showError('search-error', 'The search failed: ' + e.message);
      return [];
    }
    const c = d.entities;
    const page = c.edges.map((e) => e.node);
    Object.assign(searchState, {
      text, kind, shown: (more ? searchState.shown : []).concat(page),
      total: c.totalCount == null ? null : c.totalCount,
      hasNextPage: c.pageInfo.hasNextPage, endCursor: c.pageInfo.endCursor,
    });
    const ul = $('search-results');
    for (const e of page) {
      const li = document.createElement('li');
      li.dataset.id = e.id;
      li.title = 'Expand ' + e.id + (e.aliases.length ? ' (' + e.aliases.join(', ') + ')' : '');
      li.append(kindBadge(e.kind), el('span', 'name', e.name));
      li.addEventListener('click', () => {
        setEntity($('connected-from'), e);
        expand(e.id, { errorBox: 'search-error' }).catch(() => {});
      });
      ul.appendChild(li);
    }
    const shown = searchState.shown.length;
    let count;
    if (!shown) count = 'No entity matches' + (text ? ' “' + text + '”' : '') + '.';
    else if (searchState.total != null) count = 'Showing ' + fmt(shown) + ' of ' + plural(searchState.total, 'match', 'matches') + '.';
    else count = 'Showing ' + plural(shown, 'match', 'matches') + (searchState.hasNextPage ? '; more match.' : '.');
    $('search-count').textContent = count;
    $('search-more').hidden = !searchState.hasNextPage;
    $('search-more').textContent = 'Show ' + PAGE.search + ' more';
    return searchState.shown;
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
      cy.elements().filter((x) => d.neighborhood.nodes.some((n) => n.id === x.id()) ||
        d.neighborhood.edges.some((r) => r.id === x.id())).addClass('hood');
    });
    return { added, hood: d.neighborhood };
  }

  // Draws an entity's neighbourhood. An error is shown in `opts.errorBox` (the list the user
  // clicked in), or on the graph.
  async function expand(id, opts) {
    opts = opts || {};
    const depth = opts.depth || Number($('depth').value) || 1;
    const errorBox = opts.errorBox || 'graph-error';
    showError(errorBox, '');
    let answer;
    try {
      answer = await withStatus('Expanding ' + id, () => loadNeighborhood(id, depth));
    } catch (e) {
      showError(errorBox, 'Could not expand ' + id + ': ' + e.message);
      throw e;
    }
    const { added, hood } = answer;
    state.expanded.set(id, Math.max(depth, state.expanded.get(id) || 0));
    layout(added);
    flash(added);
    const centre = hood.nodes.find((n) => n.id === id);
    caption('Neighbourhood of ' + (centre ? centre.name : id),
      'Drawn: ' + plural(hood.nodes.length, 'entity', 'entities') + ' within ' + plural(depth, 'tie', 'ties') +
      ' of ' + (centre ? centre.name : id) + ' and the ' + plural(hood.edges.length, 'tie', 'ties') + ' among them' +
      (state.includeDenied ? ', denied ties included' : '') + ' (' + plural(added.nodes().length, 'entity', 'entities') +
      ' new to the view). ' + (hood.partial ? 'The search stopped at the server\'s budget: there is more beyond these. ' : '') +
      'Click a tie to read its claims.');
    if (cy.getElementById(id).nonempty()) showEntity(id).catch(() => {});
    return added;
  }

  // ---------------------------------------------------------------- the caption

  // Says in words what the graph shows: a title and a paragraph.
  function caption(title, text) {
    const box = $('caption');
    box.textContent = '';
    if (title) box.append(el('strong', 'caption-title', title));
    if (text) box.append(el('p', null, text));
    box.hidden = !title && !text;
  }

  function listNames(names, max) {
    if (names.length <= max) {
      return names.length > 1 ? names.slice(0, -1).join(', ') + ' and ' + names[names.length - 1] : names.join('');
    }
    return names.slice(0, max).join(', ') + ' and ' + fmt(names.length - max) + ' more';
  }

  function hopWords(h) {
    const kinds = h.relationKinds ? h.relationKinds.join(' or ') : 'any';
    const way = { OUT: 'followed from→to', IN: 'followed against its direction', ANY: 'either way' }[h.direction];
    const times = h.minRepeat === 1 && h.maxRepeat === 1 ? 'one ' + kinds + ' tie' : h.minRepeat + ' to ' + h.maxRepeat + ' ' + kinds + ' ties';
    return times + ' ' + way + ' to ' + (h.entityKinds ? 'a ' + h.entityKinds.map(kindWords).join(' or ') : 'any entity');
  }

  function isMission(c) {
    const want = JSON.stringify(patternOf(MISSION.hops));
    return c.from === MISSION.from && JSON.stringify(c.pattern) === want;
  }

  // The caption of a "connected through" answer, computed from what the server sent.
  function explainConnected() {
    const c = state.connected;
    const reached = c.edges.map((e) => e.node);
    const through = new Map();
    for (const r of reached) {
      for (const p of r.examples) {
        for (const h of p.hops.slice(0, -1)) through.set(h.to.id, h.to.name);
      }
    }
    reached.forEach((r) => through.delete(r.entity.id));
    through.delete(c.from);
    const title = isMission(c) ? 'The mission question: ' + MISSION.question
      : 'Connected through: from ' + c.fromName + ', ' + c.pattern.map(hopWords).join(', then ');
    let text;
    if (!c.totalCount) {
      text = 'Nothing is reached from ' + c.fromName + ' by this pattern' +
        (c.partial ? ' within the server\'s budget (the search stopped early: there may be answers).' : '.');
    } else {
      const names = reached.map((r) => r.entity.name + ' (' + plural(r.pathCount, 'path', 'paths') + ')');
      text = 'Drawn: ' + c.fromName + ' (blue ring), ' +
        (reached.length < c.totalCount ? fmt(reached.length) + ' of the ' + fmt(c.totalCount) : 'the ' + fmt(c.totalCount)) +
        ' ' + (c.totalCount === 1 ? 'entity' : 'entities') + ' reached (green ring): ' + listNames(names, 8) + '; ' +
        (through.size ? 'the paths go through ' + listNames(Array.from(through.values()).sort(), 8) + '. ' : 'each is one hop away. ') +
        'Thick ties lie on up to ' + EXAMPLES + ' example paths per entity; each tie is drawn by its standing (see the legend). ' +
        (c.partial ? 'The search stopped at the server\'s budget: there may be more. ' : '') +
        'Pick an entity in the list to read its paths hop by hop, with who says so.';
    }
    caption(title, text);
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
      s.setAttribute('aria-label', title);
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
      i.setAttribute('aria-label', title);
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

  function patternOf(hops) {
    return hops.map((h) => {
      const hop = { direction: h.direction || 'ANY', minRepeat: h.min == null ? 1 : h.min, maxRepeat: h.max == null ? 1 : h.max };
      if (h.relation) hop.relationKinds = [h.relation];
      if (h.entity) hop.entityKinds = [h.entity];
      return hop;
    });
  }

  function readPattern() {
    return patternOf(Array.from($('hops').children).map((li) => ({
      direction: li.querySelector('.hop-direction').value,
      min: Number(li.querySelector('.hop-min').value),
      max: Number(li.querySelector('.hop-max').value),
      relation: li.querySelector('.hop-relation').value || null,
      entity: li.querySelector('.hop-entity').value || null,
    })));
  }

  // Fills the form with the mission question: From CBP (by name once the server has said it).
  async function mission() {
    const input = $('connected-from');
    setEntity(input, { id: MISSION.from, name: MISSION.from });
    setHops(MISSION.hops);
    try {
      const d = await gql(Q_ENTITY, { id: MISSION.from });
      if (d.entity && input.dataset.id === MISSION.from) setEntity(input, d.entity);
    } catch (e) {
      // The id alone still runs the pattern.
    }
  }

  // Draws one page of a pattern's answer: each entity reached with its example paths.
  function drawConnected(page) {
    let added = cy.collection();
    cy.batch(() => {
      for (const edge of page) {
        for (const path of edge.node.examples) {
          for (const hop of path.hops) {
            added = added.union(upsertEdge(hop.relation));
            cy.getElementById(hop.relation.id).addClass('onpath pattern');
            cy.getElementById(hop.from.id).union(cy.getElementById(hop.to.id)).addClass('pattern');
          }
        }
        if (upsertNode(edge.node.entity)) added = added.union(cy.getElementById(edge.node.entity.id));
        cy.getElementById(edge.node.entity.id).addClass('reached pattern');
      }
      cy.getElementById(state.connected.from).addClass('origin pattern');
    });
    return added;
  }

  async function loadConnectedPage(after) {
    const c = state.connected;
    const d = await gql(Q_CONNECTED, {
      from: c.from, pattern: c.pattern, includeDenied: state.includeDenied, first: PAGE.connected, after,
    });
    const answer = d.connected;
    Object.assign(c, {
      totalCount: answer.totalCount, partial: answer.partial,
      hasNextPage: answer.pageInfo.hasNextPage, endCursor: answer.pageInfo.endCursor,
    });
    c.edges = c.edges.concat(answer.edges);
    return drawConnected(answer.edges);
  }

  // Forgets the last pattern's answer: its list, its caption, and what it alone had drawn.
  function clearConnected() {
    state.connected = null;
    $('connected-results').textContent = '';
    $('connected-summary').textContent = '';
    $('connected-more').hidden = true;
    cy.batch(() => {
      cy.elements('.pattern').filter((x) => !x.hasClass('hood')).remove();
      cy.elements().removeClass('origin reached onpath pattern');
    });
    caption('', '');
    if (state.panel && state.panel.type === 'paths') clearPanel();
    $('empty-hint').style.display = cy.elements().nonempty() ? 'none' : 'block';
  }

  async function runConnected() {
    const input = $('connected-from');
    fromSuggestions.hide();
    fieldError(input, '');
    showError('connected-error', '');
    let from;
    try {
      from = await resolveEntity(input);
    } catch (e) {
      clearConnected();
      fieldError(input, e.message);
      return null;
    }
    const pattern = readPattern();
    if (!pattern.length) {
      clearConnected();
      showError('connected-error', 'Add at least one hop.');
      return null;
    }
    clearConnected();
    state.connected = { from: from.id, fromName: from.name, pattern, edges: [], totalCount: 0 };
    let added;
    try {
      added = await withStatus('Running the pattern', () => loadConnectedPage(null));
    } catch (e) {
      clearConnected();
      if (e.field === 'from') fieldError(input, e.message);
      else showError('connected-error', 'The pattern did not run: ' + e.message);
      return null;
    }
    layout(null);
    flash(added);
    showConnected();
    explainConnected();
    return state.connected;
  }

  // The next page of the last pattern's answer, added to the list and the drawing.
  async function moreConnected() {
    const c = state.connected;
    if (!c || !c.hasNextPage) return null;
    showError('connected-error', '');
    let added;
    try {
      added = await withStatus('Reading more of the answer', () => loadConnectedPage(c.endCursor));
    } catch (e) {
      showError('connected-error', 'The next page did not come: ' + e.message);
      return null;
    }
    layout(null);
    flash(added);
    showConnected();
    explainConnected();
    return c;
  }

  function showConnected() {
    const c = state.connected;
    const shown = c.edges.length;
    $('connected-summary').textContent = (shown < c.totalCount
      ? 'Showing ' + fmt(shown) + ' of ' + fmt(c.totalCount) + ' entities reached'
      : plural(c.totalCount, 'entity', 'entities') + ' reached') + ' from ' + c.fromName +
      (shown ? ', each drawn with up to ' + EXAMPLES + ' example paths' : '') +
      (c.partial ? ' (the search stopped at its budget: there may be more)' : '') + '.';
    const ul = $('connected-results');
    ul.textContent = '';
    for (const edge of c.edges) {
      const e = edge.node.entity;
      const li = document.createElement('li');
      li.dataset.id = e.id;
      const count = edge.node.pathCount + (edge.node.pathCountExact === false ? '+' : '');
      li.append(kindBadge(e.kind), el('span', 'name', e.name),
        el('span', 'count', count + (edge.node.pathCount === 1 ? ' path' : ' paths')));
      li.title = 'Read the paths from ' + c.fromName + ' to ' + e.name + ', with their claims';
      li.addEventListener('click', () => selectReached(e, edge));
      ul.appendChild(li);
    }
    const more = $('connected-more');
    more.hidden = !c.hasNextPage;
    more.textContent = 'Show ' + fmt(Math.min(PAGE.connected, c.totalCount - shown)) + ' more';
  }

  // Selects a reached entity: its example paths in the graph, its paths as text in the panel.
  function selectReached(e, edge) {
    const rels = edge.node.examples.flatMap((p) => p.hops.map((h) => h.relation.id));
    cy.elements().unselect();
    const sel = cy.getElementById(e.id).union(cy.collection(rels.map((id) => cy.getElementById(id))));
    sel.select();
    cy.animate({ fit: { eles: sel.union(cy.getElementById(state.connected.from)), padding: 60 }, duration: 300 });
    showPaths(e).catch(() => {});
  }

  // ---------------------------------------------------------------- the side panel

  function clearPanel() {
    state.panel = null;
    $('panel-body').textContent = '';
    delete $('panel-body').dataset.relation;
    delete $('panel-body').dataset.entity;
    delete $('panel-body').dataset.paths;
    $('panel-empty').style.display = 'block';
  }

  function panelStart() {
    $('panel-empty').style.display = 'none';
    const body = $('panel-body');
    body.textContent = '';
    delete body.dataset.relation;
    delete body.dataset.entity;
    delete body.dataset.paths;
    return body;
  }

  // An error reading what the panel was asked to show: said in the panel, instead of it.
  function panelError(message) {
    const body = panelStart();
    body.append(el('p', 'error-box', message));
  }

  // On a narrow screen the panel is below the graph: bring it into view.
  function revealPanel() {
    if (window.matchMedia('(max-width: 1000px)').matches) $('panel').scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }

  function entityLink(e) {
    const a = el('a', null, e.name);
    a.title = e.id;
    a.href = '#';
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      if (cy.getElementById(e.id).nonempty()) {
        cy.elements().unselect();
        cy.getElementById(e.id).select();
      }
      showEntity(e.id).catch(() => {});
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

  function standingBadge(standing) {
    return el('span', 'standing ' + standing, standing.toLowerCase());
  }

  // One claim: asserts or denies, who says it, the verbatim quote, the source.
  function claimBox(c) {
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
    return box;
  }

  async function showRelation(id) {
    state.panel = { type: 'relation', id };
    let d;
    try {
      d = await withStatus('Reading the claims', () => gql(Q_RELATION, { id }));
    } catch (e) {
      if (state.panel && state.panel.id === id) panelError('Could not read the tie ' + id + ': ' + e.message);
      throw e;
    }
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
    body.append(definitions([
      ['standing', standingBadge(r.standing)],
      ['status', r.status && r.status.toLowerCase()],
      ['role', r.role],
      ['what', r.description],
      ['amount', r.amount && r.amount.value.toLocaleString() + ' ' + r.amount.currency],
      ['from', r.start],
      ['until', r.end],
      ['id', r.id],
    ]));
    body.append(el('h2', null, plural(r.claims.length, 'claim', 'claims')));
    for (const c of r.claims) body.append(claimBox(c));
  }

  async function showEntity(id) {
    state.panel = { type: 'entity', id };
    let d;
    try {
      d = await withStatus('Reading ' + id, () => gql(Q_ENTITY, { id }));
    } catch (e) {
      if (state.panel && state.panel.id === id) panelError('Could not read ' + id + ': ' + e.message);
      throw e;
    }
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
    exp.addEventListener('click', () => expand(e.id, { errorBox: 'panel-error' }).catch(() => {}));
    const from = el('button', null, 'Start a pattern here');
    from.type = 'button';
    from.addEventListener('click', () => {
      setEntity($('connected-from'), e);
      $('connected-from').focus();
    });
    buttons.append(exp, from);
    body.append(buttons);
    const err = el('p', 'error-box');
    err.id = 'panel-error';
    err.hidden = true;
    body.append(err);
    const ties = cy.getElementById(e.id).connectedEdges();
    if (ties.nonempty()) {
      body.append(el('h2', null, 'Ties drawn'));
      const ul = el('ul', 'results');
      ties.forEach((t) => {
        const other = t.source().id() === e.id ? t.target() : t.source();
        const li = el('li');
        li.append(standingBadge(t.data('standing')),
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

  // A hop as the relation says it: "from —KIND→ to", whichever way the path crossed it.
  function hopText(h) {
    const [a, b] = h.direction === 'IN' ? [h.to, h.from] : [h.from, h.to];
    return a.name + ' —' + h.relation.kind + '→ ' + b.name;
  }

  // The paths of the last pattern from its origin to `target`, PAGE.paths at a time, each hop
  // with its standing and every claim (who says it, the quote, the source).
  async function showPaths(target, pageIndex, cursors) {
    const c = state.connected;
    if (!c) return;
    cursors = cursors || [null];
    pageIndex = pageIndex || 0;
    const key = target.id;
    state.panel = { type: 'paths', id: key };
    revealPanel();
    let d;
    try {
      d = await withStatus('Reading the paths', () => gql(Q_PATHS, {
        from: c.from, to: target.id, pattern: c.pattern, includeDenied: state.includeDenied,
        first: PAGE.paths, after: cursors[pageIndex],
      }));
    } catch (e) {
      if (state.panel && state.panel.id === key) panelError('Could not read the paths to ' + target.name + ': ' + e.message);
      throw e;
    }
    if (!state.panel || state.panel.id !== key || state.panel.type !== 'paths') return;
    const p = d.paths;
    const body = panelStart();
    body.dataset.paths = key;
    body.append(el('h3', null, 'How ' + c.fromName + ' reaches ' + target.name));
    const first = pageIndex * PAGE.paths + 1;
    const last = pageIndex * PAGE.paths + p.edges.length;
    const nav = el('div', 'paging');
    nav.append(el('span', 'path-count', p.edges.length
      ? 'Paths ' + fmt(first) + '–' + fmt(last) + ' of ' + fmt(p.totalCount) + (p.partial ? ' (the search stopped at its budget: there may be more)' : '')
      : 'No path' + (p.partial ? ' found within the server\'s budget' : '')));
    const prev = el('button', 'small', '← previous');
    prev.type = 'button';
    prev.className = 'small paths-prev';
    prev.disabled = pageIndex === 0;
    prev.addEventListener('click', () => showPaths(target, pageIndex - 1, cursors).catch(() => {}));
    const next = el('button', 'small', 'next →');
    next.type = 'button';
    next.className = 'small paths-next';
    next.disabled = !p.pageInfo.hasNextPage;
    next.addEventListener('click', () => {
      cursors[pageIndex + 1] = p.pageInfo.endCursor;
      showPaths(target, pageIndex + 1, cursors).catch(() => {});
    });
    nav.append(prev, next);
    body.append(nav);
    p.edges.forEach((edge, i) => {
      const path = edge.node;
      const box = el('section', 'path');
      const names = [path.hops[0].from.name].concat(path.hops.map((h) => h.to.name));
      box.append(el('h4', null, 'Path ' + fmt(first + i) + ': ' + names.join(' · ')));
      const ol = el('ol', 'hops-text');
      for (const h of path.hops) {
        const li = el('li', 'hop');
        const line = el('div', 'hop-line');
        const link = el('a', 'hop-tie', hopText(h));
        link.href = '#';
        link.title = 'Show this tie: ' + h.relation.id;
        link.addEventListener('click', (ev) => {
          ev.preventDefault();
          const t = cy.getElementById(h.relation.id);
          cy.elements().unselect();
          if (t.nonempty()) t.select();
        });
        line.append(link, document.createTextNode(' '), standingBadge(h.relation.standing));
        if (h.relation.status && h.relation.status !== 'ACTIVE') line.append(el('span', 'muted', ' ' + h.relation.status.toLowerCase()));
        li.append(line);
        for (const claim of h.relation.claims) li.append(claimBox(claim));
        ol.append(li);
      }
      box.append(ol);
      body.append(box);
    });
  }

  function refreshPanel() {
    if (!state.panel) return Promise.resolve();
    if (state.panel.type === 'paths') {
      const reach = state.connected && state.connected.edges.find((e) => e.node.entity.id === state.panel.id);
      if (!reach) {
        clearPanel();
        return Promise.resolve();
      }
      return showPaths(reach.node.entity).catch(() => {});
    }
    const p = state.panel.type === 'relation' ? showRelation(state.panel.id) : showEntity(state.panel.id);
    return p.catch(() => {});
  }

  cy.on('tap', 'edge', (ev) => {
    revealPanel();
    showRelation(ev.target.id()).catch(() => {});
  });
  cy.on('tap', 'node', (ev) => {
    const reach = state.connected && state.connected.edges.find((e) => e.node.entity.id === ev.target.id());
    revealPanel();
    if (reach) showPaths(reach.node.entity).catch(() => {});
    else showEntity(ev.target.id()).catch(() => {});
  });
  cy.on('dbltap', 'node', (ev) => {
    expand(ev.target.id()).catch(() => {});
  });
  cy.on('tap', (ev) => {
    if (ev.target === cy) clearPanel();
  });

  // ---------------------------------------------------------------- replaying the view

  // Draws the view again from the server: every expanded neighbourhood and the last
  // pattern (as many pages as were shown). Used when "include denied" changes and after the
  // live connection comes back.
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
      const c = state.connected;
      const pages = Math.max(1, Math.ceil(c.edges.length / PAGE.connected));
      c.edges = [];
      try {
        added = added.union(await loadConnectedPage(null));
        for (let i = 1; i < pages && c.hasNextPage; i++) added = added.union(await loadConnectedPage(c.endCursor));
        showConnected();
        explainConnected();
      } catch (e) {
        clearConnected();
        showError('connected-error', 'The pattern no longer runs: ' + e.message);
      }
    }
    layout(null);
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
          showError('live-error', '');
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
          showError('live-error', 'The live subscription failed: ' + JSON.stringify(m.payload));
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
    queue = queue.then(task).catch((e) => showError('live-error', 'A live update failed: ' + e.message));
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
    search(false).catch(() => {});
  });
  $('search-more').addEventListener('click', () => search(true).catch(() => {}));
  $('connected-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    enqueue(() => runConnected());
  });
  $('connected-more').addEventListener('click', () => enqueue(() => moreConnected()));
  $('add-hop').addEventListener('click', () => $('hops').appendChild(hopRow()));
  $('mission').addEventListener('click', () => { mission(); });
  $('include-denied').addEventListener('change', (ev) => {
    state.includeDenied = ev.target.checked;
    enqueue(() => withStatus('Redrawing', rebuild));
  });
  $('fit').addEventListener('click', () => {
    cy.fit(undefined, 50);
    readableZoom();
  });
  $('relayout').addEventListener('click', () => layout(null));
  $('clear').addEventListener('click', () => {
    clearConnected();
    cy.elements().remove();
    state.expanded.clear();
    clearPanel();
    for (const id of ['graph-error', 'search-error', 'connected-error']) showError(id, '');
    fieldError($('connected-from'), '');
    $('empty-hint').style.display = 'block';
  });
  const fromSuggestions = attachSuggestions($('connected-from'));

  fillKinds();
  refreshStats();
  connectLive();
  // The opening view: the mission question, drawn and explained.
  const opening = detectFeatures().then(async () => {
    await mission();
    await enqueue(() => runConnected());
    state.ready = true;
  });

  // For tests and the curious: the graph, the state and the actions, from the console.
  window.tiegraphExplorer = {
    cy,
    state,
    gql,
    search,
    expand,
    runConnected,
    moreConnected,
    rebuild,
    mission,
    opening,
    pageSizes: PAGE,
    isBusy: () => busy > 0,
    idle: () => queue,
  };
})();
