// The explorer in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core;
// no Playwright browser is ever downloaded).
//   node explorer.test.js http://127.0.0.1:PORT OUT_DIR
// Exits non-zero on the first failed check. Screenshots in OUT_DIR: explorer-opening.png (the
// mission drawn on load), explorer-paths.png (a result's cited paths), explorer-paging.png (a
// cut answer with its counts), explorer-800.png (an 800 px window) and explorer.png (the end,
// saved either way). Every wait is on a condition, never a fixed sleep.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const base = process.argv[2];
const outDir = process.argv[3] || path.join(__dirname, 'out');
if (!base) {
  console.error('usage: node explorer.test.js BASE_URL [OUT_DIR]');
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

let checks = 0;
function ok(cond, what) {
  if (!cond) throw new Error('FAILED: ' + what);
  checks += 1;
  console.log('ok ' + checks + ' - ' + what);
}

async function gql(query, variables) {
  const headers = { 'content-type': 'application/json' };
  // Writes need no token yet; when they do, the suite can pass one.
  if (process.env.TIEGRAPH_TOKEN) headers.authorization = 'Bearer ' + process.env.TIEGRAPH_TOKEN;
  const res = await fetch(base + '/graphql', {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function main() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tiegraph-chromium-'));
  fs.mkdirSync(outDir, { recursive: true });
  // A fresh profile each run; Playwright passes it to Chromium as --user-data-dir.
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1500, height: 900 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const page = browser.pages()[0] || await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console error: ' + m.text()); });
  // Offline check: the page must not reach for anything but this server.
  const foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith(base.replace('http', 'ws'))) foreign.push(r.url()); });

  let X = (fn, arg) => page.evaluate(fn, arg);
  let waitFor = (fn, arg, what) => page.waitForFunction(fn, arg, { timeout: 20000 })
    .catch(() => { throw new Error('FAILED: timed out waiting for ' + what); });
  const idle = async () => {
    await X(() => window.tiegraphExplorer.idle().then(() => null));
    await waitFor(() => !window.tiegraphExplorer.isBusy(), null, 'the explorer to be idle');
  };
  const shot = (name, p) => (p || page).screenshot({ path: path.join(outDir, name) });

  // Geometry of the drawing, in rendered pixels: parallel ties' midpoints and every label's box.
  const geometry = () => X(() => {
    const cy = window.tiegraphExplorer.cy;
    const box = (bb) => ({ x1: bb.x1, y1: bb.y1, x2: bb.x2, y2: bb.y2 });
    return {
      zoom: cy.zoom(),
      width: cy.width(),
      height: cy.height(),
      edges: cy.edges().map((e) => ({
        id: e.id(), source: e.source().id(), target: e.target().id(),
        mid: e.renderedMidpoint(),
        label: box(e.renderedBoundingBox({ includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false })),
      })),
      nodes: cy.nodes().map((n) => ({
        id: n.id(),
        body: box(n.renderedBoundingBox({ includeLabels: false, includeOverlays: false })),
        label: box(n.renderedBoundingBox({ includeNodes: false, includeLabels: true, includeOverlays: false })),
      })),
    };
  });
  const overlap = (a, b) => Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1)) *
    Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const reachedIds = () => X(() => window.tiegraphExplorer.cy.nodes('.reached').map((n) => n.id()).sort());
  const texts = (sel) => X((s) => Array.from(document.querySelectorAll(s)).map((n) => n.textContent), sel);
  const visible = (sel) => X((s) => {
    const e = document.querySelector(s);
    return !!e && !e.hidden && e.getBoundingClientRect().height > 0;
  }, sel);
  // Every page.evaluate here returns plain data or nothing: a Cytoscape collection handed back
  // would make Playwright serialise the whole graph (which hangs the page on a big one).
  // Types into an entity field as a person does, key by key.
  // Waits until the suggestions answer the whole text, not a prefix typed on the way.
  const typeInto = async (sel, text) => {
    await page.fill(sel, '');
    await page.type(sel, text, { delay: 25 });
    await waitFor(([s, t]) => {
      const list = document.querySelector(s + '-suggestions');
      return list && !list.hidden && list.dataset.for === t;
    }, [sel, text], 'the suggestions for "' + text + '"');
  };

  try {
    // ------------------------------------------------------------ the opening view
    await page.goto(base + '/explorer', { waitUntil: 'load' });
    ok(await page.title() === 'tiegraph explorer', 'the page loads at /explorer');
    ok(await X(() => typeof window.cytoscape === 'function' && !!window.tiegraphExplorer), 'the bundled Cytoscape.js and the app load');
    await waitFor(() => window.tiegraphExplorer.state.ready, null, 'the opening view');
    await idle();
    ok(JSON.stringify(await reachedIds()) === JSON.stringify(['fight-for-the-future', 'media-alliance', 'raices']),
      'on load, with no click, the mission answer is drawn: the three nonprofits reached');
    const opening = await X(() => ({
      title: document.querySelector('#caption .caption-title').textContent,
      text: document.querySelector('#caption p').textContent,
      summary: document.querySelector('#connected-summary').textContent,
      from: document.querySelector('#connected-from').value,
      fromId: document.querySelector('#connected-from').dataset.id,
      origin: window.tiegraphExplorer.cy.nodes('.origin').map((n) => n.id()),
    }));
    ok(/mission question/i.test(opening.title) && opening.title.includes('U.S. Customs and Border Protection'),
      'the caption asks the mission question: ' + opening.title);
    ok(['Fight for the Future (4 paths)', 'Media Alliance (4 paths)', 'RAICES (4 paths)', 'through Salesforce', 'U.S. Customs and Border Protection']
      .every((t) => opening.text.includes(t)), 'and says in words what is drawn: ' + opening.text);
    ok(opening.summary.startsWith('3 entities reached from U.S. Customs and Border Protection'), 'the list is counted: ' + opening.summary);
    ok(opening.from === 'U.S. Customs and Border Protection' && opening.fromId === 'cbp' && opening.origin[0] === 'cbp',
      'From shows the name, keeps the id: ' + opening.from + ' / ' + opening.fromId);
    await waitFor(() => window.tiegraphExplorer.state.live, null, 'the live subscription');
    ok(true, 'the changes subscription is acknowledged (graphql-transport-ws)');

    // Parallel ties (two VENDOR_TO Salesforce → CBP) and opposite ones (DONATION Salesforce →
    // RAICES, PRESSURED RAICES → Salesforce) are drawn apart, and no two labels overlap.
    let g = await geometry();
    const pairs = new Map();
    for (const e of g.edges) {
      const key = [e.source, e.target].sort().join('|');
      pairs.set(key, (pairs.get(key) || []).concat([e]));
    }
    const bundles = Array.from(pairs.values()).filter((b) => b.length > 1);
    ok(bundles.length >= 4, 'the drawing has ' + bundles.length + ' pairs of entities joined by several ties');
    let closest = Infinity;
    for (const b of bundles) {
      for (let i = 0; i < b.length; i++) {
        for (let j = i + 1; j < b.length; j++) {
          closest = Math.min(closest, Math.hypot(b[i].mid.x - b[j].mid.x, b[i].mid.y - b[j].mid.y));
        }
      }
    }
    ok(closest >= 25, 'parallel and opposite ties are drawn apart (closest midpoints ' + closest.toFixed(0) + ' px)');
    const labelClashes = [];
    const labels = g.edges.map((e) => ({ id: e.id, box: e.label })).concat(g.nodes.map((n) => ({ id: n.id, box: n.label })));
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) {
        if (overlap(labels[i].box, labels[j].box) > 4) labelClashes.push(labels[i].id + ' / ' + labels[j].id);
      }
    }
    ok(labelClashes.length === 0, 'no two labels overlap: ' + labelClashes.join(', '));
    ok(g.zoom >= 0.6, 'the labels are drawn at a readable scale (zoom ' + g.zoom.toFixed(2) + ')');
    await waitFor(() => window.tiegraphExplorer.cy.elements('.fresh').length === 0, null, 'the highlight of fresh elements to fade');
    await shot('explorer-opening.png');

    // ------------------------------------------------------------ a result's paths as cited text
    await page.click('#connected-results li[data-id="raices"]');
    await page.waitForSelector('#panel-body[data-paths="raices"] section.path');
    let paths = await X(() => ({
      heading: document.querySelector('#panel-body h3').textContent,
      count: document.querySelector('#panel-body .path-count').textContent,
      shown: document.querySelectorAll('#panel-body section.path').length,
      hops: Array.from(document.querySelectorAll('#panel-body .hop-line')).map((h) => h.textContent),
      quotes: Array.from(document.querySelectorAll('#panel-body .claim .quote')).map((q) => q.textContent),
      who: Array.from(document.querySelectorAll('#panel-body .claim .stance')).map((q) => q.textContent),
      sources: Array.from(document.querySelectorAll('#panel-body .claim .source-title')).map((q) => q.textContent),
      prev: document.querySelector('#panel-body .paths-prev').disabled,
      next: document.querySelector('#panel-body .paths-next').disabled,
    }));
    ok(paths.heading === 'How U.S. Customs and Border Protection reaches RAICES', 'clicking RAICES lists its paths: ' + paths.heading);
    ok(paths.count === 'Paths 1–3 of 4' && paths.shown === 3 && paths.prev && !paths.next, 'counted and paged: ' + paths.count);
    ok(paths.hops.some((h) => h.startsWith('Salesforce —VENDOR_TO→ U.S. Customs and Border Protection') && /confirmed/.test(h)),
      'each hop reads from —KIND→ to, with its standing: ' + paths.hops[0]);
    ok(paths.hops.some((h) => h.startsWith('RAICES —PRESSURED→ Salesforce')) && paths.hops.some((h) => h.startsWith('Salesforce —DONATION→ RAICES')),
      'a hop crossed against its direction still reads as the relation says it');
    ok(paths.quotes.some((q) => q.includes('CBP is a customer and follows our [terms of service].')) &&
      paths.who.some((w) => w.includes('Marc Benioff')) && paths.who.some((w) => w.startsWith('denies')),
      'every hop carries its claims: who says it, asserts or denies, the quote');
    ok(paths.sources.length === paths.quotes.length && paths.sources.every((t) => t === 'RAICES declines Salesforce donation'),
      'and each claim names its source');
    await page.click('#panel-body .paths-next');
    await waitFor(() => (document.querySelector('#panel-body .path-count') || {}).textContent === 'Paths 4–4 of 4', null, 'the next page of paths');
    ok(await X(() => document.querySelectorAll('#panel-body section.path').length === 1 && !document.querySelector('#panel-body .paths-prev').disabled),
      'next shows the fourth path, and previous is offered');
    await page.click('#panel-body .paths-prev');
    await waitFor(() => (document.querySelector('#panel-body .path-count') || {}).textContent === 'Paths 1–3 of 4', null, 'the first page again');
    ok(true, 'previous goes back to paths 1–3');
    await shot('explorer-paths.png');

    // ------------------------------------------------------------ name suggestions
    await typeInto('#connected-from', 'salesf');
    await page.waitForSelector('#connected-from-suggestions li[data-id="salesforce"]');
    const suggested = await texts('#connected-from-suggestions li .name');
    ok(suggested.includes('Salesforce') && suggested.length <= 8, 'typing "salesf" suggests Salesforce by name: ' + suggested.join(', '));
    await page.click('#connected-from-suggestions li[data-id="salesforce"]');
    ok(await page.inputValue('#connected-from') === 'Salesforce' &&
      await X(() => document.querySelector('#connected-from').dataset.id) === 'salesforce' &&
      (await texts('#connected-from-id'))[0] === 'id: salesforce', 'picking it puts the name in the field and keeps its id');
    ok(await X(() => document.querySelector('#connected-from-suggestions').hidden), 'the suggestions close once one is picked');
    // The keyboard: arrows and Enter pick too (the mouse moved away, so it hovers over none).
    await page.mouse.move(1, 1);
    await typeInto('#connected-from', 'customs');
    await page.waitForSelector('#connected-from-suggestions li[data-id="cbp"]');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    ok(await X(() => document.querySelector('#connected-from').dataset.id) === 'cbp', 'ArrowDown and Enter pick a suggestion');
    // A typed name matching exactly one entity is accepted without picking.
    await page.fill('#connected-from', 'Media Alliance');
    await page.click('#connected-run');
    await waitFor(() => (document.querySelector('#connected-summary').textContent || '').includes('from Media Alliance'), null, 'the pattern from a typed name');
    await idle();
    ok(await X(() => document.querySelector('#connected-from').dataset.id) === 'media-alliance' &&
      (await texts('#connected-summary'))[0].startsWith('2 entities reached from Media Alliance'),
      'a typed exact name runs: ' + (await texts('#connected-summary'))[0]);
    ok(!(await reachedIds()).includes('media-alliance') && (await reachedIds()).length === 2, 'and the drawing is the new answer\'s');
    await page.fill('#connected-from', 'cbp');
    await page.click('#connected-run');
    await waitFor(() => (document.querySelector('#connected-summary').textContent || '').includes('from U.S. Customs'), null, 'the pattern from an id');
    ok(true, 'a typed id is accepted too');

    // ------------------------------------------------------------ errors inline, stale results cleared
    await page.fill('#connected-from', 'Nobody at all');
    await page.click('#connected-run');
    await waitFor(() => !document.querySelector('#connected-from-error').hidden, null, 'the error under From');
    await idle();
    const unknown = await X(() => ({
      error: document.querySelector('#connected-from-error').textContent,
      invalid: document.querySelector('#connected-from').getAttribute('aria-invalid'),
      results: document.querySelectorAll('#connected-results li').length,
      summary: document.querySelector('#connected-summary').textContent,
      caption: document.querySelector('#caption').hidden,
      reached: window.tiegraphExplorer.cy.nodes('.reached').length,
      drawn: window.tiegraphExplorer.cy.elements().length,
      status: document.querySelector('#status').textContent,
    }));
    ok(unknown.error.startsWith('No entity is called “Nobody at all”') && unknown.invalid === 'true',
      'an unknown name is refused under the From field: ' + unknown.error);
    ok(unknown.results === 0 && unknown.summary === '' && unknown.caption && unknown.reached === 0 && unknown.drawn === 0,
      'and the previous answer is cleared from the list, the caption and the graph');
    await page.fill('#connected-from', 'cbp');
    ok(await X(() => document.querySelector('#connected-from-error').hidden), 'typing again clears the field\'s error');
    await page.fill('#hops li:first-child .hop-min', '3');
    await page.click('#connected-run');
    await waitFor(() => !document.querySelector('#connected-error').hidden, null, 'the pattern\'s error');
    const refused = await texts('#connected-error');
    ok(/minRepeat 3 is greater than maxRepeat 1/.test(refused[0]), 'the server\'s refusal of the pattern is shown under the form: ' + refused[0]);
    ok(await X(() => document.querySelectorAll('#connected-results li').length === 0 && window.tiegraphExplorer.cy.nodes('.reached').length === 0),
      'with no stale results');
    await page.click('#mission');
    await page.click('#connected-run');
    await waitFor(() => document.querySelectorAll('#connected-results li[data-id]').length === 3, null, 'the mission again');
    ok(await X(() => document.querySelector('#connected-error').hidden), 'a good run clears the error');
    await idle();

    // ------------------------------------------------------------ search, expand
    await page.click('#clear');
    await page.fill('#search-text', 'cbp');
    await page.click('#search-form button[type=submit]');
    await page.waitForSelector('#search-results li[data-id="cbp"]');
    {
      // CBP by its alias first; then entities whose descriptions name CBP, all of them counted.
      const count = (await texts('#search-count'))[0];
      const first = await X(() => document.querySelector('#search-results li').dataset.id);
      ok(first === 'cbp' && /^Showing (\d+) of \1 match/.test(count), 'searching "cbp" lists CBP first, counted: ' + first + ', ' + count);
    }
    await page.click('#search-results li[data-id="cbp"]');
    await waitFor(() => window.tiegraphExplorer.cy.getElementById('cbp').nonempty() &&
      window.tiegraphExplorer.cy.getElementById('salesforce').nonempty(), null, 'the neighbourhood of cbp');
    await idle();
    const drawn = await X(() => ({
      nodes: window.tiegraphExplorer.cy.nodes().map((n) => n.id()).sort(),
      edges: window.tiegraphExplorer.cy.edges().length,
      visible: window.tiegraphExplorer.cy.nodes().every((n) => n.visible() && n.renderedBoundingBox().w > 0),
      caption: document.querySelector('#caption p').textContent,
    }));
    ok(['cbp', 'dhs', 'salesforce'].every((id) => drawn.nodes.includes(id)), 'expanding cbp draws dhs and salesforce: ' + drawn.nodes.join(','));
    ok(drawn.edges >= 3 && drawn.visible, 'its ties are drawn (' + drawn.edges + ' edges)');
    ok(drawn.caption.startsWith('Drawn: ' + drawn.nodes.length + ' entities within 1 tie of U.S. Customs and Border Protection'),
      'the caption says what the expansion drew: ' + drawn.caption);
    const disputed = await X(() => {
      const e = window.tiegraphExplorer.cy.getElementById('salesforce-vendor-to-cbp-family-separation');
      return e.nonempty() && { standing: e.data('standing'), style: e.style('line-style'), color: e.style('line-color') };
    });
    ok(disputed && disputed.standing === 'DISPUTED' && disputed.style === 'dotted', 'the disputed tie is dotted: ' + JSON.stringify(disputed));
    // An error while expanding is shown where the click was, in the search list.
    await X(() => window.tiegraphExplorer.expand('no-such-entity', { errorBox: 'search-error' }).catch(() => {}));
    ok(/no-such-entity/.test((await texts('#search-error'))[0]) && await visible('#search-error'),
      'a failed expansion says so under the search: ' + (await texts('#search-error'))[0]);

    // ------------------------------------------------------------ the mission from the form
    await page.click('#clear');
    await page.click('#mission');
    await waitFor(() => document.querySelector('#connected-from').value === 'U.S. Customs and Border Protection', null, 'the mission example to fill From');
    ok(await X(() => document.querySelector('#connected-from').dataset.id) === 'cbp', 'the mission example fills the form');
    const hops = await X(() => Array.from(document.querySelectorAll('#hops li')).map((li) => [
      li.querySelector('.hop-relation').value, li.querySelector('.hop-direction').value, li.querySelector('.hop-entity').value]));
    ok(JSON.stringify(hops) === JSON.stringify([['VENDOR_TO', 'IN', ''], ['', 'ANY', 'NONPROFIT']]), 'the form holds VENDOR_TO IN, then ANY to NONPROFIT');
    await page.click('#connected-run');
    await page.waitForSelector('#connected-results li[data-id]');
    await idle();
    const listed = await texts('#connected-results li .name');
    for (const name of ['RAICES', 'Media Alliance', 'Fight for the Future']) {
      ok(listed.includes(name), 'the pattern lists ' + name);
    }
    ok(JSON.stringify(await reachedIds()) === JSON.stringify(['fight-for-the-future', 'media-alliance', 'raices']), 'the three nonprofits are drawn as reached');

    // Click a tie (a real mouse click on the canvas) and read its claims.
    const at = await X(() => {
      const cy = window.tiegraphExplorer.cy;
      const e = cy.getElementById('salesforce-vendor-to-cbp');
      cy.fit(undefined, 60);
      const p = e.renderedMidpoint();
      const box = cy.container().getBoundingClientRect();
      return { x: box.left + p.x, y: box.top + p.y };
    });
    await page.mouse.click(at.x, at.y);
    await page.waitForSelector('#panel-body[data-relation] .claim', { timeout: 10000 })
      .catch(() => { throw new Error('FAILED: clicking the tie did not show its claims'); });
    const panel = await X(() => ({
      relation: document.querySelector('#panel-body').dataset.relation,
      quotes: Array.from(document.querySelectorAll('#panel-body .claim .quote')).map((q) => q.textContent),
      sources: Array.from(document.querySelectorAll('#panel-body .claim .source-title')).map((q) => q.textContent),
      claimants: Array.from(document.querySelectorAll('#panel-body .claim .stance')).map((q) => q.textContent),
    }));
    ok(panel.relation === 'salesforce-vendor-to-cbp', 'clicking the Salesforce → CBP tie opens it in the side panel');
    ok(panel.quotes.some((q) => q.includes('CBP is a customer and follows our [terms of service].')), 'the panel shows Benioff\'s quote');
    ok(panel.sources.length > 0 && panel.sources.every((s) => s === 'RAICES declines Salesforce donation'), 'each claim names its source');
    ok(panel.claimants.some((c) => c.includes('Marc Benioff')), 'the panel names the claimant');

    // Denied ties: absent by default, dashed red with "include denied".
    await X(() => window.tiegraphExplorer.expand('salesforce').then(() => null));
    await idle();
    ok(await X(() => window.tiegraphExplorer.cy.getElementById('salesforce-vendor-to-ice').empty()), 'the denied Salesforce → ICE tie is hidden by default');
    await page.check('#include-denied');
    await waitFor(() => window.tiegraphExplorer.cy.getElementById('salesforce-vendor-to-ice').nonempty(), null, 'the denied tie to appear');
    await idle();
    const denied = await X(() => {
      const cy = window.tiegraphExplorer.cy;
      const d = cy.getElementById('salesforce-vendor-to-ice');
      const c = cy.getElementById('salesforce-vendor-to-cbp');
      return {
        standing: d.data('standing'), style: d.style('line-style'), color: d.style('line-color'),
        confirmedStyle: c.style('line-style'), confirmedColor: c.style('line-color'),
      };
    });
    ok(denied.standing === 'DENIED' && denied.style === 'dashed' && denied.color === 'rgb(214,39,40)',
      'with include denied, the ICE tie is dashed red: ' + JSON.stringify(denied));
    ok(denied.confirmedStyle === 'solid' && denied.confirmedColor !== denied.color, 'and differs from a confirmed tie');
    ok(await X(() => window.tiegraphExplorer.cy.nodes('.reached').length === 3), 'the pattern is redrawn with the denied ties');
    // Parallel ties stay apart in a force layout too.
    g = await geometry();
    const vendor = g.edges.filter((e) => e.source === 'salesforce' && e.target === 'cbp');
    ok(vendor.length === 2 && Math.hypot(vendor[0].mid.x - vendor[1].mid.x, vendor[0].mid.y - vendor[1].mid.y) >= 20,
      'the two Salesforce → CBP ties are drawn apart in the neighbourhood view');

    // A write elsewhere shows up live, without reloading the page.
    await X(() => { window.__notReloaded = true; });
    await gql(`mutation {
      createEntity(input: {id: "letter-writers", kind: GROUP, name: "Letter writers"}) { id }
    }`);
    await gql(`mutation($claim: ClaimInput!) {
      createRelation(input: {id: "letter-writers-pressured-salesforce", kind: PRESSURED,
        from: "letter-writers", to: "salesforce", role: "letter", claim: $claim}) { id standing }
    }`, {
      claim: {
        source: 'raices-declines-salesforce-donation',
        stance: 'ASSERTS',
        quote: 'Several other nonprofits have sent letters to Salesforce urging the company to cancel its CBP contract.',
      },
    });
    await waitFor(() => window.tiegraphExplorer.cy.getElementById('letter-writers-pressured-salesforce').nonempty(), null, 'the new tie to be drawn live');
    const live = await X(() => {
      const cy = window.tiegraphExplorer.cy;
      const n = cy.getElementById('letter-writers');
      return {
        reloaded: !window.__notReloaded,
        node: n.nonempty() && n.data('name'),
        visible: n.nonempty() && n.renderedBoundingBox().w > 0,
        changes: window.tiegraphExplorer.state.changes.map((c) => c.recordType + ':' + c.id),
        activity: document.querySelectorAll('#activity li').length,
      };
    });
    ok(!live.reloaded, 'the page was not reloaded');
    ok(live.node === 'Letter writers' && live.visible, 'the new entity appears in the graph');
    ok(live.changes.includes('RELATION:letter-writers-pressured-salesforce') && live.activity > 0, 'the change is logged: ' + live.changes.join(' '));
    await X(() => { window.tiegraphExplorer.cy.getElementById('salesforce-vendor-to-cbp-family-separation').emit('tap'); });
    await page.waitForSelector('#panel-body[data-relation="salesforce-vendor-to-cbp-family-separation"] .claim.DENIES');
    ok(true, 'the disputed tie shows its denial in the panel');
    await page.uncheck('#include-denied');
    await idle();

    // ------------------------------------------------------------ honest counts and paging
    // 120 members of one group, imported in one request: an answer bigger than a page.
    const lines = [JSON.stringify({ type: 'source', id: 'paging-test', title: 'Paging test' }),
      JSON.stringify({ type: 'entity', id: 'paging-hub', kind: 'NONPROFIT', name: 'Paging hub' })];
    for (let i = 1; i <= 120; i++) {
      const n = String(i).padStart(3, '0');
      lines.push(JSON.stringify({ type: 'entity', id: 'paging-member-' + n, kind: 'PERSON', name: 'Paging member ' + n }));
      lines.push(JSON.stringify({
        type: 'relation', id: 'paging-member-' + n + '-member-of-paging-hub', kind: 'MEMBER_OF', from: 'paging-member-' + n, to: 'paging-hub',
        claims: [{ source: 'paging-test', stance: 'ASSERTS', quote: 'Member ' + n + ' belongs to the hub.' }],
      }));
    }
    const imported = await fetch(base + '/admin/import', { method: 'POST', body: lines.join('\n') + '\n' });
    ok(imported.ok, 'a graph of 120 members is imported: ' + imported.status + (imported.ok ? '' : ' ' + await imported.text()));
    await waitFor(() => window.tiegraphExplorer.state.changes.some((c) => c.id === 'paging-hub'), null, 'the import\'s changes');
    await idle();
    await page.click('#clear');
    await typeInto('#connected-from', 'paging member');
    await page.waitForSelector('#connected-from-suggestions li[data-id]');
    ok((await texts('#connected-from-suggestions li[data-id]')).length === 8, 'suggestions stop at 8 of 120 matches');
    await page.keyboard.press('Escape');
    await page.fill('#connected-from', 'Paging hub');
    await X(() => {
      const li = document.querySelector('#hops li');
      li.querySelector('.hop-relation').value = 'MEMBER_OF';
      li.querySelector('.hop-direction').value = 'IN';
      li.querySelector('.hop-entity').value = '';
      li.querySelector('.hop-min').value = '1';
      while (document.querySelectorAll('#hops li').length > 1) document.querySelector('#hops li:last-child').remove();
    });
    await page.click('#connected-run');
    await waitFor(() => document.querySelectorAll('#connected-results li[data-id]').length === 100, null, 'the first page of 100');
    await idle();
    let cut = await X(() => ({
      summary: document.querySelector('#connected-summary').textContent,
      caption: document.querySelector('#caption p').textContent,
      more: !document.querySelector('#connected-more').hidden && document.querySelector('#connected-more').textContent,
      reached: window.tiegraphExplorer.cy.nodes('.reached').length,
    }));
    ok(cut.summary.startsWith('Showing 100 of 120 entities reached from Paging hub'), 'a cut answer says so: ' + cut.summary);
    ok(cut.caption.includes('100 of the 120 entities reached') && cut.reached === 100, 'and so does the caption of the drawing (100 drawn)');
    ok(cut.more === 'Show 20 more', 'with a button for the rest: ' + cut.more);
    await shot('explorer-paging.png');
    await page.click('#connected-more');
    await waitFor(() => document.querySelectorAll('#connected-results li[data-id]').length === 120, null, 'the second page');
    await idle();
    cut = await X(() => ({
      summary: document.querySelector('#connected-summary').textContent,
      more: document.querySelector('#connected-more').hidden,
      reached: window.tiegraphExplorer.cy.nodes('.reached').length,
    }));
    ok(cut.summary.startsWith('120 entities reached from Paging hub') && cut.more && cut.reached === 120, 'show more draws and lists the other 20: ' + cut.summary);
    await page.fill('#search-text', 'paging member');
    await page.click('#search-form button[type=submit]');
    await waitFor(() => document.querySelectorAll('#search-results li[data-id]').length === 25, null, 'a search page');
    const count = (await texts('#search-count'))[0];
    ok(count === 'Showing 25 of 120 matches.' || count === 'Showing 25 matches; more match.', 'the search is counted: ' + count);
    await page.click('#search-more');
    await waitFor(() => document.querySelectorAll('#search-results li[data-id]').length === 50, null, 'the next search page');
    ok(true, 'and pages on: 50 listed');

    // The end of the wide run: the mission again, a tie's claims open.
    await page.click('#clear');
    await page.click('#mission');
    await page.click('#connected-run');
    await waitFor(() => document.querySelectorAll('#connected-results li[data-id]').length === 3, null, 'the mission');
    await idle();
    await X(() => { window.tiegraphExplorer.cy.getElementById('salesforce-vendor-to-cbp-family-separation').emit('tap'); });
    await page.waitForSelector('#panel-body[data-relation="salesforce-vendor-to-cbp-family-separation"] .claim.DENIES');
    await waitFor(() => window.tiegraphExplorer.cy.elements('.fresh').length === 0, null, 'the highlight of fresh elements to fade');
    await shot('explorer.png');

    // ------------------------------------------------------------ 800 px wide
    const narrow = await browser.newPage();
    narrow.on('pageerror', (e) => problems.push('page error (800 px): ' + e.message));
    narrow.on('console', (m) => { if (m.type() === 'error') problems.push('console error (800 px): ' + m.text()); });
    narrow.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith(base.replace('http', 'ws'))) foreign.push(r.url()); });
    await narrow.setViewportSize({ width: 800, height: 900 });
    X = (fn, arg) => narrow.evaluate(fn, arg);
    waitFor = (fn, arg, what) => narrow.waitForFunction(fn, arg, { timeout: 20000 })
      .catch(() => { throw new Error('FAILED: timed out waiting for ' + what + ' (800 px)'); });
    await narrow.goto(base + '/explorer', { waitUntil: 'load' });
    await waitFor(() => window.tiegraphExplorer.state.ready, null, 'the opening view');
    await idle();
    const fit = await X(() => {
      const r = (s) => document.querySelector(s).getBoundingClientRect();
      const cy = window.tiegraphExplorer.cy;
      const bb = cy.elements().renderedBoundingBox();
      return {
        scroll: document.documentElement.scrollWidth,
        cy: { w: r('#cy').width, h: r('#cy').height },
        caption: r('#caption'),
        graph: r('#graph-area'),
        panel: r('#panel'),
        controls: r('#controls'),
        inside: bb.x1 >= -2 && bb.y1 >= -2 && bb.x2 <= cy.width() + 2 && bb.y2 <= cy.height() + 2,
        zoom: cy.zoom(),
        reached: cy.nodes('.reached').length,
      };
    });
    ok(fit.scroll <= 800, 'at 800 px nothing is wider than the window (' + fit.scroll + ' px)');
    ok(fit.cy.w >= 760 && fit.cy.h >= 400, 'the graph keeps a usable size: ' + Math.round(fit.cy.w) + '×' + Math.round(fit.cy.h));
    ok(fit.caption.width >= 760 && fit.caption.bottom <= fit.graph.top + 1, 'the caption sits above the graph, full width');
    ok(fit.panel.top >= fit.graph.bottom - 1 && fit.controls.top >= fit.panel.bottom - 1 && fit.controls.width >= 760,
      'the panels stack under the graph');
    ok(fit.reached === 3 && fit.inside && fit.zoom >= 0.6, 'the mission is drawn inside the graph at a readable scale (zoom ' + fit.zoom.toFixed(2) + ')');
    await waitFor(() => window.tiegraphExplorer.cy.elements('.fresh').length === 0, null, 'the highlight of fresh elements to fade');
    await narrow.screenshot({ path: path.join(outDir, 'explorer-800.png') });
    await narrow.click('#connected-results li[data-id="media-alliance"]');
    await narrow.waitForSelector('#panel-body[data-paths="media-alliance"] section.path');
    ok(await X(() => {
      const r = document.querySelector('#panel-body').getBoundingClientRect();
      return r.width >= 700 && r.top < window.innerHeight && r.bottom > 0;
    }), 'at 800 px a result\'s paths are shown full width and scrolled into view');
    await narrow.screenshot({ path: path.join(outDir, 'explorer-800-paths.png') });
    await narrow.close();

    ok(problems.length === 0, 'no page errors: ' + problems.join(' | '));
    ok(foreign.length === 0, 'no request leaves the server (works offline): ' + foreign.join(' '));
  } finally {
    await page.screenshot({ path: path.join(outDir, 'explorer.png') }).catch((e) => console.error('screenshot failed: ' + e.message));
    await browser.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  console.log('all ' + checks + ' checks passed; screenshot in ' + path.join(outDir, 'explorer.png'));
}

main().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
