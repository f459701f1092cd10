// The audit log: every change to a service, an action, a secret, a user or a token is
// recorded once, with who, what, when and the state before and after, and never a secret
// value or routing key; a change and its record are one D1 batch, so they stand or fall
// together.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertApiError, createAction, createService, expectStatus, newMember, request, startWorker, unique } from './harness.mjs';

let worker;
before(async () => {
  worker = await startWorker();
});
after(async () => {
  await worker?.stop();
});

async function auditEntries() {
  const res = await worker.api('GET', '/api/audit');
  assert.equal(res.status, 200, res.text);
  return res.json.audit_entries;
}

test('each change is recorded once, newest first, with before and after', async () => {
  const secretValue = unique('audit-secret').replace(/\s/g, '-');
  const service = await createService(worker);
  const renamed = await worker.api('PATCH', `/api/services/${service.id}`, { name: 'Renamed for audit' });
  assert.equal(renamed.status, 200, renamed.text);
  const action = await createAction(worker, service.id, {
    endpoint_url: 'https://hooks.example.com/restart',
    headers: [{ name: 'Authorization', value: secretValue, secret: true }],
  });
  const disabled = await worker.api('PATCH', `/api/services/${service.id}/actions/${action.id}`, { enabled: false });
  assert.equal(disabled.status, 200, disabled.text);
  const rotated = await worker.api('POST', `/api/services/${service.id}/actions/${action.id}/rotate_secret`);
  assert.equal(rotated.status, 200, rotated.text);
  assert.equal((await worker.api('DELETE', `/api/services/${service.id}/actions/${action.id}`)).status, 204);
  assert.equal((await worker.api('DELETE', `/api/services/${service.id}`)).status, 204);

  const res = await worker.api('GET', '/api/audit');
  const mine = res.json.audit_entries.filter((e) => e.service_id === service.id);
  assert.deepEqual(
    mine.map((e) => e.event),
    [
      'service.deleted',
      'action.deleted',
      'action.secret_rotated',
      'action.updated',
      'action.created',
      'service.updated',
      'service.created',
    ],
  );
  for (const entry of mine) {
    assert.equal(entry.actor.id, 'admin');
    assert.match(entry.created_at, /^\d{4}-\d\d-\d\dT/);
  }
  const byEvent = Object.fromEntries(mine.map((e) => [e.event, e]));
  assert.equal(byEvent['service.updated'].before.name, service.name);
  assert.equal(byEvent['service.updated'].after.name, 'Renamed for audit');
  assert.equal(byEvent['action.updated'].before.enabled, true);
  assert.equal(byEvent['action.updated'].after.enabled, false);
  assert.equal(byEvent['action.created'].after.headers[0].value, null, 'secret header value redacted');
  assert.equal(byEvent['service.deleted'].after, null);

  assert.ok(!res.text.includes(secretValue), 'a secret header value reached the audit log');
  assert.ok(!res.text.includes(action.signing_secret), 'a signing secret reached the audit log');
  assert.ok(!res.text.includes(rotated.json.signing_secret), 'a rotated secret reached the audit log');
  assert.ok(!res.text.includes(service.routing_key), 'a routing key reached the audit log');
});

test('a new secret header value is recorded as changed, by name, never by value', async () => {
  const [oldValue, newValue] = [unique('old-secret'), unique('new-secret')].map((v) => v.replace(/\s/g, '-'));
  const service = await createService(worker);
  const action = await createAction(worker, service.id, {
    endpoint_url: 'https://hooks.example.com/restart',
    headers: [{ name: 'Authorization', value: oldValue, secret: true }, { name: 'X-Team', value: 'sre' }],
  });
  const path = `/api/services/${service.id}/actions/${action.id}`;
  const kept = await worker.api('PATCH', path, { headers: [{ name: 'Authorization', value: null, secret: true }, { name: 'X-Team', value: 'ops' }] });
  assert.equal(kept.status, 200, kept.text);
  const changed = await worker.api('PATCH', path, { headers: [{ name: 'Authorization', value: newValue, secret: true }, { name: 'X-Team', value: 'ops' }] });
  assert.equal(changed.status, 200, changed.text);

  const res = await worker.api('GET', '/api/audit');
  const updates = res.json.audit_entries.filter((e) => e.target_id === action.id && e.event === 'action.updated');
  assert.equal(updates.length, 2);
  const [second, first] = updates;
  assert.equal('secret_values_changed' in first.after, false, 'a kept secret is no change');
  assert.equal(first.after.headers[1].value, 'ops');
  assert.deepEqual(second.after.secret_values_changed, ['Authorization']);
  assert.equal(second.after.headers[0].value, null);
  assert.ok(!res.text.includes(oldValue) && !res.text.includes(newValue), 'a secret value reached the audit log');
});

test('a refused change records nothing', async () => {
  const service = await createService(worker);
  const countBefore = (await auditEntries()).length;
  assertApiError(await worker.api('PATCH', `/api/services/${service.id}`, { name: '   ' }), 422, 'validation_failed');
  assertApiError(await worker.api('POST', `/api/services/${service.id}/actions`, { name: '' , endpoint_url: 'https://e.example/x' }), 422, 'validation_failed');
  assertApiError(await worker.api('DELETE', '/api/services/svc_missing'), 404, 'not_found');
  assert.equal((await auditEntries()).length, countBefore);
});

test('creating and deleting a user and revoking a token are undone when their record cannot be written', async () => {
  const member = await newMember(worker, 'responder');
  const [{ id: tokenId }] = expectStatus(await worker.api('GET', `/api/users/${member.user.id}/tokens`), 200, 'tokens').json.tokens;
  const email = `${unique('unrecorded').replace(/\W+/g, '-').toLowerCase()}@example.com`;
  const userByEmail = async () =>
    expectStatus(await worker.api('GET', '/api/users'), 200, 'users').json.users.find((u) => u.email === email);
  const countBefore = (await auditEntries()).length;
  // The audit log refuses these three records, as a failing write would: the change
  // written in the record's own batch fails with it. (One statement for wrangler to run:
  // a trigger's body is a single RAISE.)
  await worker.sql(
    "CREATE TRIGGER e2e_audit_refused BEFORE INSERT ON audit_log WHEN NEW.event IN ('user.created', 'user.deleted', 'token.revoked') BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
  );
  try {
    assertApiError(await worker.api('POST', '/api/users', { name: 'Never recorded', email, role: 'observer' }), 500, 'internal', 'create');
    assert.equal(await userByEmail(), undefined, 'a user was created without its record');
    assertApiError(await worker.api('DELETE', `/api/users/${member.user.id}`), 500, 'internal', 'delete');
    expectStatus(await worker.api('GET', `/api/users/${member.user.id}`), 200, 'a user was deleted without its record');
    assertApiError(await worker.api('DELETE', `/api/users/${member.user.id}/tokens/${tokenId}`), 500, 'internal', 'revoke');
    expectStatus(await member.api('GET', '/api/me'), 200, 'a token was revoked without its record');
  } finally {
    await worker.sql('DROP TRIGGER e2e_audit_refused');
  }
  assert.equal((await auditEntries()).length, countBefore, 'nothing was recorded either');

  // With the audit log writable again, each goes through with one record.
  const created = expectStatus(await worker.api('POST', '/api/users', { name: 'Recorded', email, role: 'observer' }), 201, 'create').json.user;
  assert.equal((await worker.api('DELETE', `/api/users/${member.user.id}/tokens/${tokenId}`)).status, 204);
  assertApiError(await member.api('GET', '/api/me'), 401, 'unauthorized', 'the revoked token');
  assert.equal((await worker.api('DELETE', `/api/users/${member.user.id}/tokens/${tokenId}`)).status, 404, 'a second revoke');
  assert.equal((await worker.api('DELETE', `/api/users/${created.id}`)).status, 204);
  const all = await auditEntries();
  const mine = all.slice(0, all.length - countBefore);
  assert.deepEqual(
    mine.map((e) => [e.event, e.target_id]),
    [
      ['user.deleted', created.id],
      ['token.revoked', tokenId],
      ['user.created', created.id],
    ],
  );
  assert.equal(mine[0].before.email, email);
});

test('the audit log needs credentials', async () => {
  const res = await request('GET', `${worker.baseUrl}/api/audit`);
  assertApiError(res, 401, 'unauthorized');
});

test('the audit log pages: every entry once across pages, newest first; bad limits and foreign cursors are 400', async () => {
  await createService(worker);
  await createService(worker);
  await createService(worker);
  const whole = await auditEntries();
  assert.ok(whole.length >= 3 && whole.length <= 100, `the first page holds them all: ${whole.length}`);
  const paged = [];
  let cursor = null;
  let pages = 0;
  do {
    const res = expectStatus(await worker.api('GET', `/api/audit?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`), 200, 'audit page');
    assert.ok(res.json.audit_entries.length <= 2);
    paged.push(...res.json.audit_entries);
    cursor = res.json.next_cursor;
    pages += 1;
  } while (cursor);
  assert.deepEqual(paged.map((e) => e.id), whole.map((e) => e.id), 'pages of 2 give the same entries in the same order');
  assert.equal(pages, Math.ceil(whole.length / 2), 'a full last page has no cursor after it');
  expectStatus(await worker.api('GET', '/api/audit?limit=500'), 200, 'the largest page');
  assertApiError(await worker.api('GET', '/api/audit?limit=501'), 400, 'invalid_limit');
  assertApiError(await worker.api('GET', '/api/audit?limit=0'), 400, 'invalid_limit');
  const timeline = 'tl1.1';
  assertApiError(await worker.api('GET', `/api/audit?cursor=${timeline}`), 400, 'invalid_cursor');
});
