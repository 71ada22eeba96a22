// tiegraph's GraphiQL page: the vendored GraphiQL 3 (React 18, production builds) pointed at
// /graphql, with subscriptions over /graphql/ws (graphql-transport-ws, the graphql-ws client
// bundled in GraphiQL), opening on the README's mission query. Nothing is fetched from
// anywhere but this server.
(function () {
  'use strict';
  const root = document.getElementById('graphiql');
  function fail(message) {
    root.textContent = '';
    const p = document.createElement('p');
    p.className = 'failure';
    p.textContent = 'GraphiQL could not start: ' + message + '. Queries still work with POST /graphql.';
    root.appendChild(p);
  }
  if (!window.React || !window.ReactDOM || !window.GraphiQL) {
    fail('its scripts did not load');
    return;
  }
  try {
    const ws = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql/ws';
    const fetcher = GraphiQL.createFetcher({ url: '/graphql', subscriptionUrl: ws });
    // The query a first visit opens with; later visits reopen the tabs GraphiQL kept.
    const mission = document.getElementById('mission-query').textContent.replace(/^\s*\n/, '').replace(/\s*$/, '\n');
    root.textContent = '';
    ReactDOM.createRoot(root).render(React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: mission,
      defaultEditorToolsVisibility: false,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    }));
  } catch (e) {
    fail(e && e.message ? e.message : String(e));
  }
})();
