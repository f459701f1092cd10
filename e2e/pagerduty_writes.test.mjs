// PagerDuty's `PUT /incidents/{id}` and bulk `PUT /incidents` are all or nothing, against
// the real worker: every incident and every change is checked against what was read before
// anything is written; then every change, with its timeline entry and audit record, is
// written in one D1 batch, or, when a check fails, nothing is. The bulk update takes at most
// two D1 round trips for 100 incidents, as its `Server-Timing` counts them.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { api } from './client.mjs';
import { createService, expectStatus, timelineOf, unique, useWorld } from './harness.mjs';

const { worker, ready } = useWorld({ receiver: false });
let service;
before(async () => {
  await ready;
  service = await createService(worker, unique('Writes'));
});

const PD_ACCEPT = 'application/vnd.pagerduty+json;version=2';

/** A client of `target`'s PagerDuty surface calling as a PagerDuty client would, with the ADMIN_TOKEN. */
const pd = (target = worker) => api(target, { headers: { authorization: `Token token=${target.token}`, accept: PD_ACCEPT } });

/** Asserts PagerDuty's error body with `status` and `code`; returns its `errors`. */
function assertPdError(res, status, code, what) {
  const context = `${what} → ${res.status} ${res.text.slice(0, 500)}`;
  assert.equal(res.status, status, context);
  assert.equal(res.json?.error?.code, code, context);
  assert.ok(Array.isArray(res.json.error.errors), context);
  return res.json.error.errors;
}

/** Opens an incident through the PagerDuty surface of `target`. */
async function open(title = unique('Incident'), target = worker, serviceId = service.id) {
  const body = { incident: { type: 'incident', title, service: { id: serviceId, type: 'service_reference' }, urgency: 'high' } };
  return expectStatus(await pd(target).pdCreateIncident(body), 201, `open ${title}`).json.incident;
}

const put = (id, fields, target = worker) => pd(target).pdUpdateIncident(id, { incident: { type: 'incident', ...fields } });
const bulk = (items, target = worker) =>
  pd(target).pdUpdateIncidents({ incidents: items.map((item) => ({ type: 'incident_reference', ...item })) });
const current = async (id, target = worker) =>
  expectStatus(await pd(target).pdGetIncident(id), 200, `get ${id}`).json.incident;

/** The audit records of one incident, oldest first. */
async function auditOf(id, target = worker) {
  const { audit_entries: entries } = expectStatus(await api(target).listAudit(), 200, 'audit').json;
  return entries.filter((entry) => entry.target_id === id).reverse();
}

/** The D1 round trips of a `PUT`'s update, from its `Server-Timing`. */
function updateTrips(res) {
  const timing = res.headers.get('server-timing') ?? '';
  const match = /d1-update;desc="(\d+)"/.exec(timing);
  assert.ok(match, `Server-Timing with d1-update expected, got ${JSON.stringify(timing)}`);
  return Number(match[1]);
}

describe('PUT /pagerduty/incidents/{id}', () => {
  test('a PUT whose status change is refused answers the error and leaves the title it also asked for', async () => {
    const incident = await open('Before the refused PUT');
    expectStatus(await put(incident.id, { status: 'resolved' }), 200, 'resolve');
    const timeline = await timelineOf(worker, incident.id);

    const errors = assertPdError(
      await put(incident.id, { title: 'Renamed by a refused PUT', urgency: 'low', status: 'acknowledged' }),
      400,
      2001,
      'acknowledge a resolved incident',
    );
    assert.deepEqual(errors, ['This incident is already resolved; it can no longer be acknowledged'], 'the rule /api follows');
    const after = await current(incident.id);
    assert.deepEqual([after.title, after.urgency, after.status], ['Before the refused PUT', 'high', 'resolved']);
    assert.deepEqual(await timelineOf(worker, incident.id), timeline, 'no timeline entry');

    const open2 = await open('Open, asked back to triggered');
    assertPdError(await put(open2.id, { title: 'Renamed too', status: 'triggered' }), 400, 2001, 'back to triggered');
    assert.equal((await current(open2.id)).title, 'Open, asked back to triggered');
    assert.deepEqual(await auditOf(open2.id), [], 'no audit record');
  });

  test('a PUT changing title and urgency writes one timeline entry and one audit record for each', async () => {
    const incident = await open('Checkout slow');
    const res = await put(incident.id, { title: 'Checkout down', urgency: 'low' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual([res.json.incident.title, res.json.incident.urgency], ['Checkout down', 'low']);

    const log = await timelineOf(worker, incident.id);
    assert.deepEqual(
      log.map((entry) => [entry.type, entry.summary]),
      [
        ['trigger', 'Created by Administrator'],
        ['title_change', 'Title changed from "Checkout slow" to "Checkout down" by Administrator'],
        ['urgency_change', 'Urgency changed from high to low by Administrator'],
      ],
    );
    const audit = await auditOf(incident.id);
    assert.deepEqual(
      audit.map((entry) => [entry.event, entry.target_type, entry.service_id, entry.before, entry.after]),
      [
        ['incident.title_changed', 'incident', service.id, { title: 'Checkout slow' }, { title: 'Checkout down' }],
        ['incident.urgency_changed', 'incident', service.id, { urgency: 'high' }, { urgency: 'low' }],
      ],
    );
    assert.ok(updateTrips(res) <= 2, res.headers.get('server-timing'));

    expectStatus(await put(incident.id, { title: 'Checkout down', urgency: 'low' }), 200, 'the same again');
    assert.equal((await timelineOf(worker, incident.id)).length, 3, 'asking for what it has changes nothing');
    assert.equal((await auditOf(incident.id)).length, 2);

    const { log_entries: entries } = expectStatus(await pd().pdListLogEntries(incident.id), 200, 'log').json;
    assert.deepEqual(
      entries.map((entry) => entry.type),
      ['urgency_change_log_entry', 'field_value_change_log_entry', 'trigger_log_entry'],
      "PagerDuty's types, newest first",
    );
  });

  test('a PUT that resolves with a resolution writes the change, its record and the note in one go', async () => {
    const incident = await open('To resolve');
    const res = await put(incident.id, { status: 'resolved', resolution: 'Restarted the pool' });
    assert.equal(res.status, 200, res.text);
    const log = await timelineOf(worker, incident.id);
    assert.deepEqual(
      log.map((entry) => [entry.type, entry.summary]),
      [
        ['trigger', 'Created by Administrator'],
        ['resolve', 'Resolved by Administrator'],
        ['note', 'Restarted the pool'],
      ],
    );
    const audit = await auditOf(incident.id);
    assert.deepEqual(audit.map((entry) => [entry.event, entry.before, entry.after]), [
      ['incident.resolved', { status: 'triggered' }, { status: 'resolved' }],
    ]);
  });
});

describe('PUT /pagerduty/incidents (bulk)', () => {
  test('a bulk PUT of 3 ids whose last is unknown answers 404 and changes none of them', async () => {
    const [a, b] = [await open('Bulk first'), await open('Bulk second')];
    const res = await bulk([
      { id: a.id, status: 'acknowledged' },
      { id: b.id, status: 'resolved' },
      { id: 'inc_unknown', status: 'resolved' },
    ]);
    assertPdError(res, 404, 2100, 'unknown last id');
    for (const incident of [a, b]) {
      assert.equal((await current(incident.id)).status, 'triggered', `${incident.title} unchanged`);
      assert.deepEqual((await timelineOf(worker, incident.id)).map((entry) => entry.type), ['trigger']);
    }
  });

  test('a bulk PUT with one refused change answers the error naming it and changes none', async () => {
    const [a, b] = [await open('Bulk open'), await open('Bulk resolved')];
    expectStatus(await put(b.id, { status: 'resolved' }), 200, 'resolve b');
    const errors = assertPdError(
      await bulk([
        { id: a.id, status: 'acknowledged' },
        { id: b.id, status: 'acknowledged' },
      ]),
      400,
      2001,
      'acknowledge a resolved one',
    );
    assert.deepEqual(errors, ['incidents[1]: This incident is already resolved; it can no longer be acknowledged']);
    assert.equal((await current(a.id)).status, 'triggered');
    assertPdError(await bulk([{ id: a.id, status: 'resolved' }, { id: a.id, status: 'acknowledged' }]), 400, 2001, 'twice');
    assert.equal((await current(a.id)).status, 'triggered');
  });

  test('a bulk PUT of 100 incidents applies them all in at most 2 D1 round trips, and 101 are refused', { timeout: 300_000 }, async () => {
    const own = await createService(worker);
    const made = [];
    for (let i = 0; i < 101; i++) made.push(await open(`Bulk ${i}`, worker, own.id));
    const hundred = made.slice(0, 100);

    assertPdError(await bulk(made.map((incident) => ({ id: incident.id, status: 'resolved' }))), 400, 2001, '101 incidents');
    assert.equal((await current(made[0].id)).status, 'triggered', '101 change nothing');

    const res = await bulk(hundred.map((incident, i) => ({ id: incident.id, status: i % 2 ? 'resolved' : 'acknowledged' })));
    assert.equal(res.status, 200, res.text.slice(0, 1000));
    assert.deepEqual(
      res.json.incidents.map((incident) => incident.id),
      hundred.map((incident) => incident.id),
      'answered in the order asked',
    );
    assert.deepEqual(
      res.json.incidents.map((incident) => incident.status),
      hundred.map((_, i) => (i % 2 ? 'resolved' : 'acknowledged')),
    );
    const trips = updateTrips(res);
    assert.ok(trips >= 1 && trips <= 2, `${trips} D1 round trips for 100 incidents`);

    const ids = hundred.map((incident) => `'${incident.id}'`).join(',');
    const [entries] = await worker.query(
      `SELECT COUNT(*) AS n FROM log_entries WHERE incident_id IN (${ids}) AND type IN ('acknowledge', 'resolve')`,
    );
    const [records] = await worker.query(`SELECT COUNT(*) AS n FROM audit_log WHERE target_id IN (${ids})`);
    assert.deepEqual([entries.n, records.n], [100, 100], 'a timeline entry and an audit record each');
    assert.equal((await current(made[100].id)).status, 'triggered', 'the 101st was not in it');
  });
});

describe('a change landing between the read and the write', () => {
  const { worker: racy } = useWorld({ vars: { FAULT_INJECTION: 'pagerduty_edit_race' }, receiver: false });

  test('makes a PUT answer 409 and write nothing, and a bulk PUT too', async () => {
    const own = await createService(racy);
    const incident = await open('Raced', racy, own.id);
    // The fault resolves the first incident after the worker read it as triggered.
    const errors = assertPdError(await put(incident.id, { title: 'Renamed in the race', status: 'acknowledged' }, racy), 409, 2000, 'race');
    assert.match(errors[0], /changed by someone else.*nothing was changed/);
    const after = await current(incident.id, racy);
    assert.deepEqual([after.title, after.status], ['Raced', 'resolved'], 'only the other change');
    assert.deepEqual(
      (await timelineOf(racy, incident.id)).map((entry) => entry.summary),
      ['Created by Administrator', 'Resolved by Someone else'],
    );
    assert.deepEqual(await auditOf(incident.id, racy), []);

    const [a, b, c] = [await open('Raced A', racy, own.id), await open('Raced B', racy, own.id), await open('Raced C', racy, own.id)];
    assertPdError(
      await bulk([a, b, c].map((x) => ({ id: x.id, status: 'acknowledged' })), racy),
      409,
      2000,
      'bulk race',
    );
    assert.deepEqual(
      [await current(a.id, racy), await current(b.id, racy), await current(c.id, racy)].map((x) => x.status),
      ['resolved', 'triggered', 'triggered'],
      'the others unchanged',
    );
  });
});
