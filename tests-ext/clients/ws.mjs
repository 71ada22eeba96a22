// graphql-ws 6 (the client Apollo Client and urql use for subscriptions) subscribes over both
// websocket paths: /graphql itself, as Apollo Server, Yoga and Hasura serve it, and /graphql/ws.
// Usage: node ws.mjs BASE_URL (NODE_PATH points at tests-ext/node_modules).
import { createRequire } from "node:module";
import assert from "node:assert/strict";

const require = createRequire(import.meta.url);
const { createClient } = require("graphql-ws");
const WebSocket = require("ws");

const [base] = process.argv.slice(2);
const CHANGES = "subscription { changes { kind recordType id } }";

async function mutate(query) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  const answer = await response.json();
  assert.ok(!answer.errors, JSON.stringify(answer));
  return answer;
}

for (const path of ["/graphql", "/graphql/ws"]) {
  const url = base.replace("http://", "ws://") + path;
  const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
  const id = `graphql-ws-client-${path.length}`;
  const received = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${path}: no change within 10 s`)), 10_000);
    client.subscribe(
      { query: CHANGES },
      {
        next: (message) => {
          if (message.data?.changes?.id === id) {
            clearTimeout(timer);
            resolve(message.data.changes);
          }
        },
        error: (error) => reject(new Error(`${path}: ${JSON.stringify(error?.message ?? error)}`)),
        complete: () => {},
      },
    );
  });
  // Let the subscription reach the server before the write it should see.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await mutate(`mutation { createEntity(input: {id: "${id}", kind: GROUP, name: "${id}"}) { id } }`);
  const change = await received;
  assert.equal(change.kind, "CREATED");
  assert.equal(change.recordType, "ENTITY");
  await client.dispose();
  console.log(`graphql-ws ${path}: subscribed, and received the change to ${id}`);
}
