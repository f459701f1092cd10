// A per-action deadline (`timeout_ms`) against the real worker and a real receiver whose
// `/slow/<ms>` answers after that long: a run gives up at its action's deadline, not the
// longest one, says so in its outcome, excerpt and timeline line, and tells the endpoint
// its deadline in the payload. The range (1000 to 16000 ms) is checked at its boundaries
// here as the API answers it; the rule itself is covered by native tests in
// shared/src/action/settings.rs.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { api } from './client.mjs';
import { createService, expectStatus, fieldErrors, serviceWithAction, timelineOf, useWorld } from './harness.mjs';

const world = useWorld();

describe('a per-action deadline', () => {
  test('left out it is the longest, 16000 ms; 1000 and 16000 are accepted, 999 and 16001 are not', async () => {
    const service = await createService(world.worker);
    const create = (fields) =>
      api(world.worker).createAction(service.id, { name: `T${fields.timeout_ms ?? 'x'}`, endpoint_url: `${world.receiver.url}/ok`, ...fields });
    for (const refused of [999, 16_001]) {
      const errors = fieldErrors(await create({ timeout_ms: refused }), `timeout_ms ${refused}`);
      assert.deepEqual(Object.keys(errors), ['timeout_ms']);
      assert.match(errors.timeout_ms, /1 to 16 seconds/);
    }
    const shortest = expectStatus(await create({ timeout_ms: 1000 }), 201, '1000').json.action;
    assert.equal(shortest.timeout_ms, 1000);
    const plain = expectStatus(await create({}), 201, 'left out').json.action;
    assert.equal(plain.timeout_ms, 16_000);
    const patched = await api(world.worker).updateAction(service.id, plain.id, { timeout_ms: 16_000 });
    assert.equal(expectStatus(patched, 200, 'patch 16000').json.action.timeout_ms, 16_000);
    const refused = await api(world.worker).updateAction(service.id, shortest.id, { timeout_ms: 16_001 });
    assert.deepEqual(Object.keys(fieldErrors(refused, 'patch 16001')), ['timeout_ms']);
    const kept = expectStatus(await api(world.worker).getAction(service.id, shortest.id), 200, 'get').json.action;
    assert.equal(kept.timeout_ms, 1000, 'a refused edit changes nothing');
  });

  test('a run gives up at its action deadline and names it; the endpoint is told its deadline', async () => {
    const { action, incident } = await serviceWithAction(world.worker, world.receiver, '/slow/4000', {
      name: 'Quick restart',
      timeout_ms: 1500,
    });
    const res = await api(world.worker).runAction(incident.id, action.id, {});
    const run = expectStatus(res, 201, 'run').json.run;
    assert.equal(run.status, 'failed');
    assert.equal(run.outcome, 'timeout');
    assert.equal(run.duration_ms, 1500, 'a timeout waited its deadline');
    assert.ok(res.ms < 3500, `answered after ${res.ms} ms, before the endpoint's 4 s answer`);
    assert.equal(run.response_excerpt, 'The endpoint did not answer within 1.5 seconds');

    const sent = (await world.receiver.deliveries()).find((d) => d.headers['webhook-id'] === run.id);
    assert.ok(sent, 'the request was sent');
    assert.equal(JSON.parse(sent.body).event.action.timeout_ms, 1500);

    const line = (await timelineOf(world.worker, incident.id)).find((e) => e.summary?.includes('Quick restart'));
    assert.equal(line?.summary, 'Ran "Quick restart": failed: no answer within 1.5 s');
  });

  test('an answer inside the deadline succeeds', async () => {
    const { action, incident } = await serviceWithAction(world.worker, world.receiver, '/slow/300', { timeout_ms: 3000 });
    const run = expectStatus(await api(world.worker).runAction(incident.id, action.id, {}), 201, 'run').json.run;
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
  });
});
