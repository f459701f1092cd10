// An action's run history and endpoint health against the real worker and a real
// receiver: the pages (limit, opaque cursor) and the figures at their boundaries: 2 and 3
// failures in a row, and the 50-run window of the success rate and median.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { api } from './client.mjs';
import {
  assertApiError,
  createService,
  expectStatus,
  newMember,
  serviceWithAction,
  unique,
  useWorld,
} from './harness.mjs';

const world = useWorld({
  // Fifty-odd runs in a few seconds: the per-user run limit is raised for this worker.
  vars: { RUNS_PER_MINUTE_PER_USER: '1000' },
});

const setUp = (path) => serviceWithAction(world.worker, world.receiver, path, { name: unique('Restart') });

async function runIt(incident, action) {
  const res = await api(world.worker).runAction(incident.id, action.id, {});
  assert.equal(res.status, 201, res.text);
  return res.json.run;
}

async function moveTo(service, action, path) {
  expectStatus(
    await api(world.worker).updateAction(service.id, action.id, {
      endpoint_url: `${world.receiver.url}${path}`,
    }),
    200,
    'move endpoint',
  );
}

const healthOf = async (service, action) => {
  const listed = expectStatus(await api(world.worker).listActions(service.id), 200, 'list').json.actions;
  return listed.find((a) => a.id === action.id).health;
};
const buttonHealth = async (incident, action) => {
  const page = expectStatus(await api(world.worker).getIncident(incident.id), 200, 'incident').json.incident;
  return page.actions.find((a) => a.id === action.id).health;
};
const history = (service, action, query = {}, who = world.worker) => api(who).listActionRuns(service.id, action.id, { query });

describe('endpoint health', () => {
  test('two failures in a row do not warn; the third does; a success clears it', async () => {
    const { service, action, incident } = await setUp('/status/503');
    assert.deepEqual(await healthOf(service, action), {
      recent_failures: 0,
      last_outcome: null,
      last_http_status: null,
      last_run_at: null,
    });
    await runIt(incident, action);
    const second = await runIt(incident, action);
    const two = await healthOf(service, action);
    assert.equal(two.recent_failures, 2);
    assert.equal(two.last_outcome, 'http_error');
    assert.equal(two.last_http_status, 503);
    assert.equal(two.last_run_at, second.finished_at);

    await runIt(incident, action);
    assert.equal((await healthOf(service, action)).recent_failures, 3);
    assert.equal((await buttonHealth(incident, action)).recent_failures, 3, 'the incident buttons see it too');
    const one = expectStatus(
      await api(world.worker).getAction(service.id, action.id),
      200,
      'one action',
    ).json.action;
    assert.deepEqual(one.health, await healthOf(service, action), 'one action answers the health the list shows');
    // Never disabled for failing: it still runs.
    const listed = expectStatus(await api(world.worker).listActions(service.id), 200, 'list').json.actions;
    assert.equal(listed.find((a) => a.id === action.id).enabled, true);

    await moveTo(service, action, '/ok');
    await runIt(incident, action);
    const healed = await healthOf(service, action);
    assert.equal(healed.recent_failures, 0);
    assert.equal(healed.last_outcome, 'success');
    assert.equal(healed.last_http_status, 200);
  });
});

describe('run history', () => {
  let fixture;
  const runs = [];

  before(async () => {
    // 3 failures, then 49 successes: 52 runs, the newest 50 finished of them hold 1
    // failure.
    fixture = await setUp('/status/500');
    for (let i = 0; i < 3; i++) runs.push(await runIt(fixture.incident, fixture.action));
    await moveTo(fixture.service, fixture.action, '/ok');
    for (let i = 0; i < 49; i++) runs.push(await runIt(fixture.incident, fixture.action));
  });

  test('the figures cover the newest 50 finished runs', async () => {
    const { service, action, incident } = fixture;
    const page = expectStatus(await history(service, action, { limit: 1 }), 200, 'history').json;
    assert.deepEqual([page.stats.finished, page.stats.succeeded], [50, 49]);
    assert.ok(page.stats.p50_duration_ms >= 0);
    // One more success pushes the last failure out of the window.
    runs.push(await runIt(incident, action));
    const after = expectStatus(await history(service, action, { limit: 1 }), 200, 'history').json;
    assert.deepEqual([after.stats.finished, after.stats.succeeded], [50, 50]);
  });

  test('pages run newest first, 25 by default, and a cursor continues exactly where the last page ended', async () => {
    const { service, action } = fixture;
    const newestFirst = runs.map((r) => r.id).reverse();
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const page = expectStatus(await history(service, action, { cursor }), 200, `page ${pages}`).json;
      assert.ok(page.runs.length <= 25);
      seen.push(...page.runs.map((r) => r.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    assert.equal(pages, Math.ceil(runs.length / 25));
    assert.deepEqual(seen, newestFirst);
  });

  test('limit is 1 to 100; a page of exactly the runs left has no next cursor', async () => {
    const { service, action } = fixture;
    const total = runs.length;
    const all = expectStatus(await history(service, action, { limit: 100 }), 200, 'limit 100').json;
    assert.equal(all.runs.length, total);
    assert.equal(all.next_cursor, null);
    const exact = expectStatus(await history(service, action, { limit: total }), 200, 'exact').json;
    assert.equal(exact.next_cursor, null);
    const short = expectStatus(await history(service, action, { limit: total - 1 }), 200, 'one short').json;
    assert.equal(typeof short.next_cursor, 'string');
    const rest = expectStatus(
      await history(service, action, { limit: total - 1, cursor: short.next_cursor }),
      200,
      'rest',
    ).json;
    assert.deepEqual(
      rest.runs.map((r) => r.id),
      [runs[0].id],
    );
    assert.equal(rest.next_cursor, null);
    for (const bad of ['0', '101', 'ten']) {
      assertApiError(await history(service, action, { limit: bad }), 400, 'invalid_limit', bad);
    }
    assertApiError(await history(service, action, { cursor: 'not-ours' }), 400, 'invalid_cursor');
  });

  test('responders and up read it; an action of another service is 404', async () => {
    const { service, action } = fixture;
    const observer = await newMember(world.worker, 'observer');
    assertApiError(await history(service, action, {}, observer), 403, 'forbidden');
    const responder = await newMember(world.worker, 'responder');
    expectStatus(await history(service, action, { limit: 10 }, responder), 200, 'responder');
    const other = await createService(world.worker);
    assertApiError(await history(other, action), 404, 'not_found');
  });
});
