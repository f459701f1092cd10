// An upgrade of a live deployment: the data that the worker of commit 59a1748 wrote
// through its own API (e2e/fixtures/upgrade-0012, made by make.mjs there), loaded into a
// fresh folder; this worker applies migrations 0013–0015 to it and serves it.
//
// Those migrations backfill: routing keys are now found by their hash and stored sealed
// (SQLite can neither hash nor seal, so the old keys are hashed and sealed by the worker,
// not the migration), each attempt of a run has its own timeline row, and tokens record
// who minted them (older ones: unknown). The tests below run in order, as a deployment
// meets them: first events with the old keys before the scheduled handler ever ran, the
// handler sealing them, then old timelines, actions, runs and tokens. A second world
// rotates an old key before anything hashed it.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { api } from './client.mjs';
import { assertApiError, expectStatus, ROOT, seedDataDir, useWorld } from './harness.mjs';

const FIXTURE = path.join(ROOT, 'e2e/fixtures/upgrade-0012');
const world = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'world.json'), 'utf8'));
/** A worker on a new folder holding the old data, as its deployment had it. */
const upgraded = {
  data: () => seedDataDir({ d1Sql: path.join(FIXTURE, 'd1.sql'), kvJson: path.join(FIXTURE, 'kv.json') }),
  vars: { ADMIN_TOKEN: world.ADMIN_TOKEN, ENCRYPTION_KEY: world.ENCRYPTION_KEY },
};

describe('an upgrade from the data of 59a1748 (migrations 0001–0012)', () => {
  // The receiver where the old actions' endpoints are: a stored secret is only sent to its own origin.
  const { worker, receiver } = useWorld({ ...upgraded, receiver: { port: world.receiver_port } });

  const incident = (key) => world.incidents[key];
  const logOf = async (id) => {
    const entries = [];
    let cursor = null;
    do {
      const page = expectStatus(await api(worker).getLog(id, { query: { cursor } }), 200, 'log').json;
      entries.push(...page.log_entries);
      cursor = page.next_cursor;
    } while (cursor);
    return entries;
  };

  test('events with an old routing key are accepted at once, before the scheduled handler has hashed it', async () => {
    const merged = await worker.enqueue({
      routing_key: world.service.routing_key,
      event_action: 'trigger',
      dedup_key: 'checkout-5xx',
      payload: { summary: 'Checkout answers 5xx', source: 'db-1', severity: 'critical' },
    });
    expectStatus(merged, 202, 'a trigger with the old key');
    const open = expectStatus(await api(worker).getIncident(incident('checkout-5xx').id), 200, 'incident')
      .json.incident;
    assert.equal(open.event_count, incident('checkout-5xx').event_count + 1, 'merged into the old incident, not a new one');
    assert.deepEqual(open.custom_details, { region: 'eu-west-1' }, 'its details as the old worker stored them');

    const change = await api(worker).changeEnqueue({ routing_key: world.quiet_service.routing_key, payload: { summary: 'Deployed search 1.4', source: 'ci' } }, { token: null });
    expectStatus(change, 202, 'a change event with the other service old key');

    const unknown = await worker.enqueue({
      routing_key: 'R0000000000000000000000000000000',
      event_action: 'trigger',
      payload: { summary: 'x', source: 'x', severity: 'info' },
    });
    assert.equal(unknown.status, 400, 'a key no service has is still refused');
  });

  test('the scheduled handler seals the old keys: D1 holds none in clear, managers read them as before, and they still work', async () => {
    const services = [world.service, world.quiet_service];
    const read = async (service) =>
      expectStatus(await api(worker).getService(service.id), 200, 'get').json.service.routing_key;
    assert.equal(await read(world.service), world.service.routing_key, 'read as stored, before it is sealed');
    await worker.scheduled();
    const rows = await worker.query('SELECT id, routing_key FROM services');
    assert.equal(rows.length, services.length);
    for (const row of rows) {
      assert.match(row.routing_key, /^v1\./, `sealed: ${row.id}`);
      assert.ok(services.every((s) => !row.routing_key.includes(s.routing_key)), `no old key in clear: ${row.id}`);
    }
    const [{ n }] = await worker.query(`SELECT COUNT(*) AS n FROM routing_keys WHERE key_hash IN (${services.map((s) => `'${s.routing_key}'`).join(', ')})`);
    assert.equal(n, 0);
    for (const service of services) assert.equal(await read(service), service.routing_key, `${service.name}'s key read back`);
    const change = await api(worker).changeEnqueue({ routing_key: world.quiet_service.routing_key, payload: { summary: 'Deployed search 1.5', source: 'ci' } }, { token: null });
    expectStatus(change, 202, 'the sealed old key still works');
  });

  test('the old incidents list and read as they were', async () => {
    const listed = expectStatus(await api(worker).listIncidents({ query: { service_id: world.service.id } }), 200, 'list').json;
    const byKey = Object.fromEntries(listed.incidents.map((i) => [i.dedup_key, i]));
    assert.deepEqual(Object.keys(byKey).sort(), ['checkout-5xx', 'disk-full', 'queue-depth']);
    assert.equal(byKey['queue-depth'].status, 'acknowledged');
    assert.equal(byKey['disk-full'].status, 'resolved');
    assert.ok(listed.incidents.every((i) => i.custom_details === undefined), 'lists carry no custom_details');
  });

  test('an old timeline shows each attempt of a run redelivered before the upgrade, and every old entry', async () => {
    const log = await logOf(incident('checkout-5xx').id);
    const attemptsOf = (runId) =>
      log
        .filter((e) => e.type === 'action_run' && e.run?.id === runId)
        .map((e) => e.attempt)
        .sort();
    assert.deepEqual(attemptsOf(world.runs.failed), [1, 2], 'the failed run: its first send and its redelivery');
    assert.deepEqual(attemptsOf(world.runs.succeeded), [1]);
    assert.deepEqual(attemptsOf(world.runs.replied), [1]);
    const ids = new Set(log.map((e) => e.id));
    for (const old of world.old_answers.log.filter((e) => e.type !== 'action_run')) {
      assert.ok(ids.has(old.id), `old entry ${old.type} ${old.summary} is still on the timeline`);
    }
    assert.ok(
      log.some((e) => e.type === 'note' && e.summary === 'Rolled back the 14:02 deploy'),
      'the note written by hand',
    );
  });

  test('an old action, as the old worker stored it, sends its sealed secret header and signs with its old secret', async () => {
    const { restart } = world.actions;
    await receiver.addSecret(restart.signing_secret);
    const run = expectStatus(
      await api(worker).runAction(incident('checkout-5xx').id, restart.id, {}),
      201,
      'run',
    ).json.run;
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    const delivered = (await receiver.deliveries()).find((d) => d.headers['webhook-id'] === run.id);
    assert.ok(delivered, 'the receiver got the run');
    assert.equal(delivered.verified, true, 'signed with the signing secret sealed before the upgrade');
    assert.equal(delivered.headers.authorization, world.secret_header_value, 'the old sealed header, opened');
    assert.equal(delivered.headers['x-team'], 'payments');
  });

  test('a run from before the upgrade can be redelivered, and its third attempt joins the timeline', async () => {
    const again = await api(worker).redeliver(world.runs.failed, {});
    assert.ok([200, 201].includes(again.status), `${again.status} ${again.text}`);
    const log = await logOf(incident('checkout-5xx').id);
    const attempts = log.filter((e) => e.type === 'action_run' && e.run?.id === world.runs.failed).map((e) => e.attempt);
    assert.deepEqual(attempts.sort(), [1, 2, 3]);
  });

  test('a token minted before minters were recorded still works, and is revoked when its user is promoted', async () => {
    const asMember = { authorization: `Bearer ${world.member_token}` };
    expectStatus(await api(worker).getMe({ headers: asMember }), 200, 'the old token');
    const promoted = expectStatus(
      await api(worker).updateUser(world.member.id, { role: 'admin' }),
      200,
      'promote',
    ).json;
    // Its minter was not recorded then: it counts as minted by someone else.
    assert.deepEqual(
      promoted.revoked_tokens.map((t) => t.label),
      ['laptop'],
      JSON.stringify(promoted),
    );
    assertApiError(await api(worker).getMe({ headers: asMember }), 401, 'unauthorized', 'after the promotion');
  });

  test('the scheduled handler hashes what is left, and an old service rotates its key', async () => {
    await worker.scheduled();
    const old = world.quiet_service.routing_key;
    const rotated = expectStatus(
      await api(worker).rotateRoutingKey(world.quiet_service.id, { grace_hours: 1 }),
      200,
      'rotate',
    ).json.service.routing_key;
    assert.notEqual(rotated, old);
    for (const key of [old, rotated]) {
      const res = await worker.enqueue({
        routing_key: key,
        event_action: 'trigger',
        payload: { summary: 'Search is slow', source: 'search-1', severity: 'warning' },
      });
      expectStatus(res, 202, `trigger with ${key === old ? 'the old key in its grace period' : 'the new key'}`);
    }
    const rows = await worker.query('SELECT COUNT(*) AS n FROM services s WHERE NOT EXISTS (SELECT 1 FROM routing_keys k WHERE k.service_id = s.id)');
    assert.equal(rows[0].n, 0, 'every service has its key hashed');
  });
});

describe('an old key rotated before anything hashed it (no event, no scheduled run yet)', () => {
  const { worker } = useWorld({ ...upgraded, receiver: false });

  test('the old key keeps working through its grace, and the new one works at once', async () => {
    const { id, routing_key: old } = world.service;
    const [{ n: hashed }] = await worker.query(`SELECT COUNT(*) AS n FROM routing_keys WHERE service_id = '${id}'`);
    assert.equal(hashed, 0, 'the old key has no hash yet');
    const fresh = expectStatus(
      await api(worker).rotateRoutingKey(id, { grace_hours: 1 }),
      200,
      'rotate',
    ).json.service.routing_key;
    const trigger = (key) =>
      worker.enqueue({
        routing_key: key,
        event_action: 'trigger',
        dedup_key: 'checkout-5xx',
        payload: { summary: 'Checkout answers 5xx', source: 'db-1', severity: 'critical' },
      });
    expectStatus(await trigger(old), 202, 'the old key, in its grace');
    expectStatus(await trigger(fresh), 202, 'the new key');
    const [grace] = await worker.query(`SELECT expires_at FROM routing_keys WHERE service_id = '${id}' AND expires_at IS NOT NULL`);
    const hours = (grace.expires_at - Date.now()) / 3_600_000;
    assert.ok(hours > 0.9 && hours <= 1, `the old key expires in 1 h, not ${hours}`);

    // The scheduled handler changes nothing of that; its grace's end stops it.
    await worker.scheduled();
    expectStatus(await trigger(old), 202, 'still in its grace after the scheduled run');
    await worker.sql(`UPDATE routing_keys SET expires_at = ${Date.now() - 1} WHERE service_id = '${id}' AND expires_at IS NOT NULL`);
    assert.equal((await trigger(old)).status, 400, 'refused once its grace is over');
    expectStatus(await trigger(fresh), 202, 'the new key still works');
  });
});
