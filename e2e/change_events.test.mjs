// Change events (`POST /v2/change/enqueue`, PagerDuty's Change Events API), against the
// real worker and a real receiver: PagerDuty's answers, the per-service list, the changes
// of the 24 hours before an incident on the incident, and in a delivered payload, where a
// "Revert last commit" endpoint finds the commit. They do not pile up: a default payload
// stays within 256 KiB by leaving out the oldest changes, and the cron forgets changes
// older than 7 days and keeps a service at MAX_CHANGE_EVENTS_PER_SERVICE (here 3).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { api } from './client.mjs';
import { assertApiError, createService, expectStatus, triggerIncident, useWorld } from './harness.mjs';

const CHANGE_CAP = 3;
const { worker, receiver } = useWorld({ vars: { MAX_CHANGE_EVENTS_PER_SERVICE: String(CHANGE_CAP) } });
/** Monitors and CI send change events without credentials. */
const anonymous = api(worker, { token: null });

const HOUR_MS = 3_600_000;
const changeEvent = (service, summary, { hoursAgo = 1, commit = 'a1b2c3' } = {}) =>
  anonymous.changeEnqueue({
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
    const { changes } = expectStatus(await api(worker).listChanges(service.id), 200, 'list').json;
    assert.deepEqual(changes.map((c) => c.summary), ['Deployed v41', 'Deployed v40']);
    assert.equal(changes[0].source, 'github.com/shop/checkout');
    assert.deepEqual(changes[0].custom_details, { commit: 'a1b2c3', author: 'ada' });
    assert.equal(changes[0].links[0].text, 'a1b2c3');
    const one = expectStatus(await api(worker).listChanges(service.id, { query: { limit: 1 } }), 200, 'limit 1').json;
    assert.deepEqual(one.changes.map((c) => c.summary), ['Deployed v41']);
    expectStatus(await api(worker).listChanges(service.id, { query: { limit: 100 } }), 200, 'limit 100');
    for (const bad of ['0', '101', 'ten']) {
      assertApiError(await api(worker).listChanges(service.id, { query: { limit: bad } }), 400, 'invalid_query', `limit=${bad}`);
    }
  });

  test('bad events get PagerDuty\'s 400, and nothing is stored', async () => {
    const service = await createService(worker);
    const invalid = await anonymous.changeEnqueue({ routing_key: service.routing_key, payload: {} });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.json.status, 'invalid event');
    assert.deepEqual(invalid.json.errors, ["'payload.summary' is missing or blank"]);
    const unknown = await anonymous.changeEnqueue({
      routing_key: 'f'.repeat(32),
      payload: { summary: 'x' },
    });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.errors[0], /does not match any service/);
    const big = await anonymous.changeEnqueue({
      routing_key: service.routing_key,
      payload: { summary: 'big', custom_details: { blob: 'x'.repeat(600 * 1024) } },
    });
    assert.equal(big.status, 413);
    const { changes } = expectStatus(await api(worker).listChanges(service.id), 200, 'list').json;
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
    const again = expectStatus(await api(worker).getIncident(incident.id), 200, 'incident').json.incident;
    assert.deepEqual(again.recent_changes.map((c) => c.summary), ['Deployed v41']);

    const action = expectStatus(
      await api(worker).createAction(service.id, {
        name: 'Revert last commit',
        endpoint_url: `${receiver.url}/revert`,
        body_template: '{"commit": {{ incident.recent_changes[0].custom_details.commit | tojson }}}',
      }),
      201,
      'revert action',
    ).json.action;
    await receiver.addSecret(action.signing_secret);
    expectStatus(await api(worker).runAction(incident.id, action.id), 201, 'run');
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

const DAY_MS = 24 * HOUR_MS;
const PAYLOAD_LIMIT = 256 * 1024;

/** Sends a change event that happened at `at` (ms), with `details` as its custom_details. */
function changeAt(service, summary, at, details = {}) {
  return anonymous.changeEnqueue({
    routing_key: service.routing_key,
    payload: { summary, source: 'ci', timestamp: new Date(at).toISOString(), custom_details: details },
  });
}

async function changesOf(service) {
  const { changes } = expectStatus(await api(worker).listChanges(service.id, { query: { limit: 100 } }), 200, 'list').json;
  return changes.map((c) => c.summary);
}

describe('change events do not pile up', () => {
  test('a default payload past 256 KiB leaves out the oldest changes and says so', async () => {
    const service = await createService(worker);
    // Ten changes of 60 KiB each: about 600 KiB in all, of which four fit.
    for (let i = 1; i <= 10; i++) {
      const sent = await changeAt(service, `Deploy ${i}`, Date.now() - (11 - i) * HOUR_MS, { diff: 'd'.repeat(60 * 1024) });
      expectStatus(sent, 202, `change ${i}`);
    }
    const incident = await triggerIncident(worker, service);
    assert.equal(incident.recent_changes.length, 10, 'the incident itself shows all ten');
    const action = expectStatus(
      await api(worker).createAction(service.id, { name: 'Collect', endpoint_url: `${receiver.url}/collect` }),
      201,
      'action',
    ).json.action;
    await receiver.addSecret(action.signing_secret);
    const run = expectStatus(await api(worker).runAction(incident.id, action.id), 201, 'run').json.run;
    const [delivery] = (await receiver.deliveries()).filter((d) => d.headers['webhook-id'] === run.id);
    assert.equal(delivery.verified, true);
    assert.ok(Buffer.byteLength(delivery.body) <= PAYLOAD_LIMIT, `${Buffer.byteLength(delivery.body)} bytes sent`);
    const { data } = JSON.parse(delivery.body).event;
    assert.equal(data.recent_changes_truncated, true);
    assert.deepEqual(data.recent_changes.map((c) => c.summary), ['Deploy 10', 'Deploy 9', 'Deploy 8', 'Deploy 7'], 'the newest, newest first');

    // With small changes nothing is left out, and the payload does not carry the flag.
    const small = await createService(worker);
    expectStatus(await changeAt(small, 'Deploy small', Date.now() - HOUR_MS), 202, 'small change');
    const calm = await triggerIncident(worker, small);
    const other = expectStatus(
      await api(worker).createAction(small.id, { name: 'Collect', endpoint_url: `${receiver.url}/collect` }),
      201,
      'action',
    ).json.action;
    await receiver.addSecret(other.signing_secret);
    const whole = expectStatus(await api(worker).runAction(calm.id, other.id), 201, 'run').json.run;
    const [sentWhole] = (await receiver.deliveries()).filter((d) => d.headers['webhook-id'] === whole.id);
    const wholeData = JSON.parse(sentWhole.body).event.data;
    assert.deepEqual(wholeData.recent_changes.map((c) => c.summary), ['Deploy small']);
    assert.equal('recent_changes_truncated' in wholeData, false);
  });

  test('the cron forgets change events that happened more than 7 days ago', async () => {
    const service = await createService(worker);
    const now = Date.now();
    expectStatus(await changeAt(service, 'Eight days ago', now - 8 * DAY_MS), 202, 'old');
    expectStatus(await changeAt(service, 'Almost a week ago', now - 7 * DAY_MS + HOUR_MS), 202, 'almost a week');
    expectStatus(await changeAt(service, 'Today', now - HOUR_MS), 202, 'today');
    expectStatus(await changeAt(service, 'Aged', now - HOUR_MS), 202, 'to be aged');
    // Time passes for one of them: it happened a week and an hour ago.
    await worker.sql(
      `UPDATE change_events SET occurred_at = occurred_at - ${7 * DAY_MS} WHERE service_id = '${service.id}' AND summary = 'Aged'`,
    );
    assert.deepEqual(await changesOf(service), ['Today', 'Almost a week ago', 'Aged', 'Eight days ago'], 'nothing goes before the cron');
    await worker.scheduled('* * * * *');
    assert.deepEqual(await changesOf(service), ['Today', 'Almost a week ago']);
  });

  test(`the hourly cron keeps each service's newest ${CHANGE_CAP} change events`, async () => {
    const [busy, quiet] = [await createService(worker), await createService(worker)];
    const now = Date.now();
    // Two share a timestamp: the one that arrived later counts as newer, as the list shows.
    const sent = [
      ['v1', now - 5 * HOUR_MS],
      ['v2', now - 3 * HOUR_MS],
      ['v3', now - 3 * HOUR_MS],
      ['v4', now - 2 * HOUR_MS],
      ['v5', now - HOUR_MS],
    ];
    for (const [summary, at] of sent) expectStatus(await changeAt(busy, summary, at), 202, summary);
    for (const summary of ['q1', 'q2', 'q3']) expectStatus(await changeAt(quiet, summary, now - HOUR_MS), 202, summary);
    assert.deepEqual(await changesOf(busy), ['v5', 'v4', 'v3', 'v2', 'v1']);
    await worker.scheduled('* * * * *');
    assert.equal((await changesOf(busy)).length, 5, 'the minutely cron does not count them');
    await worker.scheduled('17 * * * *');
    assert.deepEqual(await changesOf(busy), ['v5', 'v4', 'v3'], 'the two oldest are gone');
    assert.deepEqual(await changesOf(quiet), ['q3', 'q2', 'q1'], 'a service at the cap keeps all');
    await worker.scheduled('17 * * * *');
    assert.deepEqual(await changesOf(busy), ['v5', 'v4', 'v3'], 'at the cap, nothing more goes');
  });
});
