// GraphiQL (the page at /) in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core). Every request that is not to this server is aborted, so the page must work
// offline.
//   node ide.test.js http://127.0.0.1:PORT OUT_DIR
// Exits non-zero on the first failed check; saves OUT_DIR/ide.png either way.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const base = process.argv[2];
const outDir = process.argv[3] || path.join(__dirname, 'out');
if (!base) {
  console.error('usage: node ide.test.js BASE_URL [OUT_DIR]');
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const README = path.join(__dirname, '..', '..', 'README.md');

let checks = 0;
function ok(cond, what) {
  if (!cond) throw new Error('FAILED: ' + what);
  checks += 1;
  console.log('ok ' + checks + ' - ' + what);
}

async function gql(query, variables) {
  const headers = { 'content-type': 'application/json' };
  if (process.env.TIEGRAPH_TOKEN) headers.authorization = 'Bearer ' + process.env.TIEGRAPH_TOKEN;
  const res = await fetch(base + '/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function main() {
  const readme = fs.readFileSync(README, 'utf8');
  const section = readme.slice(readme.indexOf('## The mission query'));
  const mission = section.slice(section.indexOf('```graphql\n') + 11, section.indexOf('```', section.indexOf('```graphql\n') + 11)).trim();

  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tiegraph-chromium-'));
  fs.mkdirSync(outDir, { recursive: true });
  fs.rmSync(path.join(outDir, 'ide.png'), { force: true });
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 860 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const page = browser.pages()[0] || await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console error: ' + m.text()); });
  // No network but this server: anything else is aborted (and recorded), as it would fail offline.
  const foreign = [];
  const local = (url) => url.startsWith(base) || url.startsWith(base.replace('http', 'ws')) || url.startsWith('data:');
  await page.route('**/*', (route) => {
    if (local(route.request().url())) return route.continue();
    foreign.push(route.request().url());
    return route.abort();
  });
  const frames = [];
  page.on('websocket', (ws) => {
    if (!local(ws.url())) foreign.push(ws.url());
    ws.on('framesent', (f) => frames.push('> ' + f.payload));
    ws.on('framereceived', (f) => frames.push('< ' + f.payload));
  });
  const waitFor = (fn, arg, what, timeout) => page.waitForFunction(fn, arg, { timeout: timeout || 20000 })
    .catch(() => { throw new Error('FAILED: timed out waiting for ' + what); });
  const editorText = (selector) => page.evaluate((sel) => {
    const cm = document.querySelector(sel + ' .CodeMirror');
    return cm && cm.CodeMirror ? cm.CodeMirror.getValue() : null;
  }, selector);

  try {
    await page.goto(base + '/', { waitUntil: 'load' });
    ok(await page.title() === 'tiegraph · GraphiQL', 'the page loads at /');
    await page.waitForSelector('.graphiql-container', { timeout: 20000 })
      .catch(() => { throw new Error('FAILED: GraphiQL did not render'); });
    ok(true, 'GraphiQL renders from the bundled scripts');
    ok(await page.evaluate(() => !!window.React && window.React.version === '18.3.1'), 'React 18.3.1 runs (the vendored production build)');
    const link = await page.$eval('#explorer-link', (a) => ({ href: a.getAttribute('href'), text: a.textContent, visible: a.getBoundingClientRect().width > 0 }));
    ok(link.href === '/explorer' && link.visible, 'a visible link to the explorer: ' + link.text);

    await waitFor(() => {
      const cm = document.querySelector('.graphiql-query-editor .CodeMirror');
      return cm && cm.CodeMirror && cm.CodeMirror.getValue().includes('connected');
    }, null, 'the query editor to hold the mission query');
    const query = (await editorText('.graphiql-query-editor')).trim();
    ok(query === mission, 'the editor opens on the README\'s mission query (from: "cbp")');

    await page.click('.graphiql-execute-button');
    await waitFor(() => {
      const cm = document.querySelector('.result-window .CodeMirror');
      return cm && cm.CodeMirror && cm.CodeMirror.getValue().includes('totalCount');
    }, null, 'the answer of the mission query');
    const answer = JSON.parse(await editorText('.result-window'));
    const names = answer.data.connected.edges.map((e) => e.node.entity.name).sort();
    ok(answer.data.connected.totalCount === 3, 'running it answers totalCount 3 for cbp');
    ok(JSON.stringify(names) === JSON.stringify(['Fight for the Future', 'Media Alliance', 'RAICES']),
      'the answer names the three nonprofits: ' + names.join(', '));
    await page.screenshot({ path: path.join(outDir, 'ide.png') });

    // A subscription through GraphiQL's own client, over /graphql/ws.
    await page.evaluate(() => {
      document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror
        .setValue('subscription Changes { changes { kind recordType id } }');
    });
    // GraphiQL reads the edited document (and so sees a subscription) once it has taken the
    // edit in, which it also saves as its tab state: wait for that before running it.
    await waitFor(() => Object.keys(localStorage).some((k) => k.endsWith('tabState') &&
      localStorage.getItem(k).includes('subscription Changes')), null, 'GraphiQL to take the edit in');
    await page.click('.graphiql-execute-button');
    // The socket is open once the server has the subscription; write until the answer shows it.
    let seen = false;
    for (let i = 0; i < 20 && !seen; i++) {
      const id = 'ide-test-' + i;
      await gql(`mutation($id: ID!, $name: String!) { createEntity(input: {id: $id, kind: GROUP, name: $name}) { id } }`, { id, name: 'IDE test ' + i });
      seen = await page.waitForFunction(() => {
        const cm = document.querySelector('.result-window .CodeMirror');
        return cm && cm.CodeMirror && cm.CodeMirror.getValue().includes('ide-test-');
      }, null, { timeout: 1500 }).then(() => true, () => false);
    }
    const streamed = await editorText('.result-window');
    ok(seen && streamed.includes('"recordType": "ENTITY"') && frames.some((f) => f.includes('"type":"subscribe"')),
      'a subscription run in GraphiQL streams a change over /graphql/ws' +
      (seen ? '' : ': ' + JSON.stringify((streamed || '').slice(0, 300)) + ' ' + frames.join(' | ').slice(0, 600)));
    ok(problems.length === 0, 'no page errors: ' + problems.join(' | '));
    ok(foreign.length === 0, 'no request leaves the server (works offline): ' + foreign.join(' '));
  } finally {
    if (!fs.existsSync(path.join(outDir, 'ide.png'))) {
      await page.screenshot({ path: path.join(outDir, 'ide.png') }).catch((e) => console.error('screenshot failed: ' + e.message));
    }
    await browser.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  console.log('all ' + checks + ' checks passed; screenshot in ' + path.join(outDir, 'ide.png'));
}

main().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
