// The endpoint guard (SSRF protection) through the real worker: on save, every URL of the
// shared table (shared/fixtures/endpoint_cases.json, the same list the native test in
// shared/src/endpoint.rs checks) is refused with 422 endpoint_not_allowed naming its rule,
// or accepted with 201; at send time, a stored URL that the rules in force now refuse is
// recorded as a `blocked` run and nothing reaches the endpoint.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { api } from './client.mjs';
import {
  assertApiError,
  createAction,
  createService,
  ROOT,
  startReceiver,
  startWorker,
  triggerIncident,
  unique,
  useWorld,
} from './harness.mjs';

const table = JSON.parse(fs.readFileSync(path.join(ROOT, 'shared/fixtures/endpoint_cases.json'), 'utf8'));

describe('on save, under the table policy', () => {
  const { worker } = useWorld({
    vars: { PRIVATE_ENDPOINT_ALLOWLIST: table.private_endpoint_allowlist, OWN_HOSTS: table.own_hosts },
    receiver: false,
  });
  let service;
  before(async () => {
    service = await createService(worker);
  });

  test('the session settings carry OWN_HOSTS, so the form applies the same rules', async () => {
    const res = await api(worker).getSession();
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.settings.own_hosts, table.own_hosts);
    assert.equal(res.json.settings.private_endpoint_allowlist, table.private_endpoint_allowlist);
  });

  test('every refused URL of the table is 422 endpoint_not_allowed naming its rule, and nothing is stored', async () => {
    assert.ok(table.refused.length >= 40, 'the table covers every rule');
    for (const { url, rule } of table.refused) {
      const res = await api(worker).createAction(service.id, { name: unique('Guarded'), endpoint_url: url });
      const error = assertApiError(res, 422, 'endpoint_not_allowed', JSON.stringify(url));
      const field = error.fields.find((f) => f.field === 'endpoint_url');
      assert.ok(field, `a field error on endpoint_url for ${JSON.stringify(url)}: ${res.text}`);
      assert.ok(field.message.includes(rule), `${JSON.stringify(url)}: expected ${JSON.stringify(rule)} in ${JSON.stringify(field.message)}`);
      assert.equal(error.message, field.message, 'the answer leads with the rule');
    }
    const list = await api(worker).listActions(service.id);
    assert.deepEqual(list.json.actions, []);
  });

  test('every accepted URL of the table is 201', async () => {
    for (const url of table.accepted) {
      const res = await api(worker).createAction(service.id, { name: unique('Allowed'), endpoint_url: url });
      assert.equal(res.status, 201, `${url}: ${res.text}`);
      // Free the slot: a service holds at most three actions.
      const removed = await api(worker).deleteAction(service.id, res.json.action.id);
      assert.equal(removed.status, 204, removed.text);
    }
  });

  test('an edit to a refused URL is 422 endpoint_not_allowed and changes nothing', async () => {
    const action = await createAction(worker, service.id, { endpoint_url: 'https://hooks.example.com/x' });
    const res = await api(worker).updateAction(service.id, action.id, { endpoint_url: 'https://0x7f.1:8443/x' });
    const error = assertApiError(res, 422, 'endpoint_not_allowed');
    assert.match(error.message, /Endpoint host 127\.0\.0\.1 is a loopback address \(127\.0\.0\.0\/8\)/);
    const read = await api(worker).getAction(service.id, action.id);
    assert.equal(read.json.action.endpoint_url, 'https://hooks.example.com/x');
    await api(worker).deleteAction(service.id, action.id);
  });
});

describe('at send time', () => {
  let first;
  let second;
  let receiver;
  after(async () => {
    await Promise.all([first?.stop(), second?.stop(), receiver?.stop()]);
  });

  // A stored URL can become refused without anyone editing it: the operator narrows
  // PRIVATE_ENDPOINT_ALLOWLIST or adds to OWN_HOSTS, or a new version tightens a rule. This
  // does exactly that: the action is saved (and runs) on a worker whose allowlist holds the
  // loopback receiver; the same data is then served by a worker started without it, as a
  // redeploy with a changed setting would. The URL itself is never touched.
  test('a stored URL the rules in force now refuse is recorded as blocked and nothing is sent', async () => {
    [first, receiver] = await Promise.all([startWorker(), startReceiver()]);
    const service = await createService(first);
    const action = await createAction(first, service.id, { name: 'Restart', endpoint_url: `${receiver.url}/ok` });
    await receiver.addSecret(action.signing_secret);
    const incident = await triggerIncident(first, service);

    const allowed = await api(first).runAction(incident.id, action.id);
    assert.equal(allowed.status, 201, allowed.text);
    assert.equal(allowed.json.run.outcome, 'success', 'while allowed, the same action reaches the receiver');
    assert.equal((await receiver.deliveries()).length, 1);

    const { persistDir, encryptionKey } = first;
    await first.stop({ keepData: true });
    first = null;
    second = await startWorker({ persistDir, vars: { ENCRYPTION_KEY: encryptionKey, PRIVATE_ENDPOINT_ALLOWLIST: '' } });
    await receiver.clearDeliveries();

    const res = await api(second).runAction(incident.id, action.id);
    assert.equal(res.status, 201, res.text);
    const { run } = res.json;
    assert.equal(run.status, 'failed');
    assert.equal(run.outcome, 'blocked');
    assert.equal(run.http_status, null);
    assert.equal(run.duration_ms, null, 'nothing was sent, so nothing was timed');
    assert.equal(run.request_headers, null, 'nothing was sent, so no headers are recorded');
    assert.match(run.response_excerpt, /must use https:\/\/ \(plain http is allowed only for hosts in PRIVATE_ENDPOINT_ALLOWLIST\)/);
    assert.deepEqual(await receiver.deliveries(), [], 'the receiver got nothing');

    const stored = await api(second).getRun(run.id);
    assert.deepEqual(stored.json.run, run);
    const log = await api(second).getLog(incident.id);
    const entry = log.json.log_entries.find((e) => e.run?.id === run.id);
    assert.ok(entry, `a timeline entry for the blocked run: ${log.text.slice(0, 2000)}`);
    assert.match(entry.summary, /^Did not run "Restart": blocked, nothing was sent\. Endpoint URL must use https:\/\//);
  });
});
