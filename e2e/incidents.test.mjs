// Incidents through /api: listing and filters, the detail with its action buttons,
// acknowledge and resolve, the timeline, and notes on it.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { api, paths } from './client.mjs';
import { assertApiError, createAction, createService, timelineOf, triggerIncident, useWorld } from './harness.mjs';

const { worker } = useWorld();

const ENDPOINT = 'https://hooks.example.com/x';

async function listIncidents(query = {}) {
  const res = await api(worker).listIncidents({ query });
  assert.equal(res.status, 200, res.text);
  return res.json.incidents;
}

async function logTypes(incident) {
  return (await timelineOf(worker, incident.id)).map((e) => e.type);
}

describe('listing', () => {
  test('incidents are listed newest first and filtered by service and status', async () => {
    const a = await createService(worker);
    const b = await createService(worker);
    const first = await triggerIncident(worker, a, { summary: 'first' });
    const second = await triggerIncident(worker, a, { summary: 'second' });
    const other = await triggerIncident(worker, b, { summary: 'other' });
    assert.equal((await api(worker).acknowledge(first.id)).status, 200);

    const all = await listIncidents();
    const ids = all.map((i) => i.id);
    assert.ok(ids.indexOf(other.id) < ids.indexOf(second.id) && ids.indexOf(second.id) < ids.indexOf(first.id), 'newest first');

    assert.deepEqual((await listIncidents({ service_id: a.id })).map((i) => i.id), [second.id, first.id]);
    assert.deepEqual((await listIncidents({ service_id: a.id, status: 'acknowledged' })).map((i) => i.id), [first.id]);
    assert.deepEqual((await listIncidents({ service_id: a.id, status: 'triggered' })).map((i) => i.id), [second.id]);
    assert.deepEqual(await listIncidents({ service_id: a.id, status: 'resolved' }), []);
    assert.ok((await listIncidents({ status: 'triggered' })).every((i) => i.status === 'triggered'));
  });

  test('an unknown status filter is 400 invalid_query', async () => {
    assertApiError(await api(worker).listIncidents({ query: { status: 'bogus' } }), 400, 'invalid_query');
  });

  test('a filter on an unknown service lists nothing', async () => {
    const res = await api(worker).listIncidents({ query: { service_id: 'svc_nobody' } });
    assert.ok(res.status === 200 || res.status === 404, res.text);
    if (res.status === 200) assert.deepEqual(res.json.incidents, []);
  });
});

describe('detail', () => {
  test('an incident lists the enabled actions of its service, and no others', async () => {
    const service = await createService(worker);
    const other = await createService(worker);
    const restart = await createAction(worker, service.id, { name: 'Restart', description: 'Restart the pod', endpoint_url: ENDPOINT });
    await createAction(worker, service.id, { name: 'Disabled', endpoint_url: ENDPOINT, enabled: false });
    const diag = await createAction(worker, service.id, { name: 'Diagnose', endpoint_url: ENDPOINT });
    await createAction(worker, other.id, { name: 'Elsewhere', endpoint_url: ENDPOINT });
    const incident = await triggerIncident(worker, service);
    const noRunsYet = { recent_failures: 0, last_outcome: null, last_http_status: null, last_run_at: null };
    assert.deepEqual(incident.actions, [
      { id: restart.id, name: 'Restart', description: 'Restart the pod', config_health: 'ok', health: noRunsYet, inputs: [], confirm: null },
      { id: diag.id, name: 'Diagnose', description: null, config_health: 'ok', health: noRunsYet, inputs: [], confirm: null },
    ]);

    assert.equal((await api(worker).updateAction(service.id, restart.id, { enabled: false })).status, 200);
    const after = (await api(worker).getIncident(incident.id)).json.incident;
    assert.deepEqual(after.actions.map((a) => a.name), ['Diagnose']);

    assert.equal((await api(worker).deleteAction(service.id, diag.id)).status, 204);
    assert.deepEqual((await api(worker).getIncident(incident.id)).json.incident.actions, []);
  });

  test('an unknown incident is 404 everywhere', async () => {
    for (const name of ['getIncident', 'getLog', 'listRuns', 'acknowledge', 'resolve']) {
      assertApiError(await api(worker)[name]('inc_missing'), 404, 'not_found', `${name} ${paths[name]('inc_missing')}`);
    }
  });
});

describe('acknowledge and resolve', () => {
  test('acknowledge, acknowledge again, resolve, resolve again: each change recorded once', async () => {
    const service = await createService(worker);
    const incident = await triggerIncident(worker, service);

    const ack = await api(worker).acknowledge(incident.id);
    assert.equal(ack.status, 200, ack.text);
    assert.equal(ack.json.incident.status, 'acknowledged');
    assert.equal(ack.json.incident.id, incident.id);

    const ackAgain = await api(worker).acknowledge(incident.id);
    assert.equal(ackAgain.status, 200, ackAgain.text);
    assert.equal(ackAgain.json.incident.status, 'acknowledged');

    const resolve = await api(worker).resolve(incident.id);
    assert.equal(resolve.status, 200, resolve.text);
    assert.equal(resolve.json.incident.status, 'resolved');

    const resolveAgain = await api(worker).resolve(incident.id);
    assert.equal(resolveAgain.status, 200, resolveAgain.text);
    assert.equal(resolveAgain.json.incident.status, 'resolved');

    assertApiError(await api(worker).acknowledge(incident.id), 409, 'invalid_transition');
    assert.equal((await api(worker).getIncident(incident.id)).json.incident.status, 'resolved');

    assert.deepEqual(await logTypes(incident), ['trigger', 'acknowledge', 'resolve']);
  });

  test('a triggered incident can be resolved directly', async () => {
    const service = await createService(worker);
    const incident = await triggerIncident(worker, service);
    const res = await api(worker).resolve(incident.id);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.incident.status, 'resolved');
    assert.deepEqual(await logTypes(incident), ['trigger', 'resolve']);
  });

  test('the timeline is newest first and says who did what', async () => {
    const service = await createService(worker);
    const incident = await triggerIncident(worker, service);
    await api(worker).acknowledge(incident.id);
    await worker.enqueue({ routing_key: service.routing_key, dedup_key: incident.dedup_key, event_action: 'resolve' });
    const res = await api(worker).getLog(incident.id);
    assert.equal(res.json.next_cursor, null, 'one page holds it all');
    const entries = res.json.log_entries.reverse();
    assert.deepEqual(entries.map((e) => e.type), ['trigger', 'acknowledge', 'resolve']);
    for (let i = 1; i < entries.length; i += 1) {
      assert.ok(Date.parse(entries[i].created_at) >= Date.parse(entries[i - 1].created_at), 'newest first');
    }
    for (const entry of entries) {
      assert.match(entry.id, /^log_/);
      assert.ok(entry.agent.trim().length > 0, JSON.stringify(entry));
      assert.ok(entry.summary.trim().length > 0, JSON.stringify(entry));
      assert.equal(entry.run, undefined);
    }
    assert.notEqual(entries[1].agent, entries[2].agent, 'a person acknowledged; the monitor resolved');
    assert.equal((await api(worker).getIncident(incident.id)).json.incident.status, 'resolved');
  });

  test('acknowledging and resolving need credentials', async () => {
    const service = await createService(worker);
    const incident = await triggerIncident(worker, service);
    assertApiError(await api(worker).resolve(incident.id, undefined, { token: null }), 401, 'unauthorized');
    assert.equal((await api(worker).getIncident(incident.id)).json.incident.status, 'triggered');
  });
});

describe('notes', () => {
  const note = (incident, body) => api(worker).addNote(incident.id, body);

  test('a note is added once to the timeline, trimmed, its lines and markup kept as text', async () => {
    const incident = await triggerIncident(worker, await createService(worker));
    const content = 'Rolled back 4.2.1.\n<b>Watching</b> error rates & latency.';
    const res = await note(incident, { content: `  ${content}\n ` });
    assert.equal(res.status, 201, res.text);
    const entry = res.json.log_entry;
    assert.match(entry.id, /^log_/);
    assert.equal(entry.type, 'note');
    assert.equal(entry.summary, content);
    assert.equal(entry.agent, 'Administrator');
    assert.ok(Date.parse(entry.created_at));
    const log = (await timelineOf(worker, incident.id));
    assert.deepEqual(log.filter((e) => e.type === 'note'), [entry]);
    assert.deepEqual(log.map((e) => e.type), ['trigger', 'note']);
  });

  test('a note of 2000 characters is accepted; 2001, blank or missing is 422 on content', async () => {
    const incident = await triggerIncident(worker, await createService(worker));
    const at = await note(incident, { content: 'n'.repeat(2000) });
    assert.equal(at.status, 201, at.text.slice(0, 300));
    assert.equal(at.json.log_entry.summary.length, 2000);
    // Multi-byte characters count as one each.
    assert.equal((await note(incident, { content: 'é'.repeat(2000) })).status, 201);
    for (const body of [{ content: 'n'.repeat(2001) }, { content: ' \n\t ' }, {}]) {
      const error = assertApiError(await note(incident, body), 422, 'validation_failed', JSON.stringify(body).slice(0, 40));
      assert.deepEqual(error.fields.map((f) => f.field), ['content']);
    }
    assert.match((await note(incident, { content: 'n'.repeat(2001) })).json.error.message, /2000/);
    const notes = (await timelineOf(worker, incident.id)).filter((e) => e.type === 'note');
    assert.equal(notes.length, 2, 'only the accepted notes are stored');
  });

  test('a note on an unknown incident is 404 and stores nothing', async () => {
    assertApiError(await note({ id: 'inc_missing' }, { content: 'hello' }), 404, 'not_found');
  });

  test('a note may be added to a resolved incident', async () => {
    const incident = await triggerIncident(worker, await createService(worker));
    assert.equal((await api(worker).resolve(incident.id)).status, 200);
    assert.equal((await note(incident, { content: 'Postmortem: INC-42' })).status, 201);
  });
});
