// Limits that hold (issue "Ready for production" §1), against the real worker:
// - bodies are counted as they stream: a chunked body (no Content-Length) one byte past
//   the limit gets 413 on /v2/enqueue, on sign-in and on /api/*, and one at the limit
//   goes through;
// - the Events API's field caps (source, component, group, class; custom_details) at
//   their boundaries, each refusal storing nothing;
// - the per-routing-key throttle, here 1 a minute with bursts to 3 (EVENTS_PER_MINUTE,
//   EVENT_BURST), answered with PagerDuty's 429 body and a Retry-After;
// - the incident list and the timeline page with an opaque cursor, lists carry no
//   custom_details;
// - the hourly prune keeps a service at MAX_INCIDENTS_PER_SERVICE (here 3) by removing
//   its oldest resolved incidents, never an open one.

import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';

import { api, paths } from './client.mjs';
import { assertApiError, createService, expectStatus, timelineOf, unique, useWorld } from './harness.mjs';

const EVENT_LIMIT = 512 * 1024;
const API_LIMIT = 64 * 1024;
const BURST = 3;
const CAP = 3;

const { worker } = useWorld({
  vars: { EVENTS_PER_MINUTE: '1', EVENT_BURST: String(BURST), MAX_INCIDENTS_PER_SERVICE: String(CAP) },
});

/**
 * POSTs `body` in 16 KiB chunks with `Transfer-Encoding: chunked` (no Content-Length), as
 * a client that does not say how much it will send. Resolves with the answer, even when
 * the worker answers (and closes) before the whole body was written. With `end: false`
 * the body never ends: only a worker that counts as it reads can answer at all.
 */
function postChunked(path, body, headers = {}, { end = true } = {}) {
  const url = new URL(worker.baseUrl + path);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          let json = null;
          try {
            json = JSON.parse(text);
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
      },
    );
    // The worker may stop reading and answer early; a write to the closed socket is not
    // the test's failure, a missing answer is.
    req.on('error', (error) => setTimeout(() => reject(error), 2000));
    const bytes = Buffer.from(body);
    for (let at = 0; at < bytes.length; at += 16 * 1024) req.write(bytes.subarray(at, at + 16 * 1024));
    if (end) req.end();
    else req.on('response', (res) => res.on('end', () => req.destroy()));
  });
}

/** `json` padded with trailing spaces (still the same JSON) to exactly `size` bytes. */
function paddedTo(json, size) {
  const text = JSON.stringify(json);
  assert.ok(text.length <= size);
  return text + ' '.repeat(size - text.length);
}

const trigger = (service, payload = {}, extra = {}) => ({
  routing_key: service.routing_key,
  event_action: 'trigger',
  dedup_key: unique('dedup'),
  payload: { summary: unique('Disk full'), source: 'db-1', severity: 'critical', ...payload },
  ...extra,
});

async function incidentsOf(service, query = {}) {
  return expectStatus(await api(worker).listIncidents({ query: { service_id: service.id, ...query } }), 200, 'list').json;
}

describe('bodies are counted as they stream', () => {
  test('a chunked event one byte past 512 KiB gets 413 and one at the limit is accepted', async () => {
    const service = await createService(worker);
    const atLimit = await postChunked(paths.enqueue(), paddedTo(trigger(service), EVENT_LIMIT));
    assert.equal(atLimit.status, 202, atLimit.text);
    const over = await postChunked(paths.enqueue(), paddedTo(trigger(service), EVENT_LIMIT + 1));
    assert.equal(over.status, 413, over.text);
    assert.equal(over.json.status, 'invalid event');
    assert.match(over.json.errors[0], /512 KB/);
    assert.equal((await incidentsOf(service)).incidents.length, 1, 'only the accepted event is stored');
  });

  test('a body that goes on past the limit is answered 413 before it ends', async () => {
    const service = await createService(worker);
    const endless = paddedTo(trigger(service), EVENT_LIMIT + 1);
    const answer = await Promise.race([
      postChunked(paths.enqueue(), endless, {}, { end: false }),
      new Promise((resolve) => setTimeout(() => resolve({ status: 'no answer within 10 s' }), 10_000)),
    ]);
    assert.equal(answer.status, 413, 'the worker stopped reading at the limit and answered');
    const auth = { authorization: `Bearer ${worker.token}` };
    const apiAnswer = await Promise.race([
      postChunked(paths.createService(), paddedTo({ name: unique('Endless') }, API_LIMIT + 1), auth, { end: false }),
      new Promise((resolve) => setTimeout(() => resolve({ status: 'no answer within 10 s' }), 10_000)),
    ]);
    assert.equal(apiAnswer.status, 413);
  });

  test('a chunked /api body or sign-in one byte past 64 KiB gets 413 payload_too_large', async () => {
    const name = unique('Chunked');
    const auth = { authorization: `Bearer ${worker.token}` };
    const atLimit = await postChunked(paths.createService(), paddedTo({ name }, API_LIMIT), auth);
    assert.equal(atLimit.status, 201, atLimit.text);
    const over = await postChunked(paths.createService(), paddedTo({ name: unique('Chunked') }, API_LIMIT + 1), auth);
    assert.equal(over.status, 413, over.text);
    assert.equal(over.json.error.code, 'payload_too_large');
    const signedIn = await postChunked(paths.signIn(), paddedTo({ token: 'x' }, API_LIMIT + 1));
    assert.equal(signedIn.status, 413, signedIn.text);
    assert.equal(signedIn.json.error.code, 'payload_too_large');
    const names = expectStatus(await api(worker).listServices(), 200, 'services').json.services.map((s) => s.name);
    assert.ok(names.includes(name) && names.filter((n) => n.startsWith('Chunked')).length === 1, 'only the accepted service exists');
  });
});

describe('event field caps', () => {
  test('source, component, group and class of 255 characters are kept and 256 are refused', async () => {
    for (const field of ['source', 'component', 'group', 'class']) {
      const service = await createService(worker);
      const at = await worker.enqueue(trigger(service, { [field]: 'é'.repeat(255) }));
      assert.equal(at.status, 202, `${field}: ${at.text}`);
      const over = await worker.enqueue(trigger(service, { [field]: 'é'.repeat(256) }));
      assert.equal(over.status, 400, `${field}: ${over.text}`);
      assert.deepEqual(over.json.errors, [`'payload.${field}' must be at most 255 characters`]);
      assert.equal((await incidentsOf(service)).incidents.length, 1, `${field}: the refused event stored nothing`);
    }
  });

  test('custom_details of 64 KiB are kept and one byte more gets a clear 400', async () => {
    const service = await createService(worker);
    // {"x":"…"} is 8 bytes around the string.
    const details = (bytes) => ({ x: 'd'.repeat(bytes - 8) });
    const at = await worker.enqueue(trigger(service, { custom_details: details(64 * 1024) }));
    assert.equal(at.status, 202, at.text);
    const over = await worker.enqueue(trigger(service, { custom_details: details(64 * 1024 + 1) }));
    assert.equal(over.status, 400, over.text);
    assert.deepEqual(over.json.errors, ["'payload.custom_details' must be at most 64 KiB once serialized"]);
    const [listed] = (await incidentsOf(service)).incidents;
    assert.equal((await incidentsOf(service)).incidents.length, 1);
    assert.equal(listed.custom_details, undefined, 'lists carry no custom_details');
    const one = expectStatus(await api(worker).getIncident(listed.id), 200, 'get').json.incident;
    assert.equal(one.custom_details.x.length, 64 * 1024 - 8, 'one incident carries them whole');
  });
});

describe('the per-routing-key throttle', () => {
  test(`a burst of ${BURST} is accepted, the next event gets 429 with Retry-After, and other keys are not slowed`, async () => {
    const [service, other] = [await createService(worker), await createService(worker)];
    const first = await worker.enqueue(trigger(service, {}, { dedup_key: 'storm' }));
    assert.equal(first.status, 202, first.text);
    // A merge and a change event take tokens from the same bucket.
    assert.equal((await worker.enqueue(trigger(service, {}, { dedup_key: 'storm' }))).status, 202);
    const change = await api(worker).changeEnqueue({
      routing_key: service.routing_key,
      payload: { summary: 'Deployed v2', source: 'ci' },
    });
    assert.equal(change.status, 202, change.text);
    const throttled = await worker.enqueue(trigger(service));
    assert.equal(throttled.status, 429, throttled.text);
    assert.equal(throttled.json.status, 'throttle exceeded');
    assert.match(throttled.json.message, /arriving too quickly/);
    const retryAfter = Number(throttled.headers.get('retry-after'));
    assert.ok(retryAfter >= 50 && retryAfter <= 60, `one token a minute: Retry-After ${retryAfter}`);
    const resolve = await worker.enqueue({ routing_key: service.routing_key, event_action: 'resolve', dedup_key: 'storm' });
    assert.equal(resolve.status, 429, 'a resolve is an event too');

    const incidents = (await incidentsOf(service)).incidents;
    assert.equal(incidents.length, 1, 'the throttled trigger stored nothing');
    assert.equal(incidents[0].status, 'triggered', 'the throttled resolve changed nothing');
    assert.equal(incidents[0].event_count, 2);
    const types = (await timelineOf(worker, incidents[0].id)).map((e) => e.type);
    assert.deepEqual(types, ['trigger', 'alert']);

    assert.equal((await worker.enqueue(trigger(other))).status, 202, 'another service has its own bucket');
    const unknown = await worker.enqueue({ ...trigger(service), routing_key: 'f'.repeat(32) });
    assert.equal(unknown.status, 400, 'an unknown key is still refused as unknown');
  });
});

describe('paged lists', () => {
  /** A service with `count` incidents opened by hand (not throttled), oldest first. */
  async function serviceWithIncidents(count) {
    const service = await createService(worker);
    const ids = [];
    for (let i = 0; i < count; i += 1) {
      const res = await api(worker).createIncident({ service_id: service.id, title: `Incident ${i}` });
      ids.push(expectStatus(res, 201, 'create').json.incident.id);
    }
    return { service, ids };
  }

  test('incidents page newest first with an opaque cursor until next_cursor is null', async () => {
    const { service, ids } = await serviceWithIncidents(5);
    const seen = [];
    let page = await incidentsOf(service, { limit: 2 });
    const sizes = [];
    for (;;) {
      sizes.push(page.incidents.length);
      seen.push(...page.incidents.map((i) => i.id));
      if (!page.next_cursor) break;
      page = await incidentsOf(service, { limit: 2, cursor: page.next_cursor });
    }
    assert.deepEqual(sizes, [2, 2, 1]);
    assert.deepEqual(seen, [...ids].reverse(), 'every incident once, newest first');
    const whole = await incidentsOf(service, { limit: 5 });
    assert.equal(whole.incidents.length, 5);
    assert.equal(whole.next_cursor, null, 'exactly a page: no cursor');
    assert.equal((await incidentsOf(service)).next_cursor, null, 'the default page (50) holds 5');
  });

  test('a limit of 1 to 100 is accepted, 0 and 101 are not, and a foreign cursor is refused', async () => {
    const { service, ids } = await serviceWithIncidents(1);
    for (const limit of ['1', '100']) {
      assert.equal((await incidentsOf(service, `&limit=${limit}`)).incidents.length, 1);
      expectStatus(await api(worker).getLog(ids[0], { query: { limit: limit } }), 200, limit);
    }
    for (const limit of ['0', '101', 'ten']) {
      assertApiError(await api(worker).listIncidents({ query: { limit: limit } }), 400, 'invalid_limit', limit);
      assertApiError(await api(worker).getLog(ids[0], { query: { limit: limit } }), 400, 'invalid_limit', limit);
    }
    assertApiError(await api(worker).listIncidents({ query: { cursor: 'in1.zz' } }), 400, 'invalid_cursor');
    assertApiError(await api(worker).getLog(ids[0], { query: { cursor: 'in1.5' } }), 400, 'invalid_cursor', 'an incidents cursor on a timeline');
  });

  test('a timeline pages newest first and its pages add up to the whole', async () => {
    const { ids } = await serviceWithIncidents(1);
    for (let i = 0; i < 4; i += 1) {
      expectStatus(await api(worker).addNote(ids[0], { content: `Note ${i}` }), 201, 'note');
    }
    const first = expectStatus(await api(worker).getLog(ids[0], { query: { limit: 2 } }), 200, 'page 1').json;
    assert.deepEqual(first.log_entries.map((e) => e.summary), ['Note 3', 'Note 2']);
    assert.ok(first.next_cursor);
    const whole = await timelineOf(worker, ids[0], { limit: 2 });
    assert.deepEqual(whole.map((e) => e.type), ['trigger', 'note', 'note', 'note', 'note']);
    assert.deepEqual(whole, await timelineOf(worker, ids[0]), 'pages of 2 and one page of 50 agree');
  });
});

describe('the per-service incident cap', () => {
  test(`the hourly prune keeps ${CAP} incidents by removing the oldest resolved ones, never an open one`, async () => {
    const service = await createService(worker);
    const ids = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push(expectStatus(await api(worker).createIncident({ service_id: service.id, title: `Old ${i}` }), 201, 'create').json.incident.id);
    }
    // The oldest stays open; the next three are resolved; the newest stays open.
    for (const id of ids.slice(1, 4)) expectStatus(await api(worker).resolve(id), 200, 'resolve');
    await worker.scheduled('* * * * *');
    assert.equal((await incidentsOf(service)).incidents.length, 5, 'the minutely cron does not prune');
    await worker.scheduled('17 * * * *');
    const left = (await incidentsOf(service)).incidents.map((i) => i.id);
    assert.deepEqual(left, [ids[4], ids[3], ids[0]], 'the two oldest resolved are gone; open ones stay');
    assertApiError(await api(worker).getLog(ids[1]), 404, 'not_found', 'its timeline went with it');
    await worker.scheduled('17 * * * *');
    assert.equal((await incidentsOf(service)).incidents.length, CAP, 'at the cap, nothing more is pruned');
  });
});
