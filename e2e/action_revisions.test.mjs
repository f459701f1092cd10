// Actions you can trust: every change is a new immutable revision in KV, and the D1 row
// (`action_slots`) the one compare-and-swap point. Concurrent edits and deletes never
// lose an update, resurrect a deleted action or leak one of a service's three places; a
// stale revision is refused with the current state; a damaged record or a forgotten
// encryption key makes one action unreadable, never a page; an idempotent replay is
// answered before any refusal; secrets do not follow an endpoint to another origin, nor
// come back in an echoed answer; and a run costs a counted number of storage round trips.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';

import { api } from './client.mjs';
import {
  assertApiError,
  createAction,
  createService,
  fieldErrors,
  signInSession,
  sleep,
  startReceiver,
  startWorker,
  triggerIncident,
  unique,
  useWorld,
} from './harness.mjs';

const SECRET_HEADER_VALUE = 'Bearer revisions-secret-9d2e41';

const { worker, receiver } = useWorld();

const patch = (w, action, body, headers = {}) => api(w).updateAction(action.service_id, action.id, body, { headers });
const runAction = (w, incident, action, headers = {}) =>
  api(w).runAction(incident.id, action.id, undefined, { headers: headers });
const idempotencyKey = (prefix) => ({ 'idempotency-key': unique(prefix).replace(/\s/g, '-') });

async function getAction(w, action) {
  const res = await api(w).getAction(action.service_id, action.id);
  assert.equal(res.status, 200, res.text);
  return res.json.action;
}

async function listActions(w, serviceId) {
  const res = await api(w).listActions(serviceId);
  assert.equal(res.status, 200, res.text);
  return res.json.actions;
}

async function deliveriesAt(path, r = receiver) {
  return (await r.deliveries()).filter((d) => d.path === path);
}

async function deliveriesOf(runId, r = receiver) {
  return (await r.deliveries()).filter((d) => d.headers['webhook-id'] === runId);
}

/** A service with an incident and one action pointing at `path` on the receiver. */
async function setup(path, fields = {}, w = worker) {
  const service = await createService(w);
  const action = await createAction(w, service.id, { endpoint_url: `${receiver.url}${path}`, ...fields });
  await receiver.addSecret(action.signing_secret);
  const incident = await triggerIncident(w, service);
  return { service, action, incident };
}

describe('revisions on every action', () => {
  test('a new action is at revision 1 and healthy, and each edit or rotation adds exactly one', async () => {
    const { action } = await setup('/rev/basic');
    assert.equal(action.revision, 1);
    assert.equal(action.config_health, 'ok');
    assert.equal(action.config_problem, undefined, 'no problem on a healthy action');
    const edited = await patch(worker, action, { description: 'one' });
    assert.equal(edited.status, 200, edited.text);
    assert.equal(edited.json.action.revision, 2);
    const rotated = await api(worker).rotateSecret(action.service_id, action.id);
    assert.equal(rotated.status, 200, rotated.text);
    const now = await getAction(worker, action);
    assert.equal(now.revision, 3);
    assert.equal(now.description, 'one');
    assert.equal((await listActions(worker, action.service_id))[0].revision, 3);
  });
});

describe('an edit racing a delete', () => {
  /** Calls `fn` after `extra` + 0..30 ms. */
  const jittered = (fn, extra = 0) => sleep(extra + Math.floor(Math.random() * 30)).then(fn);

  test('in every round the deleted action stays deleted: not listed, not run, nothing sent after the delete', async () => {
    const ROUNDS = 20;
    const service = await createService(worker);
    const incident = await triggerIncident(worker, service);
    const outcomes = { patch: {}, concurrentRuns: {} };
    for (let round = 0; round < ROUNDS; round += 1) {
      const path = `/race/${process.pid}/${round}`;
      const action = await createAction(worker, service.id, { endpoint_url: `${receiver.url}${path}` });
      await receiver.addSecret(action.signing_secret);
      // Everything at once: an edit without a revision, the delete, and two runs, each
      // started after a random few milliseconds so that each wins some of the rounds.
      const [edited, deleted, ...runs] = await Promise.all([
        jittered(() => patch(worker, action, { name: unique('Renamed'), description: `round ${round}` })),
        jittered(() => api(worker).deleteAction(action.service_id, action.id), 8),
        jittered(() => runAction(worker, incident, action)),
        jittered(() => runAction(worker, incident, action)),
      ]);
      const what = `round ${round}: PATCH ${edited.status} ${edited.text.slice(0, 300)}; DELETE ${deleted.status}`;
      assert.equal(deleted.status, 204, what);
      assert.ok([200, 404].includes(edited.status), what);
      if (edited.status === 404) assertApiError(edited, 404, 'not_found', what);
      outcomes.patch[edited.status] = (outcomes.patch[edited.status] ?? 0) + 1;
      for (const run of runs) {
        // A run racing the delete (or the edit) either went out before it, or sent nothing.
        assert.ok([201, 404, 409].includes(run.status), `${what}; run ${run.status} ${run.text.slice(0, 300)}`);
        // A 409 must be one the error table declares with that status (the action changed
        // under the run: unreadable or disabled at the moment it was read).
        if (run.status === 409) assertApiError(run, 409, run.json?.error?.code, what);
        if (run.status === 404) assertApiError(run, 404, 'not_found', what);
        outcomes.concurrentRuns[run.status] = (outcomes.concurrentRuns[run.status] ?? 0) + 1;
      }
      const sentBefore = runs.filter((r) => r.status === 201).length;

      // From the moment the delete answered, the action does not exist anywhere.
      const listed = await listActions(worker, service.id);
      assert.ok(!listed.some((a) => a.id === action.id), `${what}: the deleted action is listed`);
      assert.ok(listed.length <= 3, `${what}: ${listed.length} actions listed`);
      const names = listed.map((a) => a.name.toLowerCase());
      assert.equal(new Set(names).size, names.length, `${what}: duplicate names ${names}`);
      const page = await api(worker).getIncident(incident.id);
      assert.equal(page.status, 200, page.text);
      assert.ok(!page.json.incident.actions.some((a) => a.id === action.id), `${what}: still a button on the incident`);
      assertApiError(await api(worker).getAction(action.service_id, action.id), 404, 'not_found', `${what}: GET after delete`);
      assertApiError(await runAction(worker, incident, action), 404, 'not_found', `${what}: run after delete`);
      assertApiError(
        await runAction(worker, incident, action, idempotencyKey('after-delete')),
        404,
        'not_found',
        `${what}: keyed run after delete`,
      );
      const late = await patch(worker, action, { description: 'too late' });
      assertApiError(late, 404, 'not_found', `${what}: PATCH after delete`);

      const delivered = await deliveriesAt(path);
      assert.equal(delivered.length, sentBefore, `${what}: ${delivered.length} deliveries for ${sentBefore} runs answered 201`);
    }
    // Nothing is left behind in the service: no row, so all three places are free again.
    assert.deepEqual(await listActions(worker, service.id), []);
    const [{ n }] = await worker.query(`SELECT COUNT(*) AS n FROM action_slots WHERE service_id = '${service.id}'`);
    assert.equal(n, 0, 'action_slots rows left behind');
    for (let i = 0; i < 3; i += 1) await createAction(worker, service.id, { endpoint_url: `${receiver.url}/after-race` });
    const fourth = await api(worker).createAction(service.id, {
      name: unique('Fourth'),
      endpoint_url: `${receiver.url}/after-race`,
    });
    assertApiError(fourth, 409, 'action_limit', 'a fourth action');
    // A fresh service is not affected either.
    const fresh = await createService(worker);
    for (let i = 0; i < 3; i += 1) await createAction(worker, fresh.id, { endpoint_url: `${receiver.url}/after-race` });
    assert.equal((await listActions(worker, fresh.id)).length, 3);
    // For the record (shown with --test-reporter=spec): how the races went.
    console.log(`edit/delete race outcomes: ${JSON.stringify(outcomes)}`);
  });
});

describe('compare-and-swap on the revision', () => {
  test('two edits of the same revision at once: exactly one lands, the other is 409 edit_conflict with the winner', async () => {
    const ROUNDS = 10;
    const { action } = await setup('/rev/cas');
    for (let round = 0; round < ROUNDS; round += 1) {
      const start = (await getAction(worker, action)).revision;
      const a = `a-${round}`;
      const b = `b-${round}`;
      // One carries the revision in the body, the other in If-Match (alternating).
      const viaHeader = { 'if-match': `"${start}"` };
      const [resA, resB] = await Promise.all([
        round % 2 ? patch(worker, action, { description: a, revision: start }) : patch(worker, action, { description: a }, viaHeader),
        round % 2 ? patch(worker, action, { description: b }, viaHeader) : patch(worker, action, { description: b, revision: start }),
      ]);
      const what = `round ${round} from revision ${start}: ${resA.status} ${resA.text.slice(0, 300)} / ${resB.status} ${resB.text.slice(0, 300)}`;
      const statuses = [resA.status, resB.status].sort();
      assert.deepEqual(statuses, [200, 409], what);
      const [winner, loser, winnerDescription] = resA.status === 200 ? [resA, resB, a] : [resB, resA, b];
      assert.equal(winner.json.action.revision, start + 1, what);
      assert.equal(winner.json.action.description, winnerDescription, what);
      assertApiError(loser, 409, 'edit_conflict', what);
      assert.ok(loser.json.action, `${what}: the conflict carries the current action`);
      assert.equal(loser.json.action.id, action.id, what);
      assert.equal(loser.json.action.revision, start + 1, `${what}: the conflict shows the winner's revision`);
      assert.equal(loser.json.action.description, winnerDescription, `${what}: the conflict shows the winner's change`);
      const now = await getAction(worker, action);
      assert.equal(now.revision, start + 1, `${what}: revision advanced by exactly one`);
      assert.equal(now.description, winnerDescription, what);
    }
  });

  test('concurrent edits without a revision all land, one after the other: no lost update', async () => {
    const { action } = await setup('/rev/no-lost-update', { headers: [{ name: 'X-Original', value: 'yes' }] });
    const start = (await getAction(worker, action)).revision;
    const newName = unique('Renamed concurrently');
    // Four edits of four different fields: a lost update would drop one of them. (The
    // worker re-applies an edit without a revision up to 4 times; with 4 concurrent
    // editors each loses to at most 3 others, so every one must land.)
    const edits = [
      { description: 'concurrent description' },
      { enabled: false },
      { name: newName },
      { headers: [{ name: 'X-Concurrent', value: 'kept' }] },
    ];
    const results = await Promise.all(edits.map((body) => patch(worker, action, body)));
    for (const [i, res] of results.entries()) assert.equal(res.status, 200, `edit ${i}: ${res.text}`);
    const revisions = results.map((r) => r.json.action.revision).sort((x, y) => x - y);
    assert.deepEqual(revisions, [start + 1, start + 2, start + 3, start + 4], 'each edit made its own revision');
    const now = await getAction(worker, action);
    assert.equal(now.revision, start + edits.length);
    assert.equal(now.description, 'concurrent description', 'the description edit was lost');
    assert.equal(now.enabled, false, 'the disable was lost');
    assert.equal(now.name, newName, 'the rename was lost');
    assert.deepEqual(now.headers, [{ name: 'X-Concurrent', value: 'kept', secret: false }], 'the headers edit was lost');
  });

  test('If-Match works like the body field; a stale one is 409, a mismatch with the body is 400', async () => {
    const { action } = await setup('/rev/if-match');
    const r = (await getAction(worker, action)).revision;

    const ok = await patch(worker, action, { description: 'via If-Match' }, { 'if-match': `"${r}"` });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.action.revision, r + 1);

    const stale = await patch(worker, action, { description: 'stale If-Match' }, { 'if-match': `"${r}"` });
    assertApiError(stale, 409, 'edit_conflict', 'stale If-Match');
    assert.equal(stale.json.action.revision, r + 1);
    assert.equal(stale.json.action.description, 'via If-Match');

    const staleBody = await patch(worker, action, { description: 'stale body', revision: r });
    assertApiError(staleBody, 409, 'edit_conflict', 'stale body revision');
    assert.equal(staleBody.json.action.revision, r + 1);

    const weak = await patch(worker, action, { description: 'weak tag' }, { 'if-match': `W/"${r + 1}"` });
    assert.equal(weak.status, 200, weak.text);
    assert.equal(weak.json.action.revision, r + 2);

    const both = await patch(worker, action, { description: 'both agree', revision: r + 2 }, { 'if-match': `"${r + 2}"` });
    assert.equal(both.status, 200, both.text);
    assert.equal(both.json.action.revision, r + 3);

    const mismatch = await patch(worker, action, { description: 'mismatch', revision: r + 4 }, { 'if-match': `"${r + 3}"` });
    assert.equal(mismatch.status, 400, mismatch.text);
    assert.ok(mismatch.json?.error?.code, mismatch.text);
    const garbage = await patch(worker, action, { description: 'garbage' }, { 'if-match': '"not-a-revision"' });
    assert.equal(garbage.status, 400, garbage.text);

    const now = await getAction(worker, action);
    assert.equal(now.revision, r + 3, 'refused edits changed nothing');
    assert.equal(now.description, 'both agree');
  });

  test('rotate_secret with a stale revision is 409; with the current one the old secret stops verifying', async () => {
    const rx = await startReceiver();
    try {
      const service = await createService(worker);
      const action = await createAction(worker, service.id, { endpoint_url: `${rx.url}/rotate` });
      const incident = await triggerIncident(worker, service);
      await rx.addSecret(action.signing_secret);
      const edited = await patch(worker, action, { description: 'moves to revision 2' });
      assert.equal(edited.status, 200, edited.text);

      const staleBody = await api(worker).rotateSecret(action.service_id, action.id, { revision: 1 });
      assertApiError(staleBody, 409, 'edit_conflict', 'rotate with a stale body revision');
      assert.equal(staleBody.json.action.revision, 2);
      assert.ok(!staleBody.text.includes('whsec_'), 'a refused rotation shows no secret');
      const staleHeader = await api(worker).rotateSecret(action.service_id, action.id, undefined, { headers: { 'if-match': '"1"' } });
      assertApiError(staleHeader, 409, 'edit_conflict', 'rotate with a stale If-Match');
      assert.equal((await getAction(worker, action)).revision, 2, 'a refused rotation changed nothing');
      // The refused rotations left the old secret in place.
      const still = await runAction(worker, incident, action);
      assert.equal(still.status, 201, still.text);
      assert.equal((await deliveriesOf(still.json.run.id, rx))[0].verified, true, 'still signed with the original secret');

      const rotated = await api(worker).rotateSecret(action.service_id, action.id, { revision: 2 });
      assert.equal(rotated.status, 200, rotated.text);
      const fresh = rotated.json.signing_secret;
      assert.match(fresh, /^whsec_/);
      assert.notEqual(fresh, action.signing_secret);
      assert.equal((await getAction(worker, action)).revision, 3);

      // The receiver knows only the old secret: the next delivery does not verify there.
      const after = await runAction(worker, incident, action);
      assert.equal(after.status, 201, after.text);
      const [delivery] = await deliveriesOf(after.json.run.id, rx);
      assert.ok(delivery, 'delivered');
      assert.equal(delivery.verified, false, 'the old secret must no longer verify');
      assert.throws(() => new Webhook(action.signing_secret).verify(delivery.body, delivery.headers));
      assert.doesNotThrow(() => new Webhook(fresh).verify(delivery.body, delivery.headers));
      await rx.addSecret(fresh);
      const again = await runAction(worker, incident, action);
      assert.equal(again.status, 201, again.text);
      assert.equal((await deliveriesOf(again.json.run.id, rx))[0].verified, true, 'verifies with the new secret');
    } finally {
      await rx.stop();
    }
  });
});

describe('an unreadable action', () => {
  test('a damaged KV record: listed as unreadable, refused to run, and the incident still works', async () => {
    const service = await createService(worker);
    const damaged = await createAction(worker, service.id, { endpoint_url: `${receiver.url}/damaged/${process.pid}` });
    const healthy = await createAction(worker, service.id, { endpoint_url: `${receiver.url}/healthy/${process.pid}` });
    await receiver.addSecret(healthy.signing_secret);
    const incident = await triggerIncident(worker, service);
    const other = await triggerIncident(worker, service);

    const [{ config_key: key }] = await worker.query(
      `SELECT config_key FROM action_slots WHERE action_id = '${damaged.id}'`,
    );
    assert.match(key, new RegExp(`^action:${damaged.id}:r1:`));
    await worker.kvPut(key, '{not json');

    const listed = await listActions(worker, service.id);
    assert.deepEqual(listed.map((a) => a.id), [damaged.id, healthy.id], 'both still listed, in order');
    const [bad, good] = listed;
    assert.equal(bad.config_health, 'unreadable');
    assert.equal(typeof bad.config_problem, 'string');
    assert.ok(bad.config_problem.trim().length > 0);
    assert.equal(bad.name, damaged.name, 'the name still comes from the row');
    assert.equal(good.config_health, 'ok');
    assert.equal((await getAction(worker, damaged)).config_health, 'unreadable');

    const page = await api(worker).getIncident(incident.id);
    assert.equal(page.status, 200, page.text);
    const buttons = Object.fromEntries(page.json.incident.actions.map((a) => [a.id, a.config_health]));
    assert.deepEqual(buttons, { [damaged.id]: 'unreadable', [healthy.id]: 'ok' });
    const ack = await api(worker).acknowledge(incident.id);
    assert.equal(ack.status, 200, ack.text);
    assert.equal(ack.json.incident.status, 'acknowledged');
    const resolved = await api(worker).resolve(other.id);
    assert.equal(resolved.status, 200, resolved.text);
    assert.equal(resolved.json.incident.status, 'resolved');

    assertApiError(await runAction(worker, incident, damaged), 409, 'action_unreadable', 'run of the damaged action');
    assert.deepEqual(await deliveriesAt(`/damaged/${process.pid}`), [], 'nothing sent');
    const runs = (await api(worker).listRuns(incident.id)).json.runs;
    assert.ok(!runs.some((r) => r.action_id === damaged.id), 'no run recorded for it');

    const ran = await runAction(worker, incident, healthy);
    assert.equal(ran.status, 201, ran.text);
    assert.equal(ran.json.run.status, 'succeeded');
    assert.equal((await deliveriesOf(ran.json.run.id)).length, 1);

    // What the problem text advises works: it can be deleted, freeing its place.
    assert.equal((await api(worker).deleteAction(damaged.service_id, damaged.id)).status, 204);
    assert.deepEqual((await listActions(worker, service.id)).map((a) => a.id), [healthy.id]);
  });

  test('secrets sealed with a removed encryption key: unreadable until the key is restored', async () => {
    const first = await startWorker();
    let current = first;
    try {
      const service = await createService(first);
      const path = `/old-key/${process.pid}`;
      const old = await createAction(first, service.id, {
        endpoint_url: `${receiver.url}${path}`,
        headers: [{ name: 'Authorization', value: SECRET_HEADER_VALUE, secret: true }],
      });
      await receiver.addSecret(old.signing_secret);
      const incident = await triggerIncident(first, service);
      const other = await triggerIncident(first, service);
      await first.stop({ keepData: true });

      const newKey = crypto.randomBytes(32).toString('base64');
      const forgetful = await startWorker({
        persistDir: first.persistDir,
        vars: { ADMIN_TOKEN: first.token, ENCRYPTION_KEY: newKey },
      });
      current = forgetful;
      const [listedOld] = await listActions(forgetful, service.id);
      assert.equal(listedOld.id, old.id);
      assert.equal(listedOld.config_health, 'unreadable');
      assert.match(listedOld.config_problem, /encryption key/i);
      const page = await api(forgetful).getIncident(incident.id);
      assert.equal(page.status, 200, page.text);
      assert.equal(page.json.incident.actions.find((a) => a.id === old.id)?.config_health, 'unreadable');
      const ack = await api(forgetful).acknowledge(incident.id);
      assert.equal(ack.status, 200, ack.text);
      const resolved = await api(forgetful).resolve(other.id);
      assert.equal(resolved.status, 200, resolved.text);
      const refused = await runAction(forgetful, incident, old);
      assertApiError(refused, 409, 'action_unreadable', 'run under a removed key');
      assert.ok(!refused.text.includes(SECRET_HEADER_VALUE));
      assert.deepEqual(await deliveriesAt(path), [], 'nothing sent');

      // An action created under the new key works next to it.
      const fresh = await createAction(forgetful, service.id, {
        endpoint_url: `${receiver.url}${path}/new`,
        headers: [{ name: 'Authorization', value: SECRET_HEADER_VALUE, secret: true }],
      });
      await receiver.addSecret(fresh.signing_secret);
      assert.equal(fresh.config_health, 'ok');
      const ranFresh = await runAction(forgetful, incident, fresh);
      assert.equal(ranFresh.status, 201, ranFresh.text);
      assert.equal(ranFresh.json.run.status, 'succeeded');
      assert.equal((await deliveriesOf(ranFresh.json.run.id))[0].verified, true);
      await forgetful.stop({ keepData: true });

      // The old key restored as a previous key: the old action opens again.
      const restored = await startWorker({
        persistDir: first.persistDir,
        vars: { ADMIN_TOKEN: first.token, ENCRYPTION_KEY: newKey, ENCRYPTION_KEYS_PREVIOUS: first.encryptionKey },
      });
      current = restored;
      const health = Object.fromEntries((await listActions(restored, service.id)).map((a) => [a.id, a.config_health]));
      assert.deepEqual(health, { [old.id]: 'ok', [fresh.id]: 'ok' });
      assert.equal((await getAction(restored, old)).config_problem, undefined);
      const ran = await runAction(restored, incident, old);
      assert.equal(ran.status, 201, ran.text);
      assert.equal(ran.json.run.status, 'succeeded');
      const [delivery] = await deliveriesOf(ran.json.run.id);
      assert.equal(delivery.verified, true, 'signed with the secret sealed under the old key');
      assert.equal(delivery.headers.authorization, SECRET_HEADER_VALUE);
    } finally {
      await current.stop();
    }
  });
});

describe('a revision not yet in this location', () => {
  test('is waited for briefly, then the run is 503 config_propagating with Retry-After and sends nothing', async () => {
    const path = `/propagating/${process.pid}`;
    const { service, action, incident } = await setup(path);
    const edited = await patch(worker, action, { description: 'revision 2' });
    assert.equal(edited.status, 200, edited.text);
    // Stands in for a location KV has not reached yet: the row names revision 2, and this
    // location has no value under its key. An older revision must not be sent instead.
    const [{ config_key: key }] = await worker.query(
      `SELECT config_key FROM action_slots WHERE action_id = '${action.id}'`,
    );
    await worker.kvDelete(key);

    const listed = (await listActions(worker, service.id)).find((a) => a.id === action.id);
    assert.equal(listed.config_health, 'propagating', JSON.stringify(listed));
    assert.equal(listed.revision, 2);
    const page = await api(worker).getIncident(incident.id);
    assert.equal(page.status, 200, page.text);

    const refused = await runAction(worker, incident, action);
    assertApiError(refused, 503, 'config_propagating', 'run of a revision not here');
    assert.equal(refused.headers.get('retry-after'), '10');
    assert.equal((await deliveriesAt(path)).length, 0, 'nothing sent, not even the older revision');
  });
});

describe('secrets and the endpoint', () => {
  test('moving to another origin needs the secret values again; the same origin does not; an echo is redacted', async () => {
    const elsewhere = await startReceiver();
    try {
      const service = await createService(worker);
      const action = await createAction(worker, service.id, {
        endpoint_url: `${receiver.url}/origin/before`,
        headers: [
          { name: 'X-Team', value: 'sre' },
          { name: 'Authorization', value: SECRET_HEADER_VALUE, secret: true },
        ],
      });
      const incident = await triggerIncident(worker, service);
      const moved = `${elsewhere.url}/origin/after`;
      assert.notEqual(new URL(moved).origin, new URL(receiver.url).origin);

      // Another origin (another port), the stored secret kept implicitly: refused.
      const implicit = await patch(worker, action, { endpoint_url: moved });
      const errors = fieldErrors(implicit, 'origin change without headers', 'secrets_must_be_reentered');
      assert.deepEqual(Object.keys(errors), ['headers[1].value']);
      assert.match(errors['headers[1].value'], /Authorization/);
      // ... or explicitly, with the value left out.
      const keptNull = await patch(worker, action, {
        endpoint_url: moved,
        headers: [
          { name: 'X-Team', value: 'sre' },
          { name: 'Authorization', value: null, secret: true },
        ],
      });
      assert.deepEqual(
        Object.keys(fieldErrors(keptNull, 'origin change with value null', 'secrets_must_be_reentered')),
        ['headers[1].value'],
      );
      const unchanged = await getAction(worker, action);
      assert.equal(unchanged.revision, 1, 'a refused edit changed nothing');
      assert.equal(unchanged.endpoint_url, `${receiver.url}/origin/before`);

      // Re-entered: accepted.
      const NEW_SECRET = 'Bearer re-entered-secret-5b7c03';
      const reentered = await patch(worker, action, {
        endpoint_url: moved,
        headers: [
          { name: 'X-Team', value: 'sre' },
          { name: 'Authorization', value: NEW_SECRET, secret: true },
        ],
      });
      assert.equal(reentered.status, 200, reentered.text);
      assert.equal(reentered.json.action.revision, 2);
      assert.equal(reentered.json.action.endpoint_url, moved);

      // The same origin, another path (the echo): no re-entering needed.
      const echo = `${elsewhere.url}/echo?signing_secrets=1`;
      const samePlace = await patch(worker, action, { endpoint_url: echo });
      assert.equal(samePlace.status, 200, samePlace.text);
      assert.equal(samePlace.json.action.revision, 3);
      assert.equal(samePlace.json.action.endpoint_url, echo);

      // The echo answers with every header it got, and with the signing secret it knows.
      await elsewhere.addSecret(action.signing_secret);
      const res = await runAction(worker, incident, action);
      assert.equal(res.status, 201, res.text);
      const { run } = res.json;
      const [delivery] = await deliveriesOf(run.id, elsewhere);
      assert.equal(delivery.headers.authorization, NEW_SECRET, 'the re-entered secret was kept through the same-origin edit');
      assert.equal(delivery.verified, true);
      assert.equal(run.status, 'succeeded');
      assert.deepEqual(await deliveriesAt('/origin/before'), [], 'nothing went to the old origin');
      const excerpt = run.response_excerpt;
      assert.equal(typeof excerpt, 'string');
      // Positive control: the excerpt is the echo.
      assert.match(excerpt, /"x-team":"sre"/);
      assert.match(excerpt, /\[redacted\]/);
      assert.ok(!excerpt.includes(NEW_SECRET), `secret header value in the excerpt: ${excerpt}`);
      assert.ok(!excerpt.includes('re-entered-secret-5b7c03'), 'part of the secret header value in the excerpt');
      assert.ok(!excerpt.includes(action.signing_secret), `signing secret in the excerpt: ${excerpt}`);
      const stored = await api(worker).getRun(run.id);
      assert.equal(stored.status, 200, stored.text);
      assert.equal(stored.json.run.response_excerpt, excerpt, 'the stored excerpt is the redacted one');
      assert.ok(!stored.text.includes(NEW_SECRET) && !stored.text.includes(action.signing_secret));
      const log = await api(worker).getLog(incident.id);
      assert.ok(!log.text.includes(NEW_SECRET) && !log.text.includes(action.signing_secret), 'secret in the timeline');
    } finally {
      await elsewhere.stop();
    }
  });
});

describe('an idempotent replay', () => {
  test('is answered with the first run even after the action was disabled', async () => {
    const path = `/replay-disabled/${process.pid}`;
    const { action, incident } = await setup(path);
    const key = idempotencyKey('replay-disabled');
    const first = await runAction(worker, incident, action, key);
    assert.equal(first.status, 201, first.text);

    const disabled = await patch(worker, action, { enabled: false });
    assert.equal(disabled.status, 200, disabled.text);
    assert.equal(disabled.json.action.enabled, false);

    const replay = await runAction(worker, incident, action, key);
    assert.equal(replay.status, 200, replay.text);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.json.run.id, first.json.run.id);
    assert.deepEqual(replay.json.run, first.json.run);
    assert.equal((await deliveriesAt(path)).length, 1, 'the endpoint got one delivery');

    assertApiError(await runAction(worker, incident, action, idempotencyKey('new-key')), 409, 'action_disabled', 'a new key');
    assertApiError(await runAction(worker, incident, action), 409, 'action_disabled', 'no key');
    assert.equal((await deliveriesAt(path)).length, 1, 'still one delivery');
  });
});

describe('storage round trips of a run', () => {
  /** The three counts of `Server-Timing`, each required. */
  function roundTrips(res) {
    const header = res.headers.get('server-timing');
    assert.ok(header, `no Server-Timing on the run answer (${res.status})`);
    const count = (name) => {
      const match = new RegExp(`(?:^|,)\\s*${name};desc="(\\d+)"`).exec(header);
      assert.ok(match, `${name} missing from Server-Timing: ${header}`);
      return Number(match[1]);
    };
    return { d1Before: count('d1-before-send'), kvBefore: count('kv-before-send'), d1After: count('d1-after-send'), header };
  }

  function assertWithinBudget(res, who) {
    assert.equal(res.status, 201, `${who}: ${res.text}`);
    assert.equal(res.json.outcome_recorded, true);
    assert.equal(res.json.run.status, 'succeeded');
    assert.equal(typeof res.json.run.action_revision, 'number', `${who}: the run names the revision it sent`);
    const trips = roundTrips(res);
    assert.ok(trips.d1Before <= 2, `${who}: ${trips.d1Before} D1 round trips before the send (${trips.header})`);
    assert.ok(trips.kvBefore <= 1, `${who}: ${trips.kvBefore} KV reads before the send (${trips.header})`);
    assert.ok(trips.d1After <= 1, `${who}: ${trips.d1After} D1 round trips after the send (${trips.header})`);
    // The lookup and claim (one batch) and the result cannot be done in fewer.
    assert.ok(trips.d1Before >= 1 && trips.d1After >= 1, `${who}: counts not measured (${trips.header})`);
    return trips;
  }

  test('a Bearer caller and a session-cookie caller: at most 2 D1 and 1 KV before the send, 1 D1 after (measured: 1, 1 then 0, 1)', async () => {
    const { action, incident } = await setup('/round-trips');
    const edited = await patch(worker, action, { description: 'revision 2' });
    assert.equal(edited.status, 200, edited.text);

    const bearer = await runAction(worker, incident, action);
    // The first run of a revision reads it from KV; this isolate then keeps the immutable
    // value, so later runs of the same revision need no KV read.
    assert.equal(assertWithinBudget(bearer, 'Bearer').kvBefore, 1, 'the first run of revision 2 reads KV once');
    assert.equal(bearer.json.run.action_revision, 2);
    const keyed = await runAction(worker, incident, action, idempotencyKey('trips'));
    assertWithinBudget(keyed, 'Bearer with Idempotency-Key');

    const cookie = (await signInSession(worker)).pair;
    const asSession = api(worker, { token: null, headers: { cookie, 'content-type': 'application/json' } });
    const sameOrigin = { origin: worker.baseUrl, 'sec-fetch-site': 'same-origin' };
    const viaCookie = await asSession.runAction(incident.id, action.id, undefined, { headers: sameOrigin });
    assertWithinBudget(viaCookie, 'session cookie');
    const viaCookieKeyed = await asSession.runAction(incident.id, action.id, undefined, { headers: idempotencyKey('trips-cookie') });
    assertWithinBudget(viaCookieKeyed, 'session cookie with Idempotency-Key');
  });
});
