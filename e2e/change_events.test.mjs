// Change events (`POST /v2/change/enqueue`, PagerDuty's Change Events API), against the
// real worker and a real receiver: PagerDuty's answers, the per-service list, the changes
// of the 24 hours before an incident on the incident, and in a delivered payload, where a
// "Revert last commit" endpoint finds the commit.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { assertApiError, createService, expectStatus, request, startReceiver, startWorker, triggerIncident } from './harness.mjs';

let worker;
let receiver;

before(async () => {
  [worker, receiver] = await Promise.all([startWorker(), startReceiver()]);
});
after(async () => {
  await Promise.all([worker?.stop(), receiver?.stop()]);
});

const HOUR_MS = 3_600_000;
const changeEvent = (service, summary, { hoursAgo = 1, commit = 'a1b2c3' } = {}) =>
  request('POST', `${worker.baseUrl}/v2/change/enqueue`, {
    routing_key: service.routing_key,
    payload: {
      summary,
      source: 'github.com/shop/checkout',
      timestamp: new Date(Date.now() - hoursAgo * HOUR_MS).toISOString(),
      custom_details: { commit, author: 'ada' },
    },
    links: [{ href: `https://github.com/shop/checkout/commit/${commit}`, text: commit }],
  });

describe('change events', () => {
  test('are accepted with PagerDuty\'s answer and listed per service, newest first', async () => {
    const service = await createService(worker);
    const accepted = await changeEvent(service, 'Deployed v40', { hoursAgo: 3 });
    assert.equal(accepted.status, 202, accepted.text);
    assert.deepEqual(accepted.json, { status: 'success', message: 'Change event processed' });
    expectStatus(await changeEvent(service, 'Deployed v41', { hoursAgo: 2 }), 202, 'second');
    const { changes } = expectStatus(await worker.api('GET', `/api/services/${service.id}/changes`), 200, 'list').json;
    assert.deepEqual(changes.map((c) => c.summary), ['Deployed v41', 'Deployed v40']);
    assert.equal(changes[0].source, 'github.com/shop/checkout');
    assert.deepEqual(changes[0].custom_details, { commit: 'a1b2c3', author: 'ada' });
    assert.equal(changes[0].links[0].text, 'a1b2c3');
    const one = expectStatus(await worker.api('GET', `/api/services/${service.id}/changes?limit=1`), 200, 'limit 1').json;
    assert.deepEqual(one.changes.map((c) => c.summary), ['Deployed v41']);
    expectStatus(await worker.api('GET', `/api/services/${service.id}/changes?limit=100`), 200, 'limit 100');
    for (const bad of ['0', '101', 'ten']) {
      assertApiError(await worker.api('GET', `/api/services/${service.id}/changes?limit=${bad}`), 400, 'invalid_query', `limit=${bad}`);
    }
  });

  test('bad events get PagerDuty\'s 400, and nothing is stored', async () => {
    const service = await createService(worker);
    const invalid = await request('POST', `${worker.baseUrl}/v2/change/enqueue`, { routing_key: service.routing_key, payload: {} });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.json.status, 'invalid event');
    assert.deepEqual(invalid.json.errors, ["'payload.summary' is missing or blank"]);
    const unknown = await request('POST', `${worker.baseUrl}/v2/change/enqueue`, {
      routing_key: 'f'.repeat(32),
      payload: { summary: 'x' },
    });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.errors[0], /does not match any service/);
    const big = await request('POST', `${worker.baseUrl}/v2/change/enqueue`, {
      routing_key: service.routing_key,
      payload: { summary: 'big', custom_details: { blob: 'x'.repeat(600 * 1024) } },
    });
    assert.equal(big.status, 413);
    const { changes } = expectStatus(await worker.api('GET', `/api/services/${service.id}/changes`), 200, 'list').json;
    assert.deepEqual(changes, []);
  });

  test('an incident shows the changes of the 24 hours before it, and a delivered payload carries them', async () => {
    const service = await createService(worker);
    expectStatus(await changeEvent(service, 'Too old', { hoursAgo: 25, commit: 'old' }), 202, 'old');
    expectStatus(await changeEvent(service, 'Deployed v41', { hoursAgo: 1, commit: 'c0ffee' }), 202, 'recent');
    const other = await createService(worker);
    expectStatus(await changeEvent(other, 'Another service', { hoursAgo: 1 }), 202, 'other service');
    const incident = await triggerIncident(worker, service);
    assert.deepEqual(incident.recent_changes.map((c) => c.summary), ['Deployed v41']);
    // A change after the incident opened did not cause it.
    expectStatus(await changeEvent(service, 'Later', { hoursAgo: -1 }), 202, 'later');
    const again = expectStatus(await worker.api('GET', `/api/incidents/${incident.id}`), 200, 'incident').json.incident;
    assert.deepEqual(again.recent_changes.map((c) => c.summary), ['Deployed v41']);

    const action = expectStatus(
      await worker.api('POST', `/api/services/${service.id}/actions`, {
        name: 'Revert last commit',
        endpoint_url: `${receiver.url}/revert`,
        body_template: '{"commit": {{ incident.recent_changes[0].custom_details.commit | tojson }}}',
      }),
      201,
      'revert action',
    ).json.action;
    await receiver.addSecret(action.signing_secret);
    expectStatus(await worker.api('POST', `/api/incidents/${incident.id}/actions/${action.id}/runs`), 201, 'run');
    const [delivery] = (await receiver.deliveries()).filter((d) => d.path === '/revert');
    assert.equal(delivery.verified, true);
    assert.deepEqual(JSON.parse(delivery.body), { commit: 'c0ffee' });
  });

  test('at most 10 are shown on an incident, newest first', async () => {
    const service = await createService(worker);
    for (let i = 1; i <= 11; i++) {
      expectStatus(await changeEvent(service, `Change ${i}`, { hoursAgo: 12 - i }), 202, `change ${i}`);
    }
    const incident = await triggerIncident(worker, service);
    assert.equal(incident.recent_changes.length, 10);
    assert.equal(incident.recent_changes[0].summary, 'Change 11');
    assert.equal(incident.recent_changes[9].summary, 'Change 2');
  });
});
