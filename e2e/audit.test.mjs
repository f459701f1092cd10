// The audit log: every change to a service, an action, a secret, a user or a token is
// recorded once, with who, what, when and the state before and after, and never a secret
// value or routing key; a change and its record are one D1 batch, so they stand or fall
// together.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { api } from './client.mjs';
import { assertApiError, createAction, createService, expectStatus, newMember, unique, useWorld } from './harness.mjs';

const { worker } = useWorld();

async function auditEntries() {
  const res = await api(worker).listAudit();
  assert.equal(res.status, 200, res.text);
  return res.json.audit_entries;
}

test('each change is recorded once, newest first, with before and after', async () => {
  const secretValue = unique('audit-secret').replace(/\s/g, '-');
  const service = await createService(worker);
  const renamed = await api(worker).updateService(service.id, { name: 'Renamed for audit' });
  assert.equal(renamed.status, 200, renamed.text);
  const action = await createAction(worker, service.id, {
    endpoint_url: 'https://hooks.example.com/restart',
    headers: [{ name: 'Authorization', value: secretValue, secret: true }],
  });
  const disabled = await api(worker).updateAction(service.id, action.id, { enabled: false });
  assert.equal(disabled.status, 200, disabled.text);
  const rotated = await api(worker).rotateSecret(service.id, action.id);
  assert.equal(rotated.status, 200, rotated.text);
  assert.equal((await api(worker).deleteAction(service.id, action.id)).status, 204);
  assert.equal((await api(worker).deleteService(service.id)).status, 204);

  const res = await api(worker).listAudit();
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
  const kept = await api(worker).updateAction(service.id, action.id, { headers: [{ name: 'Authorization', value: null, secret: true }, { name: 'X-Team', value: 'ops' }] });
  assert.equal(kept.status, 200, kept.text);
  const changed = await api(worker).updateAction(service.id, action.id, { headers: [{ name: 'Authorization', value: newValue, secret: true }, { name: 'X-Team', value: 'ops' }] });
  assert.equal(changed.status, 200, changed.text);

  const res = await api(worker).listAudit();
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
  assertApiError(await api(worker).updateService(service.id, { name: '   ' }), 422, 'validation_failed');
  assertApiError(await api(worker).createAction(service.id, { name: '' , endpoint_url: 'https://e.example/x' }), 422, 'validation_failed');
  assertApiError(await api(worker).deleteService('svc_missing'), 404, 'not_found');
  assert.equal((await auditEntries()).length, countBefore);
});

test('creating and deleting a user and revoking a token are undone when their record cannot be written', async () => {
  const member = await newMember(worker, 'responder');
  const [{ id: tokenId }] = expectStatus(await api(worker).listTokens(member.user.id), 200, 'tokens').json.tokens;
  const email = `${unique('unrecorded').replace(/\W+/g, '-').toLowerCase()}@example.com`;
  const userByEmail = async () =>
    expectStatus(await api(worker).listUsers(), 200, 'users').json.users.find((u) => u.email === email);
  const countBefore = (await auditEntries()).length;
  // The audit log refuses these three records, as a failing write would: the change
  // written in the record's own batch fails with it. (One statement for wrangler to run:
  // a trigger's body is a single RAISE.)
  await worker.sql(
    "CREATE TRIGGER e2e_audit_refused BEFORE INSERT ON audit_log WHEN NEW.event IN ('user.created', 'user.deleted', 'token.revoked') BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
  );
  try {
    assertApiError(await api(worker).createUser({ name: 'Never recorded', email, role: 'observer' }), 500, 'internal', 'create');
    assert.equal(await userByEmail(), undefined, 'a user was created without its record');
    assertApiError(await api(worker).deleteUser(member.user.id), 500, 'internal', 'delete');
    expectStatus(await api(worker).getUser(member.user.id), 200, 'a user was deleted without its record');
    assertApiError(await api(worker).deleteToken(member.user.id, tokenId), 500, 'internal', 'revoke');
    expectStatus(await api(member).getMe(), 200, 'a token was revoked without its record');
  } finally {
    await worker.sql('DROP TRIGGER e2e_audit_refused');
  }
  assert.equal((await auditEntries()).length, countBefore, 'nothing was recorded either');

  // With the audit log writable again, each goes through with one record.
  const created = expectStatus(await api(worker).createUser({ name: 'Recorded', email, role: 'observer' }), 201, 'create').json.user;
  assert.equal((await api(worker).deleteToken(member.user.id, tokenId)).status, 204);
  assertApiError(await api(member).getMe(), 401, 'unauthorized', 'the revoked token');
  assert.equal((await api(worker).deleteToken(member.user.id, tokenId)).status, 404, 'a second revoke');
  assert.equal((await api(worker).deleteUser(created.id)).status, 204);
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
  const res = await api(worker).listAudit({ token: null });
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
    const res = expectStatus(await api(worker).listAudit({ query: { limit: 2, cursor } }), 200, 'audit page');
    assert.ok(res.json.audit_entries.length <= 2);
    paged.push(...res.json.audit_entries);
    cursor = res.json.next_cursor;
    pages += 1;
  } while (cursor);
  assert.deepEqual(paged.map((e) => e.id), whole.map((e) => e.id), 'pages of 2 give the same entries in the same order');
  assert.equal(pages, Math.ceil(whole.length / 2), 'a full last page has no cursor after it');
  expectStatus(await api(worker).listAudit({ query: { limit: 500 } }), 200, 'the largest page');
  assertApiError(await api(worker).listAudit({ query: { limit: 501 } }), 400, 'invalid_limit');
  assertApiError(await api(worker).listAudit({ query: { limit: 0 } }), 400, 'invalid_limit');
  const timeline = 'tl1.1';
  assertApiError(await api(worker).listAudit({ query: { cursor: timeline } }), 400, 'invalid_cursor');
});
