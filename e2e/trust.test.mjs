// Trust that can't be inherited (issue "Ready for production" §2), against the real
// worker: a token records who minted it; promoting a user to admin or owner revokes the
// tokens someone else minted for them (said in the answer and in the audit log), and
// keeps their own; writes to a user, deletes included, are conditional on the version read,
// so concurrent edits never interleave: each is applied whole or answered 409 and changes
// nothing.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { api } from './client.mjs';
import { assertApiError, expectStatus, newMember, useWorld } from './harness.mjs';

const { worker } = useWorld();

async function auditOf(targetId) {
  const entries = expectStatus(await api(worker).listAudit(), 200, 'audit').json.audit_entries;
  return entries.filter((e) => e.target_id === targetId || e.before?.user_id === targetId).reverse();
}

const setRole = (client, user, role) => api(client).updateUser(user.id, { role });

describe('promotion', () => {
  test('promoting a user to admin revokes the tokens someone else minted for them, and says so', async () => {
    const admin = await newMember(worker, 'admin');
    const member = await newMember(worker, 'responder'); // its token was minted by the ADMIN_TOKEN owner
    const byAdmin = expectStatus(await api(admin).createToken(member.user.id, { label: 'kept by an admin' }), 201, 'mint').json.token;
    const asAdminsCopy = api(worker, { token: byAdmin.secret });
    expectStatus(await asAdminsCopy.getMe(), 200, 'the copy works before');

    const promoted = expectStatus(await setRole(worker, member.user, 'admin'), 200, 'promote').json;
    assert.equal(promoted.user.role, 'admin');
    assert.deepEqual(promoted.revoked_tokens.map((t) => t.id).sort(), [byAdmin.id, ...(await tokenIdsBefore(member))].sort());
    assert.ok(promoted.revoked_tokens.every((t) => t.secret === undefined || t.secret === null), 'no secret in the answer');
    assert.match(promoted.notice, /2 token\(s\) someone else minted for this user were revoked/);

    assertApiError(await asAdminsCopy.getMe(), 401, 'unauthorized', "the admin's copy stopped working");
    assertApiError(await api(member).getMe(), 401, 'unauthorized', 'so did the one minted with the user');
    const left = expectStatus(await api(worker).listTokens(member.user.id), 200, 'tokens').json.tokens;
    assert.deepEqual(left, []);

    const audit = await auditOf(member.user.id);
    const revoked = audit.filter((e) => e.event === 'token.revoked');
    assert.deepEqual(revoked.map((e) => e.target_id).sort(), promoted.revoked_tokens.map((t) => t.id).sort());
    for (const entry of revoked) {
      assert.match(entry.before.revoked_because, /promoted to admin or owner/);
      assert.equal(entry.actor.id, 'admin', 'recorded as done by the one who promoted');
      assert.match(entry.before.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    const updated = audit.filter((e) => e.event === 'user.updated');
    assert.equal(updated.length, 1);
    assert.deepEqual([updated[0].before.role, updated[0].after.role], ['responder', 'admin']);
  });

  test("a user's own tokens survive their promotion, and a promotion below admin revokes nothing", async () => {
    const admin = await newMember(worker, 'admin');
    const own = expectStatus(await api(admin).createToken(admin.user.id, { label: 'my own' }), 201, 'own').json.token;
    const mintedForThem = await tokenIdsBefore(admin);
    const promoted = expectStatus(await setRole(worker, admin.user, 'owner'), 200, 'to owner').json;
    assert.deepEqual(promoted.revoked_tokens.map((t) => t.id), mintedForThem, 'only the one the ADMIN_TOKEN owner minted');
    const ids = expectStatus(await api(worker).listTokens(admin.user.id), 200, 'tokens').json.tokens.map((t) => t.id);
    assert.deepEqual(ids, [own.id], 'the token they minted themselves is kept');
    expectStatus(await api(worker).getMe({ headers: { authorization: `Bearer ${own.secret}` } }), 200, 'still works');

    const member = await newMember(worker, 'observer');
    const toManager = expectStatus(await setRole(worker, member.user, 'manager'), 200, 'to manager').json;
    assert.equal(toManager.revoked_tokens, undefined, 'manager is not a privileged role');
    assert.equal(toManager.notice, undefined);
    expectStatus(await api(member).getMe(), 200, 'the token still works');
  });
});

/** The ids of a member's tokens (the one `newMember` minted), read before a change. */
async function tokenIdsBefore(member) {
  const audit = expectStatus(await api(worker).listAudit(), 200, 'audit').json.audit_entries;
  return audit.filter((e) => e.event === 'token.created' && e.after?.user_id === member.user.id && e.after.label === 'e2e').map((e) => e.target_id);
}

describe('concurrent writes', () => {
  test('concurrent role changes of one user are each applied whole or answered 409, never interleaved', async () => {
    const member = await newMember(worker, 'observer');
    const roles = Array.from({ length: 16 }, (_, i) => (i % 2 ? 'responder' : 'manager'));
    const answers = await Promise.all(roles.map((role) => setRole(worker, member.user, role)));
    const applied = answers.filter((res) => res.status === 200);
    const conflicts = answers.filter((res) => res.status === 409);
    assert.equal(applied.length + conflicts.length, roles.length, answers.map((r) => `${r.status} ${r.text.slice(0, 200)}`).join('\n'));
    for (const res of conflicts) assertApiError(res, 409, 'edit_conflict');
    assert.ok(applied.length >= 1);
    assert.ok(conflicts.length >= 1, 'the requests overlapped (if none did, this test proved nothing)');
    // The audit log is one chain: each change starts from the state the previous one left.
    const chain = (await auditOf(member.user.id)).filter((e) => e.event === 'user.updated');
    assert.equal(chain.length, applied.length, 'one record per applied change, none for a refused one');
    let role = 'observer';
    for (const entry of chain) {
      assert.equal(entry.before.role, role, `a change started from a state that was already gone: ${JSON.stringify(entry)}`);
      role = entry.after.role;
    }
    const now = expectStatus(await api(worker).getUser(member.user.id), 200, 'user').json.user;
    assert.equal(now.role, role, 'the stored role is the last recorded one');
    console.log(`# concurrent role changes: ${applied.length} applied, ${conflicts.length} answered 409`);
  });

  test('a delete is made on the version read: one made on an older version is 409 with the user as they are now, and removes nothing', async () => {
    const member = await newMember(worker, 'observer');
    const { id } = member.user;
    const atVersion = (version) => ({ headers: { 'if-match': `"${version}"` } });
    // An admin's page shows the user at version 1; meanwhile someone makes them a responder.
    const changed = expectStatus(await setRole(worker, member.user, 'responder'), 200, 'change').json.user;
    const stale = await api(worker).deleteUser(id, atVersion(1));
    assertApiError(stale, 409, 'edit_conflict', 'a delete of version 1');
    assert.deepEqual(stale.json.user, changed, 'the 409 carries the user as they are now');
    assert.equal(changed.version, 2);
    expectStatus(await api(worker).getUser(id), 200, 'the user is still there');
    expectStatus(await api(member).getMe(), 200, 'and so is their token');
    // An edit made on version 1 is refused the same way; a malformed If-Match is a 400.
    assertApiError(await api(worker).updateUser(id, { role: 'manager' }, atVersion(1)), 409, 'edit_conflict', 'an edit of version 1');
    assertApiError(await api(worker).deleteUser(id, { headers: { 'if-match': '"two"' } }), 400, 'invalid_if_match');
    assert.deepEqual((await auditOf(member.user.id)).map((e) => e.event), ['user.created', 'user.updated'], 'nothing refused was recorded');

    assert.equal((await api(worker).deleteUser(id, atVersion(2))).status, 204, 'a delete of the current version');
    assertApiError(await api(worker).getUser(id), 404, 'not_found');
    const [deleted] = (await auditOf(member.user.id)).filter((e) => e.event === 'user.deleted');
    assert.equal(deleted.before.role, 'responder', 'recorded as it was deleted');
  });
});
