// Services: create, list, read, edit, delete, and the routing key the Events API uses.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { api } from './client.mjs';
import { assertApiError, createAction, createService, fieldErrors, unique, useWorld } from './harness.mjs';

const { worker } = useWorld();

test('creating a service returns it with a 32-character routing key', async () => {
  const name = unique('Checkout');
  const res = await api(worker).createService({ name: `  ${name}  `, description: 'Payments path' });
  assert.equal(res.status, 201, res.text);
  const { service } = res.json;
  assert.match(service.id, /^svc_/);
  assert.equal(service.name, name, 'the name is trimmed');
  assert.equal(service.description, 'Payments path');
  assert.match(service.routing_key, /^[A-Za-z0-9]{32}$/);
  assert.ok(Math.abs(Date.parse(service.created_at) - Date.now()) < 120_000, `created_at ${service.created_at}`);
});

test('every service gets its own routing key', async () => {
  const a = await createService(worker);
  const b = await createService(worker);
  assert.notEqual(a.routing_key, b.routing_key);
  assert.notEqual(a.id, b.id);
});

test('a created service is listed and can be read back', async () => {
  const service = await createService(worker);
  const list = await api(worker).listServices();
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.services.filter((s) => s.id === service.id), [service]);
  const one = await api(worker).getService(service.id);
  assert.equal(one.status, 200);
  assert.deepEqual(one.json.service, service);
});

test('a service without a description has description null', async () => {
  const service = await createService(worker);
  assert.equal(service.description, null);
});

test('a blank or over-long name is refused with a field error and stores nothing', async () => {
  const before = (await api(worker).listServices()).json.services.length;
  assert.match(fieldErrors(await api(worker).createService({ name: '   ' })).name, /required/i);
  assert.match(fieldErrors(await api(worker).createService({ name: 's'.repeat(81) })).name, /80/);
  // A body without the field at all is malformed for this route: 400, or 422 naming it.
  const missing = await api(worker).createService({});
  if (missing.status === 422) assert.ok(fieldErrors(missing).name);
  else assertApiError(missing, 400, 'invalid_json');
  assert.equal((await api(worker).listServices()).json.services.length, before);
  const ok = await api(worker).createService({ name: 's'.repeat(80) });
  assert.equal(ok.status, 201, ok.text);
});

test('editing a service changes only the fields sent', async () => {
  const service = await createService(worker);
  const renamed = await api(worker).updateService(service.id, { name: 'Renamed', description: 'Now described' });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal(renamed.json.service.name, 'Renamed');
  assert.equal(renamed.json.service.description, 'Now described');
  assert.equal(renamed.json.service.routing_key, service.routing_key, 'editing keeps the routing key');

  const described = await api(worker).updateService(service.id, { description: '' });
  assert.equal(described.status, 200, described.text);
  assert.equal(described.json.service.name, 'Renamed');
  assert.equal(described.json.service.description, null, 'an empty description clears it');

  const read = await api(worker).getService(service.id);
  assert.deepEqual(read.json.service, described.json.service);
  assert.ok(fieldErrors(await api(worker).updateService(service.id, { name: '' })).name);
  assert.equal((await api(worker).getService(service.id)).json.service.name, 'Renamed');
});

test('an unknown service is 404 for read, edit, delete and its actions', async () => {
  assertApiError(await api(worker).getService('svc_missing'), 404, 'not_found');
  assertApiError(await api(worker).updateService('svc_missing', { name: 'x' }), 404, 'not_found');
  assertApiError(await api(worker).deleteService('svc_missing'), 404, 'not_found');
  assertApiError(await api(worker).listActions('svc_missing'), 404, 'not_found');
  assertApiError(
    await api(worker).createAction('svc_missing', { name: 'A', endpoint_url: 'https://example.com/' }),
    404,
    'not_found',
  );
});

test('deleting a service removes it, its actions, and its routing key', async () => {
  const service = await createService(worker);
  await createAction(worker, service.id, { endpoint_url: 'https://example.com/hook' });
  const del = await api(worker).deleteService(service.id);
  assert.equal(del.status, 204, del.text);
  assert.equal(del.text, '');
  assertApiError(await api(worker).getService(service.id), 404, 'not_found');
  assertApiError(await api(worker).listActions(service.id), 404, 'not_found');
  assertApiError(await api(worker).deleteService(service.id), 404, 'not_found');
  const list = await api(worker).listServices();
  assert.ok(!list.json.services.some((s) => s.id === service.id));
  const event = await worker.enqueue({
    routing_key: service.routing_key,
    event_action: 'trigger',
    payload: { summary: 'After delete', source: 'x', severity: 'info' },
  });
  assert.equal(event.status, 400, event.text);
  assert.equal(event.json.status, 'invalid event');
});
