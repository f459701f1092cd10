// The e2e client covers the worker's routes: one function per route of the route table
// (shared/fixtures/authorization.json, written from shared/src/routes.rs), and none for
// a route that does not exist, so a new route cannot go untested by omission.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { api, paths, routes } from './client.mjs';
import { ROOT } from './harness.mjs';

const table = JSON.parse(fs.readFileSync(path.join(ROOT, 'shared/fixtures/authorization.json'), 'utf8')).routes;
const key = (method, template) => `${method} ${template}`;

test('every route of the route table has a client function, and every client function a route', () => {
  const fromTable = table.map((r) => key(r.method, r.path)).sort();
  const fromClient = routes.map((r) => key(r.method, r.template)).sort();
  assert.deepEqual(fromClient, fromTable);
  const client = api(() => {});
  for (const route of routes) {
    assert.equal(typeof client[route.name], 'function', route.name);
    assert.equal(typeof paths[route.name], 'function', route.name);
  }
});

test('a client function puts its path parameters, body, query and headers where the route wants them', async () => {
  const sent = [];
  const client = api((...call) => (sent.push(call), { status: 200 }), { headers: { 'x-default': 'd' } });
  await client.runAction('inc_1', 'act_2', { inputs: {} }, { headers: { 'idempotency-key': 'k' } });
  await client.listIncidents({ query: { service_id: 'svc_3', status: undefined }, token: 't' });
  await client.signOut({ token: null });
  assert.deepEqual(sent, [
    ['POST', '/api/incidents/inc_1/actions/act_2/runs', { inputs: {} }, { 'x-default': 'd', 'idempotency-key': 'k' }],
    ['GET', '/api/incidents?service_id=svc_3', undefined, { authorization: 'Bearer t', 'x-default': 'd' }],
    ['DELETE', '/api/session', undefined, { authorization: null, 'x-default': 'd' }],
  ]);
  assert.equal(paths.getIncident('does-not-exist'), '/api/incidents/does-not-exist');
  assert.throws(() => client.getIncident(), /needs incident/);
});
