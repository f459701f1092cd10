// Incidents opened by hand (`POST /api/incidents`), against the real worker: what is
// stored and shown, the timeline's first entry, the dedup-key rule shared with the
// Events API, and who may do it. Boundaries (title 1024/1025, details 10,000/10,001,
// dedup key 255/256) are native tests in shared/src/incident.rs.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { api } from './client.mjs';
import {
  assertApiError,
  createService,
  expectStatus,
  fieldErrors,
  newMember,
  timelineOf,
  useWorld,
} from './harness.mjs';

const { worker } = useWorld();


describe('an incident opened by hand', () => {
  test('is stored as typed, high urgency by default, and its timeline starts "Created by <name>"', async () => {
    const service = await createService(worker);
    const responder = await newMember(worker, 'responder');
    const details = '<script>alert(1)</script>\nline two';
    const res = await api(responder).createIncident({ service_id: service.id, title: '  Checkout is down  ', details });
    assert.equal(res.status, 201, res.text);
    const { incident } = res.json;
    assert.equal(incident.title, 'Checkout is down', 'trimmed');
    assert.equal(incident.status, 'triggered');
    assert.equal(incident.urgency, 'high');
    assert.equal(incident.details, details, 'kept as text, exactly');
    assert.equal(incident.service.id, service.id);
    assert.equal(incident.source, 'manual');
    assert.ok(Number.isInteger(incident.number));
    const log = await timelineOf(worker, incident.id);
    assert.equal(log.length, 1);
    assert.equal(log[0].summary, `Created by ${responder.user.name}`);
    assert.equal(log[0].agent, responder.user.name);
    const listed = expectStatus(await api(worker).listIncidents({ query: { service_id: service.id } }), 200, 'list').json.incidents;
    assert.deepEqual(listed.map((i) => i.id), [incident.id]);
  });

  test('a low urgency is kept', async () => {
    const service = await createService(worker);
    const res = await api(worker).createIncident({ service_id: service.id, title: 'Slow reports', urgency: 'low' });
    assert.equal(expectStatus(res, 201, 'low').json.incident.urgency, 'low');
  });

  test('a dedup key an open incident has is 409 duplicate_incident naming it, and is free again once it is resolved', async () => {
    const service = await createService(worker);
    const body = { service_id: service.id, title: 'Disk full', dedup_key: 'disk-db-1' };
    const first = expectStatus(await api(worker).createIncident(body), 201, 'first').json.incident;
    const again = await api(worker).createIncident({ ...body, title: 'Disk full again' });
    assertApiError(again, 409, 'duplicate_incident', 'same key');
    assert.equal(again.json.incident_id, first.id);
    const listed = expectStatus(await api(worker).listIncidents({ query: { service_id: service.id } }), 200, 'list').json.incidents;
    assert.equal(listed.length, 1, 'nothing was created');
    // A monitor's trigger with that key joins the incident opened by hand.
    const event = await worker.enqueue({
      routing_key: service.routing_key,
      event_action: 'trigger',
      dedup_key: 'disk-db-1',
      payload: { summary: 'Disk 99% on db-1', source: 'db-1', severity: 'error' },
    });
    expectStatus(event, 202, 'trigger with the same key');
    const merged = expectStatus(await api(worker).getIncident(first.id), 200, 'incident').json.incident;
    assert.equal(merged.event_count, 2);
    expectStatus(await api(worker).resolve(first.id), 200, 'resolve');
    expectStatus(await api(worker).createIncident(body), 201, 'the key is free once resolved');
  });

  test('bad fields are 422 per field, an unknown service 404, and a role below responder 403', async () => {
    const service = await createService(worker);
    const fields = fieldErrors(
      await api(worker).createIncident({ service_id: service.id, title: 't'.repeat(1025), details: 'd'.repeat(10_001) }),
      'too long',
    );
    assert.deepEqual(Object.keys(fields).sort(), ['details', 'title']);
    assertApiError(await api(worker).createIncident({ service_id: 'svc_nope', title: 'x' }), 404, 'not_found', 'no service');
    const observer = await newMember(worker, 'observer');
    assertApiError(await api(observer).createIncident({ service_id: service.id, title: 'x' }), 403, 'forbidden', 'observer');
    const listed = expectStatus(await api(worker).listIncidents({ query: { service_id: service.id } }), 200, 'list').json.incidents;
    assert.deepEqual(listed, [], 'nothing was created');
  });
});
