// Redelivery against the real worker and a real receiver: a run's kept body is sent again
// with the same webhook-id and a fresh, valid signature (checked by the receiver with the
// independent `standardwebhooks` package), to the action's current URL, as a new attempt
// of the same run. The role, the action's confirmation, Idempotency-Key, a concurrent
// second redelivery and a body past its keeping time are each tried.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { api } from './client.mjs';
import {
  assertApiError,
  expectStatus,
  newMember,
  serviceWithAction,
  sleep,
  timelineOf,
  unique,
  useWorld,
} from './harness.mjs';

const world = useWorld();

/** A service, an incident and an action POSTing to `path` of the receiver. */
const setUp = (path, fields = {}) =>
  serviceWithAction(world.worker, world.receiver, path, { name: unique('Restart'), ...fields });

async function runIt(incident, action, body = {}) {
  const res = await api(world.worker).runAction(incident.id, action.id, body);
  assert.equal(res.status, 201, res.text);
  return res.json.run;
}

const redeliver = (run, body = {}, headers = {}, who = world.worker) => api(who).redeliver(run.id, body, { headers });
const deliveriesOf = async (run) =>
  (await world.receiver.deliveries()).filter((d) => d.headers['webhook-id'] === run.id);

describe('redelivery', () => {
  test('sends the same body with the same webhook-id under a new valid signature, as attempt 2', async () => {
    const { action, incident } = await setUp('/flaky');
    const first = await runIt(incident, action);
    assert.equal(first.status, 'failed');
    assert.equal(first.http_status, 503);
    assert.equal(first.redeliverable, true);
    assert.equal(first.attempts.length, 1);
    // webhook-timestamp counts seconds: wait for the next one so the signature must change.
    await sleep(1100);

    const res = redeliverOk(await redeliver(first));
    const run = res.json.run;
    assert.equal(run.id, first.id, 'the same run');
    assert.equal(run.status, 'succeeded');
    assert.equal(run.http_status, 200);
    assert.deepEqual(
      run.attempts.map((a) => [a.number, a.status, a.http_status]),
      [
        [1, 'failed', 503],
        [2, 'succeeded', 200],
      ],
    );
    assert.ok(run.attempts.every((a) => a.requested_by && a.started_at && a.finished_at));
    assert.equal(run.started_at, run.attempts[1].started_at, 'top-level fields show the latest attempt');

    const [sent, again] = await deliveriesOf(first);
    assert.ok(sent && again, 'the receiver got both');
    assert.equal(again.body, sent.body, 'byte for byte the same body');
    assert.equal(again.headers['webhook-id'], first.id);
    assert.ok(sent.verified && again.verified, 'both signatures verify');
    assert.notEqual(again.headers['webhook-timestamp'], sent.headers['webhook-timestamp']);
    assert.notEqual(again.headers['webhook-signature'], sent.headers['webhook-signature']);

    const stored = expectStatus(await api(world.worker).getRun(first.id), 200, 'run').json.run;
    assert.deepEqual(stored.attempts, run.attempts, 'the stored run is what the answer said');

    const log = await timelineOf(world.worker, incident.id);
    const lines = log.filter((e) => e.run?.id === first.id).map((e) => [e.attempt, e.summary]);
    assert.equal(lines.length, 2, JSON.stringify(lines));
    assert.match(lines[0][1], /^Ran ".*": failed \(HTTP 503/);
    assert.match(lines[1][1], new RegExp(`^Redelivered "${action.name}" \\(attempt 2\\): succeeded \\(HTTP 200`));
  });

  test("uses the action's current URL and headers", async () => {
    const { service, action, incident } = await setUp('/status/500', {
      headers: [{ name: 'X-Team', value: 'web', secret: false }],
    });
    const first = await runIt(incident, action);
    assert.equal(first.http_status, 500);
    const moved = `/moved/${Date.now()}`;
    expectStatus(
      await api(world.worker).updateAction(service.id, action.id, {
        endpoint_url: `${world.receiver.url}${moved}`,
        headers: [{ name: 'X-Team', value: 'payments', secret: false }],
      }),
      200,
      'edit',
    );
    const run = redeliverOk(await redeliver(first)).json.run;
    assert.equal(run.status, 'succeeded');
    assert.equal(run.action_revision, 2, 'the revision now sent');
    const [sent, again] = await deliveriesOf(first);
    assert.equal(sent.path, '/status/500');
    assert.equal(again.path, moved);
    assert.equal(again.headers['x-team'], 'payments');
    assert.equal(again.body, sent.body);
  });

  test('respects the role, the confirmation and Idempotency-Key, and sends nothing when refused', async () => {
    const { action, incident } = await setUp('/status/503', {
      confirm: { message: 'This restarts production', type_to_confirm: false },
    });
    const first = await runIt(incident, action, { confirmed: true });
    assert.equal(first.status, 'failed');
    const observer = await newMember(world.worker, 'observer');
    assertApiError(await redeliver(first, { confirmed: true }, {}, observer), 403, 'forbidden', 'observer');
    assertApiError(await redeliver(first), 428, 'confirmation_required', 'unconfirmed');
    assert.equal((await deliveriesOf(first)).length, 1, 'nothing sent for the refusals');

    const responder = await newMember(world.worker, 'responder');
    const key = { 'Idempotency-Key': `redeliver-${Date.now()}` };
    const res = redeliverOk(await redeliver(first, { confirmed: true }, key, responder));
    assert.equal(res.json.run.attempts.length, 2);
    assert.equal(res.json.run.attempts[1].requested_by, responder.user.id);
    const replayed = await redeliver(first, { confirmed: true }, key, responder);
    assert.equal(replayed.status, 200, replayed.text);
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    assert.equal(replayed.json.run.attempts.length, 2, 'the replay is the same attempt');
    assert.equal((await deliveriesOf(first)).length, 2, 'the replay sent nothing');
  });

  test('two redeliveries at once: one is sent, the other is told the run is in flight', async () => {
    const { action, incident } = await setUp('/slow/1500');
    const first = await runIt(incident, action);
    const both = await Promise.all([redeliver(first), redeliver(first)]);
    const statuses = both.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 409], both.map((r) => r.text).join('\n'));
    assertApiError(both.find((r) => r.status === 409), 409, 'run_in_progress');
    assert.equal((await deliveriesOf(first)).length, 2, 'the first send and one redelivery');
  });

  test('a body past its keeping time answers 410 body_expired and sends nothing', async () => {
    const { action, incident } = await setUp('/status/503');
    const first = await runIt(incident, action);
    // Thirty days cannot pass here: the run's keeping time is moved into the past in its
    // own row, as the clock would move it.
    await world.worker.sql(`UPDATE action_runs SET body_expires_at = 1 WHERE id = '${first.id}'`);
    assertApiError(await redeliver(first), 410, 'body_expired');
    assert.equal((await deliveriesOf(first)).length, 1);
    // The scheduled handler then clears the body; the run stays.
    await world.worker.scheduled();
    const [row] = await world.worker.query(`SELECT request_body_sealed, body_expires_at FROM action_runs WHERE id = '${first.id}'`);
    assert.deepEqual(row, { request_body_sealed: null, body_expires_at: null });
    const stored = expectStatus(await api(world.worker).getRun(first.id), 200, 'run').json.run;
    assert.equal(stored.redeliverable, false);
    assertApiError(await redeliver(first), 410, 'body_expired');
  });

  test('the kept body is sealed at rest, never stored in clear', async () => {
    const { action, incident } = await setUp('/status/503', {
      headers: [{ name: 'X-Api-Key', value: 'sk_live_kept_secret_123', secret: true }],
      body_template: '{"key": "{{ secrets["X-Api-Key"] }}", "title": {{ incident.title | tojson }}}',
    });
    const first = await runIt(incident, action);
    const [sent] = await deliveriesOf(first);
    assert.match(sent.body, /sk_live_kept_secret_123/, 'the template put the secret in the body');
    const [row] = await world.worker.query(`SELECT request_body_sealed FROM action_runs WHERE id = '${first.id}'`);
    assert.match(row.request_body_sealed, /^v1\./, 'sealed');
    assert.doesNotMatch(row.request_body_sealed, /sk_live_kept_secret_123|Checkout down/);
    const again = redeliverOk(await redeliver(first)).json.run;
    assert.doesNotMatch(JSON.stringify(again), /sk_live_kept_secret_123/);
    const [, resent] = await deliveriesOf(first);
    assert.equal(resent.body, sent.body);
  });

  test('an unknown run is 404', async () => {
    assertApiError(await redeliver({ id: 'run_missing' }), 404, 'not_found');
  });
});

function redeliverOk(res) {
  assert.equal(res.status, 201, res.text);
  return res;
}
