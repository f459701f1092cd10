// The PagerDuty Events API v2 endpoint: what monitoring tools send, and what they get back.
// Every event here is sent with no credentials, as Alertmanager would send it.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';

import { api } from './client.mjs';
import { createService, timelineOf, unique, useWorld } from './harness.mjs';

const { worker } = useWorld();

const trigger = (service, payload = {}, extra = {}) => ({
  routing_key: service.routing_key,
  event_action: 'trigger',
  payload: { summary: unique('Disk full'), source: 'db-1', severity: 'critical', ...payload },
  ...extra,
});

async function incidentsOf(service) {
  const res = await api(worker).listIncidents({ query: { service_id: service.id } });
  assert.equal(res.status, 200, res.text);
  return res.json.incidents;
}

async function logOf(incident) {
  return (await timelineOf(worker, incident.id));
}

function assertAccepted(res) {
  assert.equal(res.status, 202, res.text);
  assert.equal(res.json.status, 'success');
  assert.equal(res.json.message, 'Event processed');
  assert.equal(typeof res.json.dedup_key, 'string');
  assert.ok(res.json.dedup_key.length > 0);
  return res.json.dedup_key;
}

function assertInvalid(res, what = '') {
  assert.equal(res.status, 400, `${what}: ${res.text}`);
  assert.equal(res.json?.status, 'invalid event', res.text);
  assert.equal(res.json.message, 'Event object is invalid');
  assert.ok(Array.isArray(res.json.errors) && res.json.errors.length > 0, res.text);
  return res.json.errors;
}

describe('trigger', () => {
  test('a trigger opens an incident with every field of the event', async () => {
    const service = await createService(worker);
    const event = trigger(
      service,
      {
        summary: 'Disk full on db-1',
        severity: 'error',
        source: 'db-1.prod',
        component: 'postgres',
        group: 'storage',
        class: 'disk',
        custom_details: { free_bytes: 0, mounts: ['/var', '/data'] },
        timestamp: '2026-11-22T10:00:00.000Z',
      },
      { dedup_key: 'disk/db-1', client: 'Alertmanager', links: [{ href: 'https://grafana.example.com/d/1', text: 'Dashboard' }] },
    );
    const dedupKey = assertAccepted(await worker.enqueue(event));
    assert.equal(dedupKey, 'disk/db-1');

    const [listed] = await incidentsOf(service);
    const res = await api(worker).getIncident(listed.id);
    assert.equal(res.status, 200, res.text);
    const { incident } = res.json;
    assert.match(incident.id, /^inc_/);
    assert.equal(typeof incident.number, 'number');
    assert.equal(incident.title, 'Disk full on db-1');
    assert.equal(incident.status, 'triggered');
    assert.equal(incident.severity, 'error');
    assert.equal(incident.urgency, 'high');
    assert.equal(incident.source, 'db-1.prod');
    assert.equal(incident.component, 'postgres');
    assert.equal(incident.group, 'storage');
    assert.equal(incident.class, 'disk');
    assert.deepEqual(incident.custom_details, { free_bytes: 0, mounts: ['/var', '/data'] });
    assert.equal(incident.dedup_key, 'disk/db-1');
    assert.deepEqual(incident.service, { id: service.id, name: service.name });
    assert.ok(Date.parse(incident.created_at) && Date.parse(incident.updated_at));
    assert.deepEqual(incident.actions, []);
    assert.deepEqual(incident.links, [{ href: 'https://grafana.example.com/d/1', text: 'Dashboard' }]);

    const log = await logOf(incident);
    assert.equal(log.length, 1);
    assert.equal(log[0].type, 'trigger');
  });

  test('a trigger without a dedup_key gets one generated, and each opens its own incident', async () => {
    const service = await createService(worker);
    const a = assertAccepted(await worker.enqueue(trigger(service)));
    const b = assertAccepted(await worker.enqueue(trigger(service)));
    assert.notEqual(a, b);
    const incidents = await incidentsOf(service);
    assert.equal(incidents.length, 2);
    assert.deepEqual(incidents.map((i) => i.dedup_key).sort(), [a, b].sort());
  });

  test('incident numbers are distinct', async () => {
    const service = await createService(worker);
    for (let i = 0; i < 3; i += 1) assertAccepted(await worker.enqueue(trigger(service)));
    const numbers = (await incidentsOf(service)).map((i) => i.number);
    assert.equal(new Set(numbers).size, 3);
  });

  test('a trigger with the dedup_key of an open incident adds to it', async () => {
    const service = await createService(worker);
    assertAccepted(await worker.enqueue(trigger(service, { summary: 'First alert' }, { dedup_key: 'cpu/web-1' })));
    assertAccepted(await worker.enqueue(trigger(service, { summary: 'Second alert' }, { dedup_key: 'cpu/web-1' })));
    const incidents = await incidentsOf(service);
    assert.equal(incidents.length, 1);
    const { incident } = (await api(worker).getIncident(incidents[0].id)).json;
    assert.equal(incident.event_count, 2);
    assert.equal(incident.status, 'triggered');
    assert.deepEqual((await logOf(incident)).map((e) => [e.type, e.summary]), [
      ['trigger', 'Triggered: First alert'],
      ['alert', 'Another trigger event was merged into this incident: Second alert'],
    ]);
  });

  test('triggers merged within a minute add one timeline row that counts them, and a later minute one more', async () => {
    const service = await createService(worker);
    const storm = (summary) => worker.enqueue(trigger(service, { summary }, { dedup_key: 'cpu/storm' }));
    assertAccepted(await storm('CPU high'));
    for (let i = 1; i <= 20; i += 1) assertAccepted(await storm(`CPU high ${i}`));
    const [{ id }] = await incidentsOf(service);
    const incidentNow = async () => (await api(worker).getIncident(id)).json.incident;
    assert.equal((await incidentNow()).event_count, 21, 'every event counted on the incident');
    assert.deepEqual((await logOf({ id })).map((e) => [e.type, e.summary]), [
      ['trigger', 'Triggered: CPU high'],
      ['alert', '20 more trigger events were merged into this incident within a minute; the latest: CPU high 20'],
    ]);

    // A minute passes: the row stops counting, and the next trigger starts another.
    await worker.sql(`UPDATE log_entries SET created_at = created_at - 61000 WHERE incident_id = '${id}'`);
    assertAccepted(await storm('CPU high 21'));
    assertAccepted(await storm('CPU high 22'));
    assert.equal((await incidentNow()).event_count, 23);
    assert.deepEqual((await logOf({ id })).map((e) => [e.type, e.summary]), [
      ['trigger', 'Triggered: CPU high'],
      ['alert', '20 more trigger events were merged into this incident within a minute; the latest: CPU high 20'],
      ['alert', '2 more trigger events were merged into this incident within a minute; the latest: CPU high 22'],
    ]);
  });

  test('the same dedup_key on another service opens a separate incident', async () => {
    const a = await createService(worker);
    const b = await createService(worker);
    assertAccepted(await worker.enqueue(trigger(a, {}, { dedup_key: 'shared' })));
    assertAccepted(await worker.enqueue(trigger(b, {}, { dedup_key: 'shared' })));
    assert.equal((await incidentsOf(a)).length, 1);
    assert.equal((await incidentsOf(b)).length, 1);
  });

  test('severity sets urgency: critical and error are high, warning and info low', async () => {
    const service = await createService(worker);
    const expected = { critical: 'high', error: 'high', warning: 'low', info: 'low' };
    for (const severity of Object.keys(expected)) {
      assertAccepted(await worker.enqueue(trigger(service, { severity }, { dedup_key: `sev-${severity}` })));
    }
    const incidents = await incidentsOf(service);
    assert.equal(incidents.length, 4);
    for (const incident of incidents) {
      assert.equal(incident.urgency, expected[incident.severity], `${incident.severity} → ${incident.urgency}`);
      assert.equal(incident.dedup_key, `sev-${incident.severity}`);
    }
  });
});

describe('acknowledge and resolve by dedup_key', () => {
  test('acknowledge then resolve change the open incident and appear on its timeline', async () => {
    const service = await createService(worker);
    const dedup_key = 'api-latency';
    assertAccepted(await worker.enqueue(trigger(service, {}, { dedup_key })));
    const base = { routing_key: service.routing_key, dedup_key };

    assert.equal(assertAccepted(await worker.enqueue({ ...base, event_action: 'acknowledge' })), dedup_key);
    let [incident] = await incidentsOf(service);
    assert.equal(incident.status, 'acknowledged');

    assert.equal(assertAccepted(await worker.enqueue({ ...base, event_action: 'resolve' })), dedup_key);
    [incident] = await incidentsOf(service);
    assert.equal(incident.status, 'resolved');
    assert.deepEqual((await logOf(incident)).map((e) => e.type), ['trigger', 'acknowledge', 'resolve']);
  });

  test('a trigger after resolve opens a new incident with the same key', async () => {
    const service = await createService(worker);
    const dedup_key = 'flapping';
    assertAccepted(await worker.enqueue(trigger(service, {}, { dedup_key })));
    assertAccepted(await worker.enqueue({ routing_key: service.routing_key, dedup_key, event_action: 'resolve' }));
    assertAccepted(await worker.enqueue(trigger(service, {}, { dedup_key })));
    const incidents = await incidentsOf(service);
    assert.deepEqual(incidents.map((i) => i.status).sort(), ['resolved', 'triggered']);
  });

  test('acknowledge or resolve with no open incident is accepted and changes nothing', async () => {
    const service = await createService(worker);
    assertAccepted(await worker.enqueue(trigger(service, {}, { dedup_key: 'exists' })));
    const before = await incidentsOf(service);
    for (const event_action of ['acknowledge', 'resolve']) {
      const res = await worker.enqueue({ routing_key: service.routing_key, dedup_key: 'never-triggered', event_action });
      assert.equal(assertAccepted(res), 'never-triggered');
    }
    const after = await incidentsOf(service);
    assert.deepEqual(after, before);
    assert.equal(after[0].status, 'triggered');
  });

  test('acknowledge does not reach another service’s incident with the same key', async () => {
    const a = await createService(worker);
    const b = await createService(worker);
    assertAccepted(await worker.enqueue(trigger(a, {}, { dedup_key: 'k' })));
    assertAccepted(await worker.enqueue({ routing_key: b.routing_key, dedup_key: 'k', event_action: 'acknowledge' }));
    assert.equal((await incidentsOf(a))[0].status, 'triggered');
  });
});

describe('invalid events', () => {
  test('a missing field is 400 with PagerDuty’s body and stores nothing', async () => {
    const service = await createService(worker);
    const errors = assertInvalid(await worker.enqueue({ routing_key: service.routing_key, event_action: 'trigger', payload: { source: 'x', severity: 'info' } }));
    assert.ok(errors.some((e) => e.includes('payload.summary')), JSON.stringify(errors));
    assertInvalid(await worker.enqueue({ routing_key: service.routing_key, event_action: 'explode', payload: {} }));
    assertInvalid(await worker.enqueue(trigger(service, { severity: 'fatal' })));
    assertInvalid(await worker.enqueue(trigger(service, { summary: 's'.repeat(1025) })));
    assertInvalid(await worker.enqueue(trigger(service, {}, { dedup_key: 'k'.repeat(256) })));
    assertInvalid(await worker.enqueue({ routing_key: service.routing_key, event_action: 'acknowledge' }));
    assertInvalid(await worker.enqueue(trigger(service, { timestamp: 'last tuesday' })));
    assertInvalid(await worker.enqueue(trigger(service, {}, { links: 'not a list' })));
    assertInvalid(await worker.enqueue([trigger(service)]));
    assert.deepEqual(await incidentsOf(service), []);
  });

  test('the longest summary and dedup_key are accepted', async () => {
    const service = await createService(worker);
    assertAccepted(await worker.enqueue(trigger(service, { summary: 's'.repeat(1024) }, { dedup_key: 'k'.repeat(255) })));
    const [incident] = await incidentsOf(service);
    assert.equal(incident.title.length, 1024);
    assert.equal(incident.dedup_key.length, 255);
  });

  test('an unknown routing key is 400 invalid event', async () => {
    const res = await worker.enqueue({
      routing_key: crypto.randomBytes(16).toString('hex'),
      event_action: 'trigger',
      payload: { summary: 'Nobody home', source: 'x', severity: 'info' },
    });
    assertInvalid(res);
  });

  test('malformed JSON is 400 invalid event', async () => {
    const res = await api(worker).enqueue('{"routing_key": "abc", "event_act', { token: null, headers: { 'content-type': 'application/json' } });
    assertInvalid(res);
  });

  test('a body of exactly 512 KB is accepted and one byte more is 413', async () => {
    const service = await createService(worker);
    // custom_details have a cap of their own (64 KiB, tests in limits.test.mjs): the body
    // is brought to size with `images`, which are accepted and not kept.
    const sized = (bytes, dedup_key) => {
      const event = trigger(service, { summary: 'Big event' }, { dedup_key, images: [{ src: '' }] });
      const base = Buffer.byteLength(JSON.stringify(event));
      event.images[0].src = 'p'.repeat(bytes - base);
      const body = JSON.stringify(event);
      assert.equal(Buffer.byteLength(body), bytes);
      return body;
    };
    const json = { 'content-type': 'application/json' };
    const atBody = sized(512 * 1024, 'at-limit');
    const at = await api(worker).enqueue(atBody, { token: null, headers: json });
    assertAccepted(at);
    const under = await api(worker).enqueue(sized(512 * 1024 - 1, 'under-limit'), { token: null, headers: json });
    assertAccepted(under);
    const over = await api(worker).enqueue(sized(512 * 1024 + 1, 'over-limit'), { token: null, headers: json });
    assert.equal(over.status, 413, over.text.slice(0, 500));
    const keys = (await incidentsOf(service)).map((i) => i.dedup_key).sort();
    assert.deepEqual(keys, ['at-limit', 'under-limit']);
    const [stored] = (await incidentsOf(service)).filter((i) => i.dedup_key === 'at-limit');
    assert.equal(stored.title, 'Big event');
  });
});

describe('every accepted event is stored exactly once', () => {
  test('N concurrent triggers with distinct keys make N incidents', async () => {
    const service = await createService(worker);
    const n = 40;
    const results = [];
    const queue = Array.from({ length: n }, (_, i) => i);
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (queue.length) {
          const i = queue.shift();
          results.push(await worker.enqueue(trigger(service, {}, { dedup_key: `burst-${i}` })));
        }
      }),
    );
    const accepted = results.filter((r) => r.status === 202).length;
    assert.equal(accepted, n, results.filter((r) => r.status !== 202).map((r) => `${r.status} ${r.text}`).join('\n'));
    const incidents = await incidentsOf(service);
    assert.equal(incidents.length, accepted);
    assert.equal(new Set(incidents.map((i) => i.dedup_key)).size, n);
  });

  test('concurrent triggers with one key make one incident counting every event', async () => {
    const service = await createService(worker);
    const n = 10;
    const results = await Promise.all(Array.from({ length: n }, () => worker.enqueue(trigger(service, {}, { dedup_key: 'storm' }))));
    assert.deepEqual(results.map((r) => r.status), Array(n).fill(202), results.map((r) => r.text).join('\n'));
    const incidents = await incidentsOf(service);
    assert.equal(incidents.length, 1);
    const { incident } = (await api(worker).getIncident(incidents[0].id)).json;
    assert.equal(incident.event_count, n);
    const log = await logOf(incident);
    assert.equal(log.filter((e) => e.type === 'trigger').length, 1);
    const alerts = log.filter((e) => e.type === 'alert');
    assert.equal(alerts.length, 1, 'merged within a minute: one row');
    assert.match(alerts[0].summary, new RegExp(`^${n - 1} more trigger events were merged into this incident`));
  });
});
