// Bounded links (issue "Nothing leaks, nothing piles up" §5), against the real worker: an
// event carries at most 10 links (11 is PagerDuty's 400, nothing stored); an incident keeps
// at most 50, each href once, however many merged triggers and replies bring more; lists
// of incidents carry no links.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { api } from './client.mjs';
import { createAction, createService, expectStatus, unique, useWorld } from './harness.mjs';

const world = useWorld();

const links = (from, count) =>
  Array.from({ length: count }, (_, i) => ({ href: `https://grafana.example.com/d/${from + i}`, text: `Panel ${from + i}` }));

async function trigger(service, dedupKey, eventLinks) {
  return world.worker.enqueue({
    routing_key: service.routing_key,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: { summary: 'Checkout latency', source: 'grafana', severity: 'critical' },
    links: eventLinks,
  });
}

async function incidentOf(service) {
  const list = expectStatus(await api(world.worker).listIncidents({ query: { service_id: service.id } }), 200, 'list').json;
  assert.equal(list.incidents.length, 1);
  assert.ok(!('links' in list.incidents[0]), 'a list carries no links');
  return expectStatus(await api(world.worker).getIncident(list.incidents[0].id), 200, 'incident').json
    .incident;
}

describe('links are bounded', () => {
  test('10 links are taken and 11 are a 400 naming the field, with nothing stored', async () => {
    const service = await createService(world.worker);
    const refused = await trigger(service, unique('k'), links(0, 11));
    assert.equal(refused.status, 400, refused.text);
    assert.match(JSON.stringify(refused.json.errors), /'links' must have at most 10 entries/);
    const list = expectStatus(await api(world.worker).listIncidents({ query: { service_id: service.id } }), 200, 'list').json;
    assert.deepEqual(list.incidents, [], 'nothing stored');
    expectStatus(await trigger(service, unique('k'), links(0, 10)), 202, '10 links');
    assert.equal((await incidentOf(service)).links.length, 10);
  });

  test('merged triggers fill an incident to 50 links, each href once, and no further', async () => {
    const service = await createService(world.worker);
    const key = unique('storm');
    for (let from = 0; from < 50; from += 10) expectStatus(await trigger(service, key, links(from, 10)), 202, `links ${from}`);
    // The same hrefs again, and one new one past the 50th.
    expectStatus(await trigger(service, key, [...links(0, 3), ...links(50, 1)]), 202, 'the 51st');
    const incident = await incidentOf(service);
    assert.equal(incident.event_count, 6);
    assert.equal(incident.links.length, 50);
    assert.deepEqual(
      incident.links.map((l) => l.href),
      links(0, 50).map((l) => l.href),
      'the first 50, in order, each once',
    );
  });

  test('a reply link already on the incident is not added again', async () => {
    const service = await createService(world.worker);
    const action = await createAction(world.worker, service.id, {
      endpoint_url: `${world.receiver.url}/diagnostics`,
      accept_reply: true,
    });
    await world.receiver.addSecret(action.signing_secret);
    expectStatus(await trigger(service, unique('k'), []), 202, 'trigger');
    const incident = await incidentOf(service);
    for (let i = 0; i < 3; i++) {
      expectStatus(
        await api(world.worker).runAction(incident.id, action.id),
        201,
        `run ${i + 1}`,
      );
    }
    const after = await incidentOf(service);
    assert.deepEqual(
      after.links.map((l) => l.href),
      ['https://grafana.example.com/d/checkout-latency'],
      'the diagnostics link once, after three runs',
    );
  });
});
