// Cookies and keys (issue "Ready for production" §4), against the real worker:
// - `POST /api/services/{id}/rotate_routing_key` gives a service a new routing key that
//   works at once, keeps the old one working for the grace period (0–168 h, default 24)
//   and then stops it; managers and up only; audited without either key;
// - routing keys are found by their hash and stored sealed: the database holds no key in
//   clear (managers still read it back), and a service whose key is still in clear and
//   unhashed (stored before keys were hashed and sealed) is sealed and hashed by the
//   scheduled handler;
// - a request with more than one session cookie gets 400 `ambiguous_session`.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { api } from './client.mjs';
import { assertApiError, createService, expectStatus, newMember, unique, useWorld } from './harness.mjs';

const { worker } = useWorld();

const trigger = (routingKey) =>
  worker.enqueue({
    routing_key: routingKey,
    event_action: 'trigger',
    payload: { summary: unique('Disk full'), source: 'db-1', severity: 'critical' },
  });
const rotate = (service, body, client = worker.api) =>
  api(client).rotateRoutingKey(service.id, body);

describe('rotating a routing key', () => {
  test('the new key works at once and the old one keeps working through the default 24 h grace', async () => {
    const service = await createService(worker);
    const old = service.routing_key;
    const res = expectStatus(await rotate(service, undefined), 200, 'rotate');
    const fresh = res.json.service.routing_key;
    assert.match(fresh, /^[0-9a-f]{32}$/);
    assert.notEqual(fresh, old);
    assert.equal(expectStatus(await api(worker).getService(service.id), 200, 'get').json.service.routing_key, fresh);
    assert.equal((await trigger(fresh)).status, 202, 'the new key works at once');
    assert.equal((await trigger(old)).status, 202, 'the old key works during the grace period');
    const [expiry] = await worker.query(`SELECT expires_at FROM routing_keys WHERE service_id = '${service.id}' AND expires_at IS NOT NULL`);
    const hours = (expiry.expires_at - Date.now()) / 3_600_000;
    assert.ok(hours > 23.9 && hours <= 24, `the old key expires in 24 h, not ${hours}`);

    // The grace period ends: the old key stops, and the cron removes it.
    await worker.sql(`UPDATE routing_keys SET expires_at = ${Date.now() - 1} WHERE service_id = '${service.id}' AND expires_at IS NOT NULL`);
    const refused = await trigger(old);
    assert.equal(refused.status, 400, refused.text);
    assert.match(refused.json.errors[0], /does not match any service/);
    assert.equal((await trigger(fresh)).status, 202);
    await worker.scheduled();
    const rows = await worker.query(`SELECT COUNT(*) AS n FROM routing_keys WHERE service_id = '${service.id}'`);
    assert.equal(rows[0].n, 1, 'only the current key is left');
  });

  test('a grace of 0 stops the old key at once; 168 hours is the most; anything else is refused', async () => {
    const service = await createService(worker);
    const old = service.routing_key;
    const fresh = expectStatus(await rotate(service, { grace_hours: 0 }), 200, 'rotate 0').json.service.routing_key;
    assert.equal((await trigger(old)).status, 400, 'no grace: the old key is refused at once');
    assert.equal((await trigger(fresh)).status, 202);

    expectStatus(await rotate(service, { grace_hours: 168 }), 200, 'rotate 168');
    for (const grace of [169, -1, 1.5, '24', true]) {
      const res = await rotate(service, { grace_hours: grace });
      assert.ok([400, 422].includes(res.status), `${JSON.stringify(grace)} → ${res.status} ${res.text}`);
      assert.match(res.text, /grace_hours/);
    }
    const now = expectStatus(await api(worker).getService(service.id), 200, 'get').json.service.routing_key;
    assert.equal((await trigger(now)).status, 202, 'a refused rotation changed nothing');
  });

  test('managers and up rotate; a responder may not; the audit log names no key', async () => {
    const service = await createService(worker);
    const responder = await newMember(worker, 'responder');
    assertApiError(await rotate(service, {}, responder.api), 403, 'forbidden');
    const manager = await newMember(worker, 'manager');
    const fresh = expectStatus(await rotate(service, { grace_hours: 2 }, manager.api), 200, 'as manager').json.service.routing_key;
    const audit = expectStatus(await api(worker).listAudit(), 200, 'audit');
    const entry = audit.json.audit_entries.find((e) => e.event === 'service.routing_key_rotated' && e.target_id === service.id);
    assert.ok(entry, 'the rotation is audited');
    assert.equal(entry.actor.id, manager.user.id);
    assert.equal(entry.after.grace_hours, 2);
    assert.ok(!audit.text.includes(fresh) && !audit.text.includes(service.routing_key), 'no key in the audit log');
  });
});

describe('keys by hash, sealed at rest', () => {
  /** Every value D1 holds for a service's keys: its `services` row and its `routing_keys` rows. */
  const stored = async (service) => ({
    column: (await worker.query(`SELECT routing_key FROM services WHERE id = '${service.id}'`))[0].routing_key,
    hashes: (await worker.query(`SELECT key_hash FROM routing_keys WHERE service_id = '${service.id}'`)).map((r) => r.key_hash),
  });

  test('D1 holds no routing key in clear: routing_keys its hash, the service row the key sealed; managers still read it', async () => {
    const service = await createService(worker);
    const { column, hashes } = await stored(service);
    assert.equal(hashes.length, 1);
    assert.match(hashes[0], /^[0-9a-f]{64}$/);
    assert.notEqual(hashes[0], service.routing_key);
    assert.match(column, /^v1\.[0-9a-f]{16}\.[\w-]+\.[\w-]+$/, 'the services row holds the key sealed');
    assert.ok(!column.includes(service.routing_key), 'not in clear');
    const manager = await newMember(worker, 'manager');
    const read = expectStatus(await api(manager).getService(service.id), 200, 'get').json.service;
    assert.equal(read.routing_key, service.routing_key, 'a manager reads the key back');
    const listed = expectStatus(await api(manager).listServices(), 200, 'list').json.services.find((s) => s.id === service.id);
    assert.equal(listed.routing_key, service.routing_key);
    const responder = await newMember(worker, 'responder');
    assert.equal(expectStatus(await api(responder).getService(service.id), 200, 'get').json.service.routing_key, null);

    const fresh = expectStatus(await rotate(service, { grace_hours: 1 }), 200, 'rotate').json.service.routing_key;
    const after = await stored(service);
    assert.match(after.column, /^v1\./);
    assert.ok(!after.column.includes(fresh) && !after.hashes.includes(fresh), 'the new key is not in clear either');
    assert.equal(after.hashes.length, 2, 'the new key and the old one in its grace, by hash');
    assert.equal(expectStatus(await api(manager).getService(service.id), 200, 'get').json.service.routing_key, fresh);
  });

  test('a service whose key is still in clear and unhashed is sealed and hashed by the scheduled handler', async () => {
    const service = await createService(worker);
    // As a service made before keys were stored by hash and sealed.
    await worker.sql(
      `UPDATE services SET routing_key = '${service.routing_key}' WHERE id = '${service.id}'; DELETE FROM routing_keys WHERE service_id = '${service.id}'`,
    );
    assert.equal(expectStatus(await api(worker).getService(service.id), 200, 'get').json.service.routing_key, service.routing_key);
    await worker.scheduled();
    const { column, hashes } = await stored(service);
    assert.match(column, /^v1\./, 'sealed');
    assert.equal(hashes.length, 1, 'hashed');
    assert.equal((await trigger(service.routing_key)).status, 202, 'found by its hash');
    assert.equal(expectStatus(await api(worker).getService(service.id), 200, 'get').json.service.routing_key, service.routing_key);
  });
});

describe('session cookies', () => {
  test('a request carrying more than one session cookie gets 400 and acts as nobody', async () => {
    const signedIn = await api(worker).signIn({ token: worker.token }, { token: null });
    expectStatus(signedIn, 200, 'sign in');
    const cookie = signedIn.headers.get('set-cookie').split(';')[0];
    assert.match(cookie, /^ia_session=/, 'plain http (local): the unprefixed name');
    const asCookie = (header) => api(worker).getMe({ token: null, headers: { cookie: header } });
    expectStatus(await asCookie(cookie), 200, 'one cookie');
    assertApiError(await asCookie(`${cookie}; ia_session=planted`), 400, 'ambiguous_session');
    assertApiError(await asCookie(`ia_session=planted; ${cookie}`), 400, 'ambiguous_session', 'whichever comes first');
    assertApiError(await asCookie(`${cookie}; __Host-ia_session=planted`), 400, 'ambiguous_session');
  });
});

describe('session cookies over https', () => {
  // wrangler's self-signed certificate, in this test process only.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  const { worker: secure } = useWorld({ https: true, receiver: false });

  test('over https the session cookie is __Host-ia_session, Secure, Path=/ and without Domain', async () => {
    assert.match(secure.baseUrl, /^https:/);
    const signedIn = await api(secure).signIn({ token: secure.token }, { token: null });
    expectStatus(signedIn, 200, 'sign in');
    const cookies = signedIn.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith('__Host-ia_session='));
    assert.ok(session, cookies.join(' | '));
    const attributes = session.split(';').map((a) => a.trim().toLowerCase());
    assert.ok(attributes.includes('secure') && attributes.includes('path=/') && attributes.includes('httponly'), session);
    assert.ok(!attributes.some((a) => a.startsWith('domain')), session);
    assert.ok(cookies.some((c) => /^ia_session=;.*max-age=0/i.test(c)), 'a cookie of the old name is ended');

    const pair = session.split(';')[0];
    const asCookie = (header) => api(secure).getMe({ token: null, headers: { cookie: header } });
    expectStatus(await asCookie(pair), 200, 'the prefixed cookie signs in');
    const token = pair.slice(pair.indexOf('=') + 1);
    assertApiError(await asCookie(`ia_session=${token}`), 401, 'unauthorized', 'an unprefixed cookie is not read over https');
    assertApiError(await asCookie(`ia_session=planted; ${pair}`), 400, 'ambiguous_session');
  });
});

