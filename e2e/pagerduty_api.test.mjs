// The PagerDuty REST API v2 surface (`/pagerduty`), against the real worker, called as
// PagerDuty's clients call it: `Authorization: Token token=<key>`, PagerDuty's Accept
// header, `From`. Port's "create" and "trigger" bodies are taken from its guide with only
// the host changed. Role enforcement on every route is in the authorization matrix
// (e2e/authz.test.mjs).

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { api, paths } from './client.mjs';
import { createService, expectStatus, newMember, timelineOf, unique, useWorld } from './harness.mjs';

const { worker, ready } = useWorld({ receiver: false });
let service;
before(async () => {
  await ready;
  service = await createService(worker, unique('Checkout'));
});

const PD_ACCEPT = 'application/vnd.pagerduty+json;version=2';

/** The headers a PagerDuty client sends: `token` (the ADMIN_TOKEN by default), and `From` if given. */
const pdHeaders = ({ token = worker.token, from } = {}) => ({
  authorization: `Token token=${token}`,
  accept: PD_ACCEPT,
  ...(from ? { from } : {}),
});
/** A client of the surface calling as a PagerDuty client would (see `pdHeaders`). */
const pd = (as) => api(worker, { headers: pdHeaders(as) });

function assertPdError(res, status, code, what) {
  const context = `${what} → ${res.status} ${res.text.slice(0, 500)}`;
  assert.equal(res.status, status, context);
  assert.equal(typeof res.json?.error?.message, 'string', context);
  assert.equal(res.json.error.code, code, context);
  assert.ok(Array.isArray(res.json.error.errors), context);
  return res.json.error;
}


/** Port's "Create PagerDuty incident" body, as its guide sends it. */
const portCreateBody = (title, extra = {}) => ({
  incident: {
    type: 'incident',
    title,
    service: { id: service.id, type: 'service_reference' },
    urgency: 'high',
    body: { type: 'incident_body', details: 'Opened from a Port self-service action' },
    ...extra,
  },
});

describe('the PagerDuty REST API', () => {
  test("Port's create body opens an incident, answered with the fields Port reads", async () => {
    const responder = await newMember(worker, 'responder');
    const res = await pd({ token: responder.token, from: 'ignored@example.com' }).pdCreateIncident(portCreateBody('Checkout is down'));
    assert.equal(res.status, 201, res.text);
    const { incident } = res.json;
    for (const field of ['id', 'title', 'status', 'urgency', 'self', 'html_url', 'created_at']) {
      assert.ok(incident[field], `${field} in ${res.text}`);
    }
    assert.equal(incident.type, 'incident');
    assert.equal(incident.status, 'triggered');
    assert.equal(incident.service.id, service.id);
    assert.equal(incident.service.type, 'service_reference');
    assert.equal(incident.self, worker.baseUrl + paths.pdGetIncident(incident.id));
    assert.equal(incident.html_url, `${worker.baseUrl}/incidents/${incident.id}`);
    assert.deepEqual(incident.body, { type: 'incident_body', details: 'Opened from a Port self-service action' });
    const log = await timelineOf(worker, incident.id);
    assert.equal(log[0].summary, `Created by ${responder.user.name}`, 'a user token acts as its user; From is ignored');
  });

  test("Port's trigger body goes through the Events API and shows here", async () => {
    const key = `port-${crypto.randomUUID()}`;
    const trigger = await worker.enqueue({
      routing_key: service.routing_key,
      event_action: 'trigger',
      dedup_key: key,
      payload: { summary: 'Triggered from Port', source: 'port', severity: 'critical' },
    });
    assert.equal(trigger.status, 202, trigger.text);
    const found = expectStatus(await pd().pdListIncidents({ query: { incident_key: key } }), 200, 'by key').json;
    assert.equal(found.incidents.length, 1);
    assert.equal(found.incidents[0].title, 'Triggered from Port');
    assert.equal(found.incidents[0].incident_key, key);
  });

  test('an open incident with the same incident_key is PagerDuty\'s 400', async () => {
    const key = `dup-${crypto.randomUUID()}`;
    expectStatus(await pd().pdCreateIncident(portCreateBody('First', { incident_key: key })), 201, 'first');
    const again = await pd().pdCreateIncident(portCreateBody('Second', { incident_key: key }));
    const error = assertPdError(again, 400, 2001, 'duplicate key');
    assert.deepEqual(error.errors, ['Open incident with matching dedup key already exists on this service']);
  });

  test('From names the user acting with the ADMIN_TOKEN, and an unknown one is 400', async () => {
    const manager = await newMember(worker, 'manager');
    const created = expectStatus(
      await pd({ from: manager.user.email.toUpperCase() }).pdCreateIncident(portCreateBody('As the manager')),
      201,
      'as manager',
    ).json.incident;
    const log = await timelineOf(worker, created.id);
    assert.equal(log[0].summary, `Created by ${manager.user.name}`);
    assertPdError(await pd({ from: 'nobody@example.com' }).pdCreateIncident(portCreateBody('Nobody')), 400, 2001, 'unknown From');
    const stakeholder = await newMember(worker, 'stakeholder');
    assertPdError(
      await pd({ from: stakeholder.user.email }).pdCreateIncident(portCreateBody('As a stakeholder')),
      403,
      2010,
      'From takes the role of the user named',
    );
  });

  test('lists filter by status, service, urgency and key, and page at their edges', async () => {
    const own = await createService(worker);
    const made = [];
    for (let i = 0; i < 3; i++) {
      const body = portCreateBody(`Page ${i}`);
      body.incident.service.id = own.id;
      body.incident.urgency = i === 0 ? 'low' : 'high';
      made.push(expectStatus(await pd().pdCreateIncident(body), 201, `incident ${i}`).json.incident);
    }
    const list = (query) => pd().pdListIncidents({ query: `service_ids[]=${own.id}&${query}` }).then((r) => expectStatus(r, 200, query).json);
    const all = await list('total=true');
    assert.deepEqual(all.incidents.map((i) => i.title), ['Page 2', 'Page 1', 'Page 0'], 'newest first');
    assert.deepEqual([all.limit, all.offset, all.total, all.more], [25, 0, 3, false]);
    assert.equal((await list('')).total, null, 'total only when asked for');
    assert.deepEqual((await list('sort_by=created_at:asc')).incidents.map((i) => i.title), ['Page 0', 'Page 1', 'Page 2']);
    const one = await list('limit=1');
    assert.deepEqual([one.incidents.length, one.more], [1, true], 'limit 1');
    const exact = await list('limit=3');
    assert.deepEqual([exact.incidents.length, exact.more], [3, false], 'exactly limit');
    const fewer = await list('limit=2');
    assert.deepEqual([fewer.incidents.length, fewer.more], [2, true], 'limit + 1 exist');
    const last = await list('limit=2&offset=2');
    assert.deepEqual([last.incidents.map((i) => i.title), last.more], [['Page 0'], false], 'the last page');
    const none = await list('offset=3');
    assert.deepEqual([none.incidents, none.more], [[], false], 'past the end');
    assert.deepEqual((await list('urgencies[]=low')).incidents.map((i) => i.title), ['Page 0']);
    expectStatus(await pd().pdUpdateIncident(made[1].id, { incident: { type: 'incident', status: 'acknowledged' } }), 200, 'ack');
    assert.deepEqual((await list('statuses[]=acknowledged')).incidents.map((i) => i.title), ['Page 1']);
    assert.deepEqual(
      (await list('statuses[]=triggered&statuses[]=acknowledged&limit=100')).incidents.length,
      3,
    );
    assertPdError(await pd().pdListIncidents({ query: { limit: 101 } }), 400, 2001, 'limit 101');
    assertPdError(await pd().pdListIncidents({ query: { limit: 0 } }), 400, 2001, 'limit 0');
  });

  test('PUT changes status, title and urgency, and a resolution becomes a note', async () => {
    const incident = expectStatus(await pd().pdCreateIncident(portCreateBody('To fix')), 201, 'create').json.incident;
    const put = await pd().pdUpdateIncident(incident.id, {
      incident: { type: 'incident', status: 'resolved', title: 'Fixed: checkout', urgency: 'low', resolution: 'Restarted the pool' },
    });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(
      [put.json.incident.status, put.json.incident.title, put.json.incident.urgency],
      ['resolved', 'Fixed: checkout', 'low'],
    );
    const notes = expectStatus(await pd().pdListNotes(incident.id), 200, 'notes').json.notes;
    assert.deepEqual(notes.map((n) => n.content), ['Restarted the pool']);
    assertPdError(
      await pd().pdUpdateIncident(incident.id, { incident: { type: 'incident', status: 'triggered' } }),
      400,
      2001,
      'back to triggered',
    );
    assertPdError(await pd().pdUpdateIncident('inc_missing', { incident: { type: 'incident', status: 'resolved' } }), 404, 2100, 'missing');
  });

  test('bulk PUT acknowledges several incidents', async () => {
    const a = expectStatus(await pd().pdCreateIncident(portCreateBody('Bulk A')), 201, 'a').json.incident;
    const b = expectStatus(await pd().pdCreateIncident(portCreateBody('Bulk B')), 201, 'b').json.incident;
    const res = await pd().pdUpdateIncidents({
      incidents: [
        { id: a.id, type: 'incident_reference', status: 'acknowledged' },
        { id: b.id, type: 'incident_reference', status: 'resolved' },
      ],
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.incidents.map((i) => i.status), ['acknowledged', 'resolved']);
  });

  test('notes and log entries use PagerDuty\'s shapes and types', async () => {
    const incident = expectStatus(await pd().pdCreateIncident(portCreateBody('Noted')), 201, 'create').json.incident;
    const note = await pd().pdCreateNote(incident.id, { note: { content: '<b>Looking</b> at it' } });
    assert.equal(note.status, 201, note.text);
    assert.equal(note.json.note.content, '<b>Looking</b> at it');
    assert.equal(note.json.note.user.type, 'user_reference');
    assertPdError(await pd().pdCreateNote(incident.id, { note: { content: ' ' } }), 400, 2001, 'blank note');
    expectStatus(await pd().pdUpdateIncident(incident.id, { incident: { type: 'incident', status: 'acknowledged' } }), 200, 'ack');
    const { log_entries: entries } = expectStatus(await pd().pdListLogEntries(incident.id), 200, 'log').json;
    assert.deepEqual(entries.map((e) => e.type), ['acknowledge_log_entry', 'annotate_log_entry', 'trigger_log_entry'], 'newest first');
  });

  test('services are listed without routing keys', async () => {
    const { services } = expectStatus(await pd().pdListServices(), 200, 'services').json;
    const mine = services.find((s) => s.id === service.id);
    assert.equal(mine.type, 'service');
    assert.equal(mine.self, worker.baseUrl + paths.pdGetService(service.id));
    const one = expectStatus(await pd().pdGetService(service.id), 200, 'service').json.service;
    assert.equal(one.name, service.name);
    for (const text of [JSON.stringify(services), JSON.stringify(one)]) assert.ok(!text.includes(service.routing_key), 'no routing key');
    assertPdError(await pd().pdGetService('svc_missing'), 404, 2100, 'missing service');
  });

  test('errors use PagerDuty\'s shape; a cookie is not a credential here', async () => {
    assertPdError(await pd().pdGetIncident('inc_missing'), 404, 2100, 'missing incident');
    assertPdError(await pd({ token: 'iat_wrong' }).pdListIncidents(), 401, 2006, 'wrong token');
    assertPdError(await api(worker).pdListIncidents({ token: null }), 401, 2006, 'no token');
    const signedIn = await api(worker).signIn({ token: worker.token }, { token: null, headers: { origin: worker.baseUrl } });
    const cookie = signedIn.headers.get('set-cookie').split(';')[0];
    assertPdError(await api(worker).pdListIncidents({ token: null, headers: { cookie } }), 401, 2006, 'cookie only');
    // A path and a method no route has: deliberate, so sent by hand.
    assertPdError(await worker.api('GET', '/pagerduty/nothing-here', undefined, pdHeaders()), 404, 2100, 'unknown path');
    assertPdError(await worker.api('DELETE', paths.pdListIncidents(), undefined, pdHeaders()), 405, 2000, 'method');
  });
});
