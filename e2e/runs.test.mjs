// Running an action: the signed POST a real receiver process gets, what the responder
// sees for every way an endpoint can answer (or not), idempotency, and that each run is
// recorded exactly once. The receiver is reached through PRIVATE_ENDPOINT_ALLOWLIST
// (127.0.0.1), the same rule production uses.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';

import { api, paths } from './client.mjs';
import {
  assertApiError,
  createAction,
  createService,
  freePort,
  timelineOf,
  triggerIncident,
  unique,
  useWorld,
} from './harness.mjs';

const SECRET_HEADER_VALUE = 'Bearer s3cret-header-value-7f1c';

const { worker, receiver, ready } = useWorld();
/** Every answer the API gave in this file, to check no secret ever leaked into one. */
const answers = [];

before(async () => {
  await ready;
  const plain = worker.api;
  worker.api = async (...args) => {
    const res = await plain(...args);
    answers.push({ call: `${args[0]} ${args[1]}`, text: res.text });
    return res;
  };
});

/** A service with an incident and one action pointing at `path` on the receiver. */
async function setup(path = '/ok', actionFields = {}, incidentPayload = {}) {
  const service = await createService(worker);
  const action = await createAction(worker, service.id, { endpoint_url: `${receiver.url}${path}`, ...actionFields });
  await receiver.addSecret(action.signing_secret);
  const incident = await triggerIncident(worker, service, incidentPayload);
  return { service, action, incident };
}

function runAction(incident, action, headers = {}) {
  return api(worker).runAction(incident.id, action.id, undefined, { headers: headers });
}

async function deliveriesFor(runId) {
  return (await receiver.deliveries()).filter((d) => d.headers['webhook-id'] === runId);
}

async function runsOf(incident) {
  const res = await api(worker).listRuns(incident.id);
  assert.equal(res.status, 200, res.text);
  return res.json.runs;
}

async function logOf(incident) {
  return (await timelineOf(worker, incident.id));
}

/** Runs `path` and checks the parts of the result that do not depend on the outcome. */
async function runAgainst(path) {
  const { action, incident } = await setup(path);
  const started = Date.now();
  const res = await runAction(incident, action);
  const elapsed = Date.now() - started;
  assert.equal(res.status, 201, res.text.slice(0, 1000));
  const { run } = res.json;
  assert.match(run.id, /^run_/);
  assert.equal(run.incident_id, incident.id);
  assert.equal(run.action_id, action.id);
  assert.equal(run.action_name, action.name);
  assert.ok(run.finished_at, 'a finished run has finished_at');
  assert.equal(typeof run.duration_ms, 'number');
  const sent = await deliveriesFor(run.id);
  assert.equal(sent.length, 1, 'sent once and never retried');
  assert.equal(sent[0].verified, true);
  return { run, action, incident, elapsed };
}

describe('a successful run', () => {
  let ctx;
  let delivery;
  let before201;

  before(async () => {
    ctx = await setup(
      '/hooks/restart',
      {
        name: 'Restart web',
        headers: [
          { name: 'X-Team', value: 'sre' },
          { name: 'Authorization', value: SECRET_HEADER_VALUE, secret: true },
        ],
      },
      { summary: 'Checkout is down', severity: 'critical', custom_details: { region: 'eu-west-1' }, component: 'api' },
    );
    before201 = (await api(worker).getIncident(ctx.incident.id)).json.incident;
    const res = await runAction(ctx.incident, ctx.action);
    assert.equal(res.status, 201, res.text);
    ctx.run = res.json.run;
    ctx.runText = res.text;
    const got = await deliveriesFor(ctx.run.id);
    assert.equal(got.length, 1, `exactly one delivery with webhook-id ${ctx.run.id}`);
    [delivery] = got;
  });

  test('answers 201 with the run: succeeded, HTTP 200, the endpoint’s answer as excerpt', () => {
    const { run } = ctx;
    assert.match(run.id, /^run_/);
    assert.equal(run.incident_id, ctx.incident.id);
    assert.equal(run.action_id, ctx.action.id);
    assert.equal(run.action_name, 'Restart web');
    assert.equal(run.status, 'succeeded');
    assert.equal(run.outcome, 'success');
    assert.equal(run.http_status, 200);
    assert.ok(run.duration_ms >= 0 && run.duration_ms < 16_000, `duration ${run.duration_ms}`);
    assert.equal(JSON.parse(run.response_excerpt).ok, true);
    assert.match(JSON.parse(run.response_excerpt).message, /Checkout is down/, 'the receiver verified the delivery');
    assert.ok(run.requested_by.trim().length > 0);
    assert.ok(Date.parse(run.finished_at) >= Date.parse(run.started_at));
  });

  test('the delivery verifies with standardwebhooks, in the receiver and here', () => {
    assert.equal(delivery.verified, true, 'the receiver process verified the signature');
    const wh = new Webhook(ctx.action.signing_secret);
    assert.doesNotThrow(() => wh.verify(delivery.body, delivery.headers));
    assert.match(receiver.logs(), new RegExp(`verified .*id=${ctx.run.id}`));
  });

  test('the POST carries the Standard Webhooks, content and custom headers', () => {
    const h = delivery.headers;
    assert.equal(delivery.method, 'POST');
    assert.equal(delivery.path, '/hooks/restart');
    assert.match(h['content-type'], /^application\/json/);
    assert.match(h['user-agent'], /incident.?actions/i);
    assert.match(h['user-agent'], /\d+\.\d+/, 'the User-Agent names a version');
    assert.equal(h['webhook-id'], ctx.run.id);
    assert.match(h['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/);
    assert.ok(Math.abs(Number(h['webhook-timestamp']) - Date.now() / 1000) < 120, `timestamp ${h['webhook-timestamp']}`);
    assert.equal(h['x-team'], 'sre');
    assert.equal(h.authorization, SECRET_HEADER_VALUE, 'the secret header reaches the endpoint');
  });

  test('the body is the event with the incident as data, without actions', () => {
    const { event } = JSON.parse(delivery.body);
    assert.deepEqual(Object.keys(JSON.parse(delivery.body)), ['event']);
    assert.equal(event.id, ctx.run.id);
    assert.equal(event.event_type, 'incident.custom_action');
    assert.ok(Date.parse(event.occurred_at), `occurred_at ${event.occurred_at}`);
    assert.equal(event.agent.type, 'user');
    assert.equal(typeof event.agent.id, 'string');
    assert.equal(typeof event.agent.name, 'string');
    // The action's deadline rides along (issue 21's timeout_ms; 16000 ms when not set).
    assert.deepEqual(event.action, { id: ctx.action.id, name: 'Restart web', timeout_ms: 16000 });
    const { actions, ...expected } = before201;
    assert.ok(Array.isArray(actions), 'GET /api/incidents/{id} has actions');
    assert.equal('actions' in event.data, false);
    assert.deepEqual(event.data, expected);
    assert.equal(event.data.title, 'Checkout is down');
    assert.deepEqual(event.data.custom_details, { region: 'eu-west-1' });
  });

  test('the run is stored once: GET runs, GET run, and one timeline entry', async () => {
    const runs = await runsOf(ctx.incident);
    assert.deepEqual(runs, [ctx.run]);
    const one = await api(worker).getRun(ctx.run.id);
    assert.equal(one.status, 200, one.text);
    assert.deepEqual(one.json.run, ctx.run);
    const entries = (await logOf(ctx.incident)).filter((e) => e.type === 'action_run');
    assert.equal(entries.length, 1);
    assert.deepEqual(entries[0].run, ctx.run);
    assert.match(entries[0].summary, /Restart web/);
  });

  test('the run keeps the action name it ran under', async () => {
    const renamed = await api(worker).updateAction(ctx.action.service_id, ctx.action.id, { name: 'Renamed later' });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal((await api(worker).getRun(ctx.run.id)).json.run.action_name, 'Restart web');
  });

  test('the run record keeps the request headers as received, the secret value as [redacted]', () => {
    const recorded = ctx.run.request_headers;
    assert.ok(Array.isArray(recorded), `request_headers: ${JSON.stringify(recorded)}`);
    const names = recorded.map((h) => h.name.toLowerCase());
    for (const name of ['x-team', 'authorization', 'content-type', 'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      assert.equal(names.filter((n) => n === name).length, 1, `${name} recorded once`);
    }
    for (const { name, value } of recorded) {
      const received = delivery.headers[name.toLowerCase()];
      if (name === 'Authorization') {
        assert.equal(value, '[redacted]');
        assert.equal(received, SECRET_HEADER_VALUE, 'the endpoint got the real value');
      } else {
        assert.equal(value, received, `${name}: the record is what the endpoint received`);
      }
    }
  });

  test('neither the secret header value nor the signing secret is in the run answer', () => {
    assert.ok(!ctx.runText.includes(SECRET_HEADER_VALUE));
    assert.ok(!ctx.runText.includes(ctx.action.signing_secret));
  });
});

describe('outcomes the responder sees', () => {
  test('an endpoint answering 500 is a failed run with http_error and its text', async () => {
    const { run } = await runAgainst('/status/500');
    assert.equal(run.status, 'failed');
    assert.equal(run.outcome, 'http_error');
    assert.equal(run.http_status, 500);
    assert.equal(run.response_excerpt, 'receiver answered 500');
  });

  test('an endpoint answering 404 is http_error 404', async () => {
    const { run } = await runAgainst('/status/404');
    assert.equal(run.outcome, 'http_error');
    assert.equal(run.http_status, 404);
  });

  test('an endpoint answering 204 succeeds', async () => {
    const { run } = await runAgainst('/status/204');
    assert.equal(run.status, 'succeeded');
    assert.equal(run.outcome, 'success');
    assert.equal(run.http_status, 204);
  });

  test('a redirect is not followed: outcome redirect, nothing sent to its target', async () => {
    await receiver.clearDeliveries();
    const { run } = await runAgainst('/redirect');
    assert.equal(run.status, 'failed');
    assert.equal(run.outcome, 'redirect');
    assert.equal(run.http_status, 302);
    const got = await receiver.deliveries();
    assert.deepEqual(got.map((d) => d.path), ['/redirect']);
  });

  test('an endpoint that never answers times out after about 16 s', async () => {
    const { run, elapsed } = await runAgainst('/hang');
    assert.equal(run.status, 'failed');
    assert.equal(run.outcome, 'timeout');
    assert.equal(run.http_status, null);
    assert.ok(run.duration_ms >= 15_000 && run.duration_ms <= 20_000, `duration_ms ${run.duration_ms}`);
    assert.ok(elapsed >= 15_000 && elapsed <= 25_000, `the API answered after ${elapsed} ms`);
  });

  test('a refused connection is a network_error', async () => {
    const port = await freePort();
    const service = await createService(worker);
    const action = await createAction(worker, service.id, { endpoint_url: `http://127.0.0.1:${port}/nobody-home` });
    const incident = await triggerIncident(worker, service);
    const res = await runAction(incident, action);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.run.status, 'failed');
    assert.equal(res.json.run.outcome, 'network_error');
    assert.equal(res.json.run.http_status, null);
    assert.ok(res.json.run.duration_ms < 16_000);
  });

  test('a 2 MB answer succeeds quickly with an excerpt of at most 4 KiB', async () => {
    const { run, elapsed } = await runAgainst('/big');
    assert.equal(run.status, 'succeeded');
    assert.equal(run.http_status, 200);
    assert.ok(Buffer.byteLength(run.response_excerpt) <= 4096, `excerpt is ${Buffer.byteLength(run.response_excerpt)} bytes`);
    assert.ok(Buffer.byteLength(run.response_excerpt) >= 4000, 'the excerpt is the start of the answer, nearly 4 KiB of it');
    assert.ok(run.response_excerpt.startsWith('Incident Actions sample receiver'));
    assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
  });

  test('an HTML answer is kept verbatim as text', async () => {
    const { run } = await runAgainst('/html');
    assert.equal(run.status, 'succeeded');
    assert.equal(run.response_excerpt, '<script>alert("x")</script><b>bold</b>');
  });

  test('a slow endpoint is waited for and its time measured', async () => {
    const { run } = await runAgainst('/slow/1500');
    assert.equal(run.status, 'succeeded');
    assert.ok(run.duration_ms >= 1400, `duration_ms ${run.duration_ms}`);
  });
});

describe('idempotency', () => {
  test('a repeated Idempotency-Key returns the first run and sends nothing', async () => {
    const { action, incident } = await setup('/ok');
    const key = { 'idempotency-key': unique('key').replace(/\s/g, '-') };
    const first = await runAction(incident, action, key);
    assert.equal(first.status, 201, first.text);
    const second = await runAction(incident, action, key);
    assert.equal(second.status, 200, second.text);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(second.json.run, first.json.run);
    assert.equal((await deliveriesFor(first.json.run.id)).length, 1);
    assert.equal((await runsOf(incident)).length, 1);
    assert.equal((await logOf(incident)).filter((e) => e.type === 'action_run').length, 1);
    const endpointHits = (await receiver.deliveries()).filter((d) => JSON.parse(d.body).event?.data?.id === incident.id);
    assert.equal(endpointHits.length, 1, 'the endpoint was called once');
  });

  test('the same key on another action, or without a key, runs again', async () => {
    const { service, action, incident } = await setup('/ok');
    const other = await createAction(worker, service.id, { endpoint_url: `${receiver.url}/other` });
    const key = { 'idempotency-key': 'same-key-for-both' };
    assert.equal((await runAction(incident, action, key)).status, 201);
    assert.equal((await runAction(incident, other, key)).status, 201);
    assert.equal((await runAction(incident, action)).status, 201);
    assert.equal((await runAction(incident, action)).status, 201);
    assert.equal((await runsOf(incident)).length, 4);
  });

  test('the same key while the first run is in flight is 409 run_in_progress and sends nothing', async () => {
    const { action, incident } = await setup('/slow/3000');
    const key = { 'idempotency-key': unique('inflight').replace(/\s/g, '-') };
    const first = runAction(incident, action, key);
    await new Promise((r) => setTimeout(r, 1000));
    assertApiError(await runAction(incident, action, key), 409, 'run_in_progress');
    const done = await first;
    assert.equal(done.status, 201, done.text);
    assert.equal(done.json.run.status, 'succeeded');
    const replay = await runAction(incident, action, key);
    assert.equal(replay.status, 200);
    assert.equal(replay.json.run.id, done.json.run.id);
    const hits = (await receiver.deliveries()).filter((d) => JSON.parse(d.body).event?.data?.id === incident.id);
    assert.equal(hits.length, 1);
    assert.equal((await runsOf(incident)).length, 1);
  });
});

describe('the idempotency window', () => {
  const DAY_MS = 24 * 60 * 60 * 1000;

  /** Pretends the run started `ms` ago, editing its row in the worker's local D1. */
  async function startedAgo(runId, ms) {
    assert.match(runId, /^run_[0-9a-z]+$/);
    await worker.sql(`UPDATE action_runs SET started_at = ${Date.now() - ms} WHERE id = '${runId}'`);
  }

  test('a key is remembered just inside 24 hours and forgotten just past them', async () => {
    const { action, incident } = await setup('/ok');
    const key = { 'idempotency-key': unique('window').replace(/\s/g, '-') };
    const first = await runAction(incident, action, key);
    assert.equal(first.status, 201, first.text);

    await startedAgo(first.json.run.id, DAY_MS - 60_000);
    const inside = await runAction(incident, action, key);
    assert.equal(inside.status, 200, inside.text);
    assert.equal(inside.json.run.id, first.json.run.id);
    assert.equal((await deliveriesFor(first.json.run.id)).length, 1, 'nothing sent inside the window');

    await startedAgo(first.json.run.id, DAY_MS + 5_000);
    const past = await runAction(incident, action, key);
    assert.equal(past.status, 201, past.text);
    assert.notEqual(past.json.run.id, first.json.run.id);
    assert.equal((await deliveriesFor(past.json.run.id)).length, 1, 'a new run is sent past the window');
    assert.equal((await runsOf(incident)).length, 2);
  });
});

describe('refused runs send nothing', () => {
  test('a disabled action is 409 action_disabled', async () => {
    const { action, incident } = await setup('/ok');
    const patch = await api(worker).updateAction(action.service_id, action.id, { enabled: false });
    assert.equal(patch.status, 200, patch.text);
    assertApiError(await runAction(incident, action), 409, 'action_disabled');
    assert.deepEqual(await runsOf(incident), []);
    const hits = (await receiver.deliveries()).filter((d) => d.path === '/ok' && JSON.parse(d.body).event?.data?.id === incident.id);
    assert.equal(hits.length, 0);
  });

  test('an unknown action, or another service’s action, is 404', async () => {
    const { incident } = await setup('/ok');
    const elsewhere = await setup('/ok');
    assertApiError(await runAction(incident, { id: 'act_missing' }), 404, 'not_found');
    assertApiError(await runAction(incident, elsewhere.action), 404, 'not_found');
    assertApiError(await runAction({ id: 'inc_missing' }, elsewhere.action), 404, 'not_found');
    assert.deepEqual(await runsOf(incident), []);
    const hits = (await receiver.deliveries()).filter((d) => JSON.parse(d.body).event?.data?.id === incident.id);
    assert.equal(hits.length, 0);
  });

  test('running needs credentials', async () => {
    const { action, incident } = await setup('/ok');
    assertApiError(await runAction(incident, action, { authorization: null }), 401, 'unauthorized');
    assert.deepEqual(await runsOf(incident), []);
  });
});

describe('every run is recorded exactly once', () => {
  test('concurrent runs: as many runs, deliveries and timeline entries as presses', async () => {
    const { action, incident } = await setup('/slow/200');
    const n = 6;
    const results = await Promise.all(Array.from({ length: n }, () => runAction(incident, action)));
    assert.deepEqual(results.map((r) => r.status), Array(n).fill(201), results.map((r) => r.text).join('\n'));
    const ids = results.map((r) => r.json.run.id).sort();
    assert.equal(new Set(ids).size, n);
    assert.deepEqual((await runsOf(incident)).map((r) => r.id).sort(), ids);
    assert.deepEqual((await logOf(incident)).filter((e) => e.type === 'action_run').map((e) => e.run.id).sort(), ids);
    const delivered = (await receiver.deliveries()).filter((d) => ids.includes(d.headers['webhook-id']));
    assert.equal(delivered.length, n);
    assert.ok(delivered.every((d) => d.verified));
  });

  test('a run whose caller hangs up is still finished and recorded', async () => {
    const { action, incident } = await setup('/slow/1500');
    const url = worker.baseUrl + paths.runAction(incident.id, action.id);
    await assert.rejects(
      fetch(url, { method: 'POST', headers: { authorization: `Bearer ${worker.token}` }, signal: AbortSignal.timeout(300) }),
      { name: 'TimeoutError' },
    );
    let runs = [];
    for (let i = 0; i < 40 && !(runs.length === 1 && runs[0].status !== 'running'); i += 1) {
      await new Promise((r) => setTimeout(r, 250));
      runs = await runsOf(incident);
    }
    assert.equal(runs.length, 1, JSON.stringify(runs));
    assert.equal(runs[0].status, 'succeeded');
    assert.equal((await deliveriesFor(runs[0].id)).length, 1);
    assert.equal((await logOf(incident)).filter((e) => e.type === 'action_run').length, 1);
  });

  test('runs are listed newest first', async () => {
    const { action, incident } = await setup('/ok');
    const first = (await runAction(incident, action)).json.run;
    const second = (await runAction(incident, action)).json.run;
    assert.deepEqual((await runsOf(incident)).map((r) => r.id), [second.id, first.id]);
  });

  test('an incident\'s runs page with a cursor, and a limit outside 1 to 100 is refused', async () => {
    const { action, incident } = await setup('/ok');
    const ids = [];
    for (let i = 0; i < 3; i += 1) ids.push((await runAction(incident, action)).json.run.id);
    const page = async (query) => {
      const res = await api(worker).listRuns(incident.id, { query: query });
      assert.equal(res.status, 200, res.text);
      return res.json;
    };
    const first = await page('limit=2');
    assert.deepEqual(first.runs.map((r) => r.id), [ids[2], ids[1]]);
    assert.equal(typeof first.next_cursor, 'string');
    const second = await page(`limit=2&cursor=${encodeURIComponent(first.next_cursor)}`);
    assert.deepEqual(second.runs.map((r) => r.id), [ids[0]]);
    assert.equal(second.next_cursor, null, 'the last page');
    const whole = await page('limit=3');
    assert.equal(whole.runs.length, 3);
    assert.equal(whole.next_cursor, null, 'exactly a page: no cursor');
    assert.equal((await page('limit=100')).runs.length, 3);
    for (const limit of ['0', '101', 'ten']) {
      assertApiError(await api(worker).listRuns(incident.id, { query: { limit: limit } }), 400, 'invalid_limit', limit);
    }
    assertApiError(await api(worker).listRuns(incident.id, { query: { cursor: 'tl1.5' } }), 400, 'invalid_cursor', 'a timeline cursor');
  });
});

describe('secrets', () => {
  test('after rotation, deliveries verify with the new secret and not the old', async () => {
    const { action, incident } = await setup('/ok');
    const rotated = await api(worker).rotateSecret(action.service_id, action.id);
    assert.equal(rotated.status, 200, rotated.text);
    const fresh = rotated.json.signing_secret;
    const res = await runAction(incident, action);
    assert.equal(res.status, 201, res.text);
    const [delivery] = await deliveriesFor(res.json.run.id);
    assert.ok(delivery, 'delivered');
    assert.doesNotThrow(() => new Webhook(fresh).verify(delivery.body, delivery.headers));
    assert.throws(() => new Webhook(action.signing_secret).verify(delivery.body, delivery.headers), /signature/i);
  });

  test('an edited endpoint is used by the next run', async () => {
    const { action, incident } = await setup('/before');
    const patch = await api(worker).updateAction(action.service_id, action.id, { endpoint_url: `${receiver.url}/after` });
    assert.equal(patch.status, 200, patch.text);
    const res = await runAction(incident, action);
    assert.equal(res.status, 201, res.text);
    assert.deepEqual((await deliveriesFor(res.json.run.id)).map((d) => d.path), ['/after']);
  });

  test('an over-long Idempotency-Key is refused and sends nothing', async () => {
    const { action, incident } = await setup('/ok');
    const res = await runAction(incident, action, { 'idempotency-key': 'k'.repeat(256) });
    assert.ok(res.status === 400 || res.status === 422, `${res.status} ${res.text}`);
    assert.ok(res.json?.error?.code, res.text);
    assert.deepEqual(await runsOf(incident), []);
    const ok = await runAction(incident, action, { 'idempotency-key': 'k'.repeat(255) });
    assert.equal(ok.status, 201, ok.text);
  });

  test('a secret header kept through an edit is still sent, and shown to nobody', async () => {
    const { action, incident } = await setup('/ok', {
      headers: [{ name: 'Authorization', value: SECRET_HEADER_VALUE, secret: true }],
    });
    const patch = await api(worker).updateAction(action.service_id, action.id, {
      headers: [{ name: 'Authorization', value: '', secret: true }, { name: 'X-Added', value: 'yes' }],
    });
    assert.equal(patch.status, 200, patch.text);
    const res = await runAction(incident, action);
    const [delivery] = await deliveriesFor(res.json.run.id);
    assert.equal(delivery.headers.authorization, SECRET_HEADER_VALUE);
    assert.equal(delivery.headers['x-added'], 'yes');
  });

  test('no API answer in this file contained a secret header value', () => {
    assert.ok(answers.length > 50, `checked ${answers.length} answers`);
    const leaks = answers.filter((a) => a.text.includes(SECRET_HEADER_VALUE)).map((a) => a.call);
    assert.deepEqual(leaks, []);
  });

  test('the worker logs neither secret header values nor signing secrets', () => {
    const logs = worker.logs();
    assert.ok(!logs.includes(SECRET_HEADER_VALUE));
    assert.ok(!/whsec_[A-Za-z0-9+/]{8,}/.test(logs), 'a signing secret was logged');
  });

  test('signing secrets appear only in create and rotate answers', () => {
    const secrets = new Set();
    for (const a of answers) {
      for (const match of a.text.matchAll(/whsec_[A-Za-z0-9+/=]+/g)) secrets.add(match[0]);
    }
    assert.ok(secrets.size > 5);
    for (const a of answers) {
      const shown = /"signing_secret"\s*:/.test(a.text);
      const allowed = /^POST \/api\/services\/[^/]+\/actions$/.test(a.call) || /\/rotate_secret$/.test(a.call);
      if (!allowed) {
        assert.equal(shown, false, `${a.call} showed a signing_secret`);
        for (const secret of secrets) assert.ok(!a.text.includes(secret), `${a.call} contained a signing secret`);
      }
    }
  });
});
