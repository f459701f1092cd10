// The authorization matrix: every route × every role (and no credentials, a revoked
// token, an expired session, a deleted user) → the expected status. Which role may call
// what is not written here: it comes from shared/fixtures/authorization.json, which a
// Rust test keeps equal to the table the worker enforces (shared/src/routes.rs). Then
// the rules the table cannot express: redaction by role, one-time token secrets,
// revocation, owner-only grants and the last owner.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';

import { api, paths, routes } from './client.mjs';
import {
  assertApiError,
  createAction,
  createService,
  expectStatus,
  ROOT,
  signInSession,
  triggerIncident,
  unique,
  useWorld,
} from './harness.mjs';

const TABLE = JSON.parse(fs.readFileSync(path.join(ROOT, 'shared/fixtures/authorization.json'), 'utf8'));
const ROLES = TABLE.roles;
const rank = (role) => ROLES.indexOf(role);

const { worker, receiver, ready } = useWorld();
/** The fixtures every route is called against. */
const ids = {};
/** role → {user, token}, each made through the API with the ADMIN_TOKEN. */
const members = {};

before(async () => {
  await ready;
  const service = await createService(worker);
  const action = await createAction(worker, service.id, { endpoint_url: `${receiver.url}/ok` });
  await receiver.addSecret(action.signing_secret);
  const incident = await triggerIncident(worker, service);
  const run = expectStatus(await api(worker).runAction(incident.id, action.id), 201, 'run').json.run;
  Object.assign(ids, { service: service.id, action: action.id, incident: incident.id, run: run.id });
  for (const role of ROLES) members[role] = await newMember(role);
  ids.user = members.stakeholder.user.id;
  ids.token = members.stakeholder.tokenId;
});

/** A user with `role` and one API token, made by `by` (the ADMIN_TOKEN's built-in owner). */
async function newMember(role, by = worker) {
  const email = `${unique(role).replace(/\W+/g, '-')}@example.com`;
  const user = expectStatus(await api(by).createUser({ name: unique(role), email, role }), 201, `create ${role}`).json.user;
  const token = expectStatus(await api(by).createToken(user.id, { label: 'matrix' }), 201, 'token').json.token;
  return { user, token: token.secret, tokenId: token.id, as: bearer(token.secret) };
}

function bearer(secret) {
  return (method, urlPath, body, headers = {}) =>
    worker.api(method, urlPath, body, { authorization: `Bearer ${secret}`, ...headers });
}

const routeOf = Object.fromEntries(routes.map((route) => [`${route.method} ${route.template}`, route]));

const MISSING = { service: 'svc_missing', action: 'act_missing', incident: 'inc_missing', user: 'usr_missing', token: 'tok_missing', run: 'run_missing' };

/**
 * How the matrix calls a route: reads use the real fixtures (and must answer 200 when
 * allowed); changes use ids that do not exist or a body that fails validation, so an
 * allowed call is refused by the handler (404/422) and changes nothing, while a
 * forbidden one must be stopped before it (403).
 */
function probe(method, template) {
  const changing = method !== 'GET';
  const harmlessBody = { PATCH: { name: '' }, POST: {}, PUT: {} }[method];
  // PATCH of services and actions: the real thing with an invalid name (422).
  const useReal = !changing || (method === 'PATCH' && /\{(service|action)\}$/.test(template));
  const fill = useReal ? ids : MISSING;
  const route = routeOf[`${method} ${template}`];
  const urlPath = paths[route.name](...route.params.map((name) => fill[name]));
  let body = harmlessBody;
  if (route.name === 'createToken') body = { label: 'never made' };
  if (route.name === 'updateUser') body = {};
  if (route.name === 'signOut') body = undefined;
  // The PagerDuty surface answers invalid input with PagerDuty's 400, not 422.
  const refused = template.startsWith('/pagerduty') ? [400, 404] : [404, 422];
  return { urlPath, body, expectOk: method === 'GET' ? [200] : [200, 204, ...refused] };
}

/**
 * A refusal in the shape of the surface it came from: `/api`'s `{"error": {"code"}}`, or
 * PagerDuty's `{"error": {"message", "code": <number>, "errors"}}` under `/pagerduty`.
 * Returns the message that explains it.
 */
function assertRefused(res, status, urlPath, what) {
  if (!urlPath.startsWith('/pagerduty')) {
    return assertApiError(res, status, { 401: 'unauthorized', 403: 'forbidden' }[status], what).message;
  }
  const context = `${what} → ${res.status} ${res.text.slice(0, 500)}`;
  assert.equal(res.status, status, context);
  assert.equal(res.json?.error?.code, { 401: 2006, 403: 2010 }[status], context);
  assert.ok(Array.isArray(res.json.error.errors) && res.json.error.errors.length > 0, context);
  return res.json.error.errors.join(' ');
}

const guarded = TABLE.routes.filter((r) => r.needs !== 'open');

describe('the authorization matrix', () => {
  test('the table covers every guarded route and names a role for each', () => {
    assert.ok(guarded.length >= 30, `${guarded.length} routes`);
    for (const route of guarded) assert.ok(ROLES.includes(route.minimum_role), JSON.stringify(route));
  });

  for (const role of [...ROLES, 'ADMIN_TOKEN']) {
    test(`${role}: allowed routes answer, the others are 403 forbidden`, async () => {
      const call = role === 'ADMIN_TOKEN' ? worker.api : members[role].as;
      const effective = role === 'ADMIN_TOKEN' ? 'owner' : role;
      for (const { method, path: template, minimum_role: minimum, needs } of guarded) {
        const { urlPath, body, expectOk } = probe(method, template);
        const res = await call(method, urlPath, body);
        const what = `${role} ${method} ${urlPath}`;
        if (rank(effective) >= rank(minimum)) {
          assert.ok(expectOk.includes(res.status), `${what} (${needs}) expected ${expectOk}, got ${res.status} ${res.text.slice(0, 300)}`);
        } else {
          const message = assertRefused(res, 403, urlPath, what);
          assert.match(message, new RegExp(`\\(${role}\\)`), what);
          assert.match(message, new RegExp(minimum), `${what}: names the role needed`);
        }
      }
    });
  }

  test('the open routes need no credentials', async () => {
    const anonymous = api(worker, { token: null });
    const enqueue = await anonymous.enqueue({ routing_key: 'x'.repeat(32), event_action: 'trigger' });
    assert.notEqual(enqueue.status, 401, enqueue.text);
    assert.notEqual(enqueue.status, 403, enqueue.text);
    const change = await anonymous.changeEnqueue({ routing_key: 'x'.repeat(32), payload: { summary: 'x' } });
    assert.equal(change.status, 400, change.text);
    assert.match(change.json.errors[0], /does not match any service/);
    const signedIn = await anonymous.signIn({ token: members.stakeholder.token });
    assert.equal(signedIn.status, 200, signedIn.text);
    const described = await anonymous.getOpenApi();
    assert.equal(described.status, 200, described.text.slice(0, 200));
    assert.match(described.headers.get('content-type'), /^application\/json/);
    assert.equal(described.json.openapi, '3.1.0');
    for (const route of TABLE.routes) {
      const operation = described.json.paths[route.path]?.[route.method.toLowerCase()];
      assert.ok(operation, `${route.method} ${route.path} is described`);
    }
  });

  test('no credentials, a revoked token, an expired session and a deleted user are 401 everywhere', async () => {
    const revoked = await newMember('manager');
    const deleted = await newMember('admin');
    const expired = await newMember('responder');
    const deletedCookie = await sessionCookieOf(deleted.token);
    const expiredCookie = await sessionCookieOf(expired.token);
    expectStatus(await api(worker).deleteToken(revoked.user.id, revoked.tokenId), 204, 'revoke');
    expectStatus(await api(worker).deleteUser(deleted.user.id), 204, 'delete user');
    await worker.sql(`UPDATE sessions SET expires_at = 0 WHERE user_id = '${expired.user.id}'`);
    const callers = {
      'no credentials': (method, urlPath, body) => worker.api(method, urlPath, body, { authorization: null }),
      'a revoked token': revoked.as,
      "a deleted user's token": deleted.as,
      "a deleted user's session": withCookie(deletedCookie),
      'an expired session': withCookie(expiredCookie),
    };
    for (const [who, call] of Object.entries(callers)) {
      for (const { method, path: template } of guarded) {
        const { urlPath, body } = probe(method, template);
        assertRefused(await call(method, urlPath, body), 401, urlPath, `${who}: ${method} ${urlPath}`);
      }
    }
    // The expired user's token itself still works: only the session ended.
    expectStatus(await api(expired.as).getMe(), 200, 'expired user token');
  });
});

/** The `ia_session=...` pair of a session signed in with `secret`. */
async function sessionCookieOf(secret) {
  return (await signInSession(worker, { token: secret })).pair;
}

function withCookie(cookie) {
  return (method, urlPath, body, headers = {}) =>
    worker.api(method, urlPath, body, { authorization: null, cookie, origin: worker.baseUrl, 'sec-fetch-site': 'same-origin', ...headers });
}

describe('what each role sees', () => {
  test('routing keys are null below manager and shown from manager up', async () => {
    for (const role of ROLES) {
      const res = expectStatus(await api(members[role].as).getService(ids.service), rank(role) >= rank('observer') ? 200 : 403, role);
      if (res.status !== 200) continue;
      const shown = rank(role) >= rank('manager');
      assert.equal(typeof res.json.service.routing_key === 'string', shown, `${role}: ${res.text}`);
      if (!shown) assert.equal(res.json.service.routing_key, null, role);
      const list = expectStatus(await api(members[role].as).listServices(), 200, role);
      const listed = list.json.services.find((s) => s.id === ids.service);
      assert.equal(typeof listed.routing_key === 'string', shown, role);
    }
  });

  test('action configuration is left out below manager, the name always shown', async () => {
    for (const role of ['observer', 'responder', 'manager', 'admin']) {
      const res = expectStatus(await api(members[role].as).getAction(ids.service, ids.action), 200, role);
      const shown = rank(role) >= rank('manager');
      assert.equal('endpoint_url' in res.json.action, shown, `${role}: ${res.text}`);
      assert.equal('headers' in res.json.action, shown, role);
      assert.equal(typeof res.json.action.name, 'string');
      assert.ok(!res.text.includes(receiver.url) || shown, `${role} must not see the endpoint`);
      const list = expectStatus(await api(members[role].as).listActions(ids.service), 200, role);
      assert.equal('endpoint_url' in list.json.actions[0], shown, role);
    }
  });

  test('observers and stakeholders see only a run’s status: no outcome, code, time, excerpt or headers', async () => {
    for (const role of ROLES) {
      const shown = rank(role) >= rank('responder');
      const run = expectStatus(await api(members[role].as).getRun(ids.run), 200, role).json.run;
      assert.equal(run.status, 'succeeded', role);
      assert.equal(run.response_excerpt !== null, shown, `${role}: ${JSON.stringify(run)}`);
      for (const detail of ['outcome', 'http_status', 'duration_ms']) assert.equal(run[detail] !== null, shown, `${role} ${detail}`);
      assert.equal(Array.isArray(run.request_headers), shown, `${role}: ${JSON.stringify(run)}`);
      const runs = expectStatus(await api(members[role].as).listRuns(ids.incident), 200, role).json.runs;
      assert.equal(runs[0].response_excerpt !== null, shown, role);
      const log = expectStatus(await api(members[role].as).getLog(ids.incident), 200, role).json.log_entries;
      const entry = log.find((e) => e.run);
      assert.ok(entry, `${role}: the run is on the timeline`);
      assert.equal(entry.run.response_excerpt !== null, shown, role);
      assert.equal(Array.isArray(entry.run.request_headers), shown, role);
      if (shown) assert.match(entry.summary, /HTTP 200/, role);
      else assert.equal(entry.summary, `Ran "${entry.run.action_name}": succeeded`, `${role}: the line says only the status`);
    }
  });

  test('the endpoint settings (internal host names) go to manager and up only', async () => {
    for (const role of ROLES) {
      const { settings } = expectStatus(await api(members[role].as).getSession(), 200, role).json;
      const expected = rank(role) >= rank('manager') ? '127.0.0.1' : '';
      assert.equal(settings.private_endpoint_allowlist, expected, role);
    }
  });

  test('a stakeholder sees the incident but not its action buttons', async () => {
    for (const role of ROLES) {
      const { incident } = expectStatus(await api(members[role].as).getIncident(ids.incident), 200, role).json;
      assert.equal(Array.isArray(incident.actions), role !== 'stakeholder', `${role}: ${JSON.stringify(incident.actions)}`);
    }
  });

  test('/api/me names the caller and role, and the ADMIN_TOKEN is the built-in owner', async () => {
    const me = expectStatus(await api(worker).getMe(), 200, 'me').json.user;
    assert.deepEqual({ id: me.id, role: me.role, built_in: me.built_in, email: me.email }, { id: 'admin', role: 'owner', built_in: true, email: null });
    for (const role of ROLES) {
      const { user } = expectStatus(await api(members[role].as).getMe(), 200, role).json;
      assert.equal(user.id, members[role].user.id);
      assert.equal(user.role, role);
      assert.equal(user.email, members[role].user.email);
      assert.equal(user.built_in, false);
    }
  });
});

describe('tokens', () => {
  test('the secret is shown once, recognisable, and never again', async () => {
    const { user } = members.observer;
    const res = expectStatus(await api(worker).createToken(user.id, { label: 'laptop' }), 201, 'create');
    const { token } = res.json;
    assert.match(token.secret, /^iat_[A-Za-z0-9_-]{43}$/);
    assert.equal(token.last4, token.secret.slice(-4));
    assert.equal(token.label, 'laptop');
    const list = expectStatus(await api(worker).listTokens(user.id), 200, 'list');
    const listed = list.json.tokens.find((t) => t.id === token.id);
    assert.deepEqual(Object.keys(listed).sort(), ['created_at', 'id', 'label', 'last4']);
    assert.ok(!list.text.includes(token.secret), 'the list never shows a secret');
    const audit = expectStatus(await api(worker).listAudit(), 200, 'audit');
    assert.ok(audit.json.audit_entries.some((e) => e.event === 'token.created' && e.target_id === token.id), 'recorded');
    assert.ok(!audit.text.includes(token.secret), 'the audit log never holds a secret');
    assert.ok(!worker.logs().includes(token.secret), 'no log line holds a secret');
    for (const member of Object.values(members)) assert.ok(!worker.logs().includes(member.token), 'nor any other token');
    const stored = await worker.sql(`SELECT token_hash FROM api_tokens WHERE id = '${token.id}'`);
    assert.ok(!String(stored).includes(token.secret), 'only the hash is stored');
  });

  test('a revoked token stops working at once, with its sessions', async () => {
    const member = await newMember('responder');
    const cookie = await sessionCookieOf(member.token);
    expectStatus(await api(withCookie(cookie)).getMe(), 200, 'session works');
    expectStatus(await api(member.as).getMe(), 200, 'bearer works');
    expectStatus(await api(worker).deleteToken(member.user.id, member.tokenId), 204, 'revoke');
    assertApiError(await api(member.as).getMe(), 401, 'unauthorized', 'bearer after revoke');
    assertApiError(await api(withCookie(cookie)).getMe(), 401, 'unauthorized', 'session after revoke');
    assertApiError(await api(worker).signIn({ token: member.token }, { token: null }), 401, 'unauthorized', 'sign-in after revoke');
    assertApiError(await api(worker).deleteToken(member.user.id, member.tokenId), 404, 'not_found');
  });

  test('a role change applies to an open session at once', async () => {
    const member = await newMember('observer');
    const cookie = await sessionCookieOf(member.token);
    assertApiError(await api(withCookie(cookie)).acknowledge(MISSING.incident, {}), 403, 'forbidden');
    expectStatus(await api(worker).updateUser(member.user.id, { role: 'responder' }), 200, 'promote');
    const me = expectStatus(await api(withCookie(cookie)).getMe(), 200, 'me').json.user;
    assert.equal(me.role, 'responder');
  });
});

describe('users', () => {
  test('fields are validated and e-mails are unique regardless of case', async () => {
    const res = await api(worker).createUser({ name: '', email: 'nope', role: 'root' });
    const error = assertApiError(res, 422, 'validation_failed');
    assert.deepEqual(error.fields.map((f) => f.field), ['name', 'email', 'role']);
    const email = members.manager.user.email.toUpperCase();
    assertApiError(await api(worker).createUser({ name: 'Twin', email, role: 'observer' }), 409, 'email_taken');
    assertApiError(await api(worker).getUser('usr_missing'), 404, 'not_found');
  });

  test('only an owner grants, removes or acts for admin and owner', async () => {
    const admin = members.admin.as;
    const refused = (res, what) => assert.match(assertApiError(res, 403, 'forbidden', what).message, /only an owner/);
    for (const role of ['admin', 'owner']) {
      refused(await api(admin).createUser({ name: 'X', email: `${role}-${Date.now()}@example.com`, role }), `admin grants ${role}`);
    }
    const manager = await newMember('manager', admin);
    refused(await api(admin).updateUser(manager.user.id, { role: 'admin' }), 'admin promotes to admin');
    refused(await api(admin).updateUser(members.owner.user.id, { name: 'Renamed' }), 'admin edits an owner');
    refused(await api(admin).deleteUser(members.owner.user.id), 'admin deletes an owner');
    refused(await api(admin).createToken(members.owner.user.id, { label: 'mine now' }), 'admin mints an owner token');
    expectStatus(await api(admin).updateUser(manager.user.id, { role: 'responder' }), 200, 'admin demotes a manager');
    expectStatus(await api(admin).createToken(members.admin.user.id, { label: 'my own' }), 201, 'an admin mints their own token');
    const promoted = expectStatus(await api(members.owner.as).updateUser(manager.user.id, { role: 'admin' }), 200, 'owner promotes');
    assert.equal(promoted.json.user.role, 'admin');
    const audit = expectStatus(await api(worker).listAudit(), 200, 'audit').json.audit_entries;
    const entry = audit.find((e) => e.event === 'user.updated' && e.target_id === manager.user.id && e.after.role === 'admin');
    assert.ok(entry, 'the promotion is in the audit log');
    assert.equal(entry.actor.id, members.owner.user.id);
    assert.equal(entry.before.role, 'responder');
  });

  test('the last owner cannot be demoted or deleted', async () => {
    const owners = expectStatus(await api(worker).listUsers(), 200, 'list').json.users.filter((u) => u.role === 'owner');
    assert.equal(owners.length, 1, 'the matrix owner is the only owner');
    const [only] = owners;
    assertApiError(await api(worker).updateUser(only.id, { role: 'admin' }), 409, 'last_owner');
    assertApiError(await api(worker).deleteUser(only.id), 409, 'last_owner');
    expectStatus(await api(worker).updateUser(only.id, { name: 'Still owner' }), 200, 'rename is fine');
    const second = (await newMember('owner')).user;
    expectStatus(await api(worker).updateUser(only.id, { role: 'admin' }), 200, 'demote with another owner left');
    assertApiError(await api(worker).deleteUser(second.id), 409, 'last_owner');
    expectStatus(await api(worker).updateUser(only.id, { role: 'owner' }), 200, 'promote back');
    expectStatus(await api(worker).deleteUser(second.id), 204, 'delete with another owner left');
  });

  test('deleting a user ends their sessions and tokens at once', async () => {
    const member = await newMember('manager');
    const cookie = await sessionCookieOf(member.token);
    expectStatus(await api(worker).deleteUser(member.user.id), 204, 'delete');
    assertApiError(await api(member.as).getMe(), 401, 'unauthorized', 'bearer');
    assertApiError(await api(withCookie(cookie)).getMe(), 401, 'unauthorized', 'cookie');
    const audit = expectStatus(await api(worker).listAudit(), 200, 'audit').json.audit_entries;
    assert.ok(audit.some((e) => e.event === 'user.deleted' && e.target_id === member.user.id));
  });
});
