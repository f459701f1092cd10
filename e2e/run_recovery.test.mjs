// What the scheduled handler (the Cron Trigger, every minute) keeps right: a run whose
// worker died mid-flight does not stay `running` for ever but is settled as outcome
// `unknown` (its Idempotency-Key then replays that, sending nothing); action revisions
// nobody points at are removed once old, by a sweep that lists KV at most once an hour;
// expired sessions are deleted.
//
// `worker.scheduled()` runs the handler once, as the trigger would; `sweepNow()` first
// ages the sweep's claim by an hour, as if the last listing were an hour ago.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { api } from './client.mjs';
import {
  assertApiError,
  createAction,
  createService,
  eventually,
  signInSession,
  startWorker,
  timelineOf,
  triggerIncident,
  unique,
  useWorld,
} from './harness.mjs';

/** Deadline (16 s) + grace (60 s): a run `running` longer than this is settled. */
const SETTLE_AFTER_MS = 76_000;

const { worker, receiver } = useWorld();
/** Workers a test starts itself (a crash and a restart on the same data). */
const extraWorkers = [];
after(async () => {
  await Promise.all(extraWorkers.map((w) => w.stop()));
});

/** The revision sweep's hourly claim (migrations/0017), aged by an hour: the next run lists KV. */
const anHourLater = () => worker.sql("UPDATE housekeeping_claims SET claimed_at = claimed_at - 3600000 WHERE task = 'kv_sweep'");
async function sweepNow() {
  await anHourLater();
  await worker.scheduled();
}
/** How many times this worker's revision sweep has listed KV (the handler logs each). */
const listings = () => (worker.logs().match(/revision sweep listed KV/g) ?? []).length;

/** Presses `action` on `incident` through worker `w`, with `headers`. */
const press = (w, incident, action, headers) => api(w).runAction(incident.id, action.id, undefined, { headers });
const keyHeader = (prefix) => ({ 'idempotency-key': unique(prefix).replace(/\s/g, '-') });

async function runsOf(w, incident) {
  const res = await api(w).listRuns(incident.id);
  assert.equal(res.status, 200, res.text);
  return res.json.runs;
}

async function runEntries(w, incident, runId) {
  return (await timelineOf(w, incident.id)).filter((e) => e.type === 'action_run' && e.run?.id === runId);
}

async function deliveriesFor(incident) {
  return (await receiver.deliveries()).filter((d) => {
    try {
      return JSON.parse(d.body).event?.data?.id === incident.id;
    } catch {
      return false;
    }
  });
}

describe('a run in flight when the worker dies', () => {
  test('stays running until 76 s have passed, then is settled as outcome unknown, and its key replays that', async () => {
    const first = await startWorker();
    extraWorkers.push(first);
    const service = await createService(first);
    // Endpoints that answer only after 20 s: the worker is killed while it waits.
    const oldAction = await createAction(first, service.id, { name: 'Restart web', endpoint_url: `${receiver.url}/slow/20000` });
    const youngAction = await createAction(first, service.id, { name: 'Flush cache', endpoint_url: `${receiver.url}/slow/20000` });
    await receiver.addSecret(oldAction.signing_secret);
    await receiver.addSecret(youngAction.signing_secret);
    const incident = await triggerIncident(first, service);
    const key = keyHeader('crash');

    // Start both runs without waiting for them; they fail when the worker dies.
    const pending = [
      press(first, incident, oldAction, key).catch((error) => error),
      press(first, incident, youngAction, keyHeader('crash-young')).catch((error) => error),
    ];
    // Both POSTs reached the endpoint: the runs are claimed and their requests are out.
    await eventually(async () => assert.equal((await deliveriesFor(incident)).length, 2), 30_000);
    await first.kill();
    // Its data now belongs to the restarted worker, which removes it when stopped.
    extraWorkers.splice(extraWorkers.indexOf(first), 1);
    for (const outcome of await Promise.all(pending)) {
      assert.ok(outcome instanceof Error || outcome.status >= 500, `a run answered despite the crash: ${outcome.status} ${outcome.text}`);
    }

    // Restarted on the same data, with the same token and encryption key.
    const restarted = await startWorker(first.restartOptions());
    extraWorkers.push(restarted);
    const delivered = await deliveriesFor(incident);
    const idOf = (action) => delivered.find((d) => JSON.parse(d.body).event.action.id === action.id).headers['webhook-id'];
    const oldId = idOf(oldAction);
    const youngId = idOf(youngAction);

    let runs = await runsOf(restarted, incident);
    assert.deepEqual(runs.map((r) => r.id).sort(), [oldId, youngId].sort());
    for (const run of runs) {
      assert.equal(run.status, 'running', `run ${run.id} after the crash: ${JSON.stringify(run)}`);
      assert.equal(run.finished_at ?? null, null);
    }
    for (const [id, name] of [[oldId, 'Restart web'], [youngId, 'Flush cache']]) {
      const entries = await runEntries(restarted, incident, id);
      assert.equal(entries.length, 1, `one timeline entry for ${id}`);
      assert.ok(entries[0].summary.startsWith(`Running "${name}"`), `started entry: ${entries[0].summary}`);
    }
    // While it is (as far as anyone knows) in flight, its key says so and sends nothing.
    assertApiError(await press(restarted, incident, oldAction, key), 409, 'run_in_progress');

    // Too young to settle: the handler leaves both alone.
    await restarted.scheduled();
    assert.deepEqual((await runsOf(restarted, incident)).map((r) => r.status), ['running', 'running']);

    // Instead of waiting 76 s for real, move the runs' start back in D1: one by two
    // minutes (past the 16 s deadline + 60 s grace), the other by only 30 s.
    await restarted.sql(`UPDATE action_runs SET started_at = started_at - 120000 WHERE id = '${oldId}'`);
    await restarted.sql(`UPDATE action_runs SET started_at = ${Date.now() - 30_000} WHERE id = '${youngId}'`);
    const sentBefore = (await deliveriesFor(incident)).length;
    await restarted.scheduled();

    runs = await runsOf(restarted, incident);
    const settled = runs.find((r) => r.id === oldId);
    const young = runs.find((r) => r.id === youngId);
    assert.equal(settled.status, 'failed', JSON.stringify(settled));
    assert.equal(settled.outcome, 'unknown', JSON.stringify(settled));
    assert.ok(settled.finished_at, 'a settled run has finished_at');
    assert.equal(young.status, 'running', `a run started 30 s ago was settled: ${JSON.stringify(young)}`);

    const [entry] = await runEntries(restarted, incident, oldId);
    assert.match(entry.summary, /outcome unknown/, `timeline entry: ${entry.summary}`);
    assert.ok(!entry.summary.startsWith('Running'), entry.summary);
    assert.equal((await runEntries(restarted, incident, oldId)).length, 1, 'the entry is rewritten, not added');
    assert.equal(entry.run.status, 'failed');
    const [youngEntry] = await runEntries(restarted, incident, youngId);
    assert.ok(youngEntry.summary.startsWith('Running "Flush cache"'), youngEntry.summary);

    // The key now replays the settled run, and nothing new reaches the endpoint.
    const replay = await press(restarted, incident, oldAction, key);
    assert.equal(replay.status, 200, replay.text);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.json.run.id, oldId);
    assert.equal(replay.json.run.status, 'failed');
    assert.equal(replay.json.run.outcome, 'unknown');
    assert.equal((await deliveriesFor(incident)).length, sentBefore, 'the replay sent nothing');
    assert.equal((await runsOf(restarted, incident)).length, 2, 'the replay recorded nothing');

    // Just under the limit it is still left alone; just past it, it is settled too.
    await restarted.sql(`UPDATE action_runs SET started_at = ${Date.now() - (SETTLE_AFTER_MS - 16_000)} WHERE id = '${youngId}'`);
    await restarted.scheduled();
    assert.equal((await runsOf(restarted, incident)).find((r) => r.id === youngId).status, 'running', 'settled at 60 s');
    await restarted.sql(`UPDATE action_runs SET started_at = ${Date.now() - (SETTLE_AFTER_MS + 4_000)} WHERE id = '${youngId}'`);
    await restarted.scheduled();
    const late = (await runsOf(restarted, incident)).find((r) => r.id === youngId);
    assert.equal(late.status, 'failed', JSON.stringify(late));
    assert.equal(late.outcome, 'unknown');
    assert.equal((await deliveriesFor(incident)).length, sentBefore, 'settling sends nothing');
  });
});

describe('the revision sweep', () => {
  test('removes action revisions nothing points at once older than 5 minutes, and never the current one', async () => {
    const service = await createService(worker);
    const path = `/sweep/${process.pid}`;
    const action = await createAction(worker, service.id, { endpoint_url: `${receiver.url}${path}` });
    await receiver.addSecret(action.signing_secret);
    const incident = await triggerIncident(worker, service);
    for (const description of ['second', 'third']) {
      const res = await api(worker).updateAction(service.id, action.id, { description });
      assert.equal(res.status, 200, res.text);
    }
    const prefix = `action:${action.id}:`;
    const keys = (await worker.kvKeys(prefix)).sort();
    assert.equal(keys.length, 3, `one value per revision: ${keys}`);
    assert.deepEqual(keys.map((k) => k.split(':')[2]).sort(), ['r1', 'r2', 'r3']);
    const [{ config_key: current }] = await worker.query(`SELECT config_key FROM action_slots WHERE action_id = '${action.id}'`);
    assert.ok(current.startsWith(`${prefix}r3:`), current);
    const r1 = keys.find((k) => k.startsWith(`${prefix}r1:`));

    // All three are younger than 5 minutes: nothing goes.
    await sweepNow();
    assert.deepEqual((await worker.kvKeys(prefix)).sort(), keys, 'a young revision was swept');

    // Age some values by giving them the metadata an old write has (the sweep reads
    // `written_at` from the key's metadata): the superseded r1, a stray value, and the
    // current value itself (rewritten with its own content, so the action stays whole).
    // A stray young value and a value without metadata (as written before revisions,
    // which the sweep treats as old) complete the picture.
    const old = { written_at: 0 };
    await worker.kvPut(r1, 'superseded', { metadata: old });
    const strayOld = `${prefix}r99:dead`;
    const strayYoung = `${prefix}r98:young`;
    await worker.kvPut(strayOld, 'stray', { metadata: old });
    await worker.kvPut(strayYoung, 'stray', { metadata: { written_at: Date.now() } });
    const legacyStray = `action:act_stray${process.pid}`;
    await worker.kvPut(legacyStray, 'from before revisions');
    const currentValue = await worker.kvGet(current);
    assert.equal(JSON.parse(currentValue).spec.description, 'third', 'read the current value back (format 3 nests the specification)');
    await worker.kvPut(current, currentValue, { metadata: old });
    const listed = Object.fromEntries((await worker.kvList(prefix)).map((k) => [k.name, k.metadata]));
    assert.deepEqual(listed[strayOld], old, 'the metadata was written');
    assert.deepEqual(listed[current], old);

    await sweepNow();
    const r2 = keys.find((k) => k.startsWith(`${prefix}r2:`));
    assert.deepEqual((await worker.kvKeys(prefix)).sort(), [current, r2, strayYoung].sort());
    assert.deepEqual(await worker.kvKeys(legacyStray), [], 'a value without metadata nobody points at is old');

    // The action is untouched: listed as healthy at revision 3, and it runs.
    const [listedAction] = (await api(worker).listActions(service.id)).json.actions;
    assert.equal(listedAction.revision, 3);
    assert.equal(listedAction.config_health, 'ok');
    const run = await press(worker, incident, action);
    assert.equal(run.status, 201, run.text);
    assert.equal(run.json.run.status, 'succeeded');
    assert.equal(run.json.run.action_revision, 3);
    assert.equal((await receiver.deliveries()).filter((d) => d.path === path).length, 1);
  });
});

describe('the revision sweep lists KV at most once an hour', () => {
  test('a second run within the hour lists nothing, so an old stray value waits for the next hour', async () => {
    const old = { metadata: { written_at: 0 } };
    const [first, second] = ['first', 'second'].map((name) => `action:act_hourly${process.pid}:r1:${name}`);
    await worker.kvPut(first, 'stray', old);
    const claim = async () => (await worker.query("SELECT claimed_at FROM housekeeping_claims WHERE task = 'kv_sweep'"))[0];
    await sweepNow();
    assert.deepEqual(await worker.kvKeys(first), [], 'the run that claimed the hour listed and swept');
    const claimed = await claim();
    const listedBefore = listings();

    await worker.kvPut(second, 'stray', old);
    await worker.scheduled();
    await worker.scheduled();
    assert.deepEqual(await worker.kvKeys(second), [second], 'a run within the hour listed KV and swept');
    assert.ok(Math.abs(claimed?.claimed_at - Date.now()) < 120_000, `the first run claimed the hour: ${JSON.stringify(claimed)}`);
    assert.deepEqual(await claim(), claimed, 'the hour stays claimed by the first run');
    assert.ok(listedBefore >= 1, 'the listing is logged');
    assert.equal(listings(), listedBefore, 'no listing was logged since');

    // An hour later the next run lists again.
    await anHourLater();
    await worker.scheduled();
    assert.deepEqual(await worker.kvKeys(second), []);
  });
});

describe('the session sweep', () => {
  test('deletes expired sessions and keeps live ones', async () => {
    const expiredCookie = (await signInSession(worker)).pair;
    await worker.sql('UPDATE sessions SET expires_at = 0');
    const liveCookie = (await signInSession(worker)).pair;
    const [{ n: before }] = await worker.query('SELECT COUNT(*) AS n FROM sessions');
    assert.equal(before, 2);

    await worker.scheduled();
    const rows = await worker.query('SELECT expires_at FROM sessions');
    assert.equal(rows.length, 1, `sessions left: ${JSON.stringify(rows)}`);
    assert.ok(rows[0].expires_at > Date.now(), 'the live session is the one kept');
    assert.equal((await api(worker).getSession({ token: null, headers: { cookie: liveCookie } })).status, 200);
    assert.equal((await api(worker).getSession({ token: null, headers: { cookie: expiredCookie } })).status, 401);

    await worker.sql('UPDATE sessions SET expires_at = 0');
    await worker.scheduled();
    const [{ n }] = await worker.query('SELECT COUNT(*) AS n FROM sessions');
    assert.equal(n, 0);
  });
});
