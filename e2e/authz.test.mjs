// The authorization matrix: every route × every role (and no credentials, a revoked
// token, an expired session, a deleted user) → the expected status. Which role may call
// what is not written here: it comes from shared/fixtures/authorization.json, which a
// Rust test keeps equal to the table the worker enforces (shared/src/routes.rs). Then
// the rules the table cannot express: redaction by role, one-time token secrets,
// revocation, owner-only grants and the last owner.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  ROOT,
  assertApiError,
  createAction,
  createService,
  expectStatus,
  startReceiver,
  startWorker,
  triggerIncident,
  unique,
} from './harness.mjs';

const TABLE = JSON.parse(fs.readFileSync(path.join(ROOT, 'shared/fixtures/authorization.json'), 'utf8'));
const ROLES = TABLE.roles;
const rank = (role) => ROLES.indexOf(role);

let worker;
let receiver;
/** The fixtures every route is called against. */
const ids = {};
/** role → {user, token}, each made through the API with the ADMIN_TOKEN. */
const members = {};

before(async () => {
  [worker, receiver] = await Promise.all([startWorker(), startReceiver()]);
  const service = await createService(worker);
  const action = await createAction(worker, service.id, { endpoint_url: `${receiver.url}/ok` });
  await receiver.addSecret(action.signing_secret);
  const incident = await triggerIncident(worker, service);
  const run = expectStatus(
    await worker.api('POST', `/api/incidents/${incident.id}/actions/${action.id}/runs`),
    201,
    'run',
  ).json.run;
  Object.assign(ids, { service: service.id, action: action.id, incident: incident.id, run: run.id });
  for (const role of ROLES) members[role] = await newMember(role);
  ids.user = members.stakeholder.user.id;
  ids.token = members.stakeholder.tokenId;
});
after(async () => {
  await Promise.all([worker?.stop(), receiver?.stop()]);
});

/** A user with `role` and one API token, made by the ADMIN_TOKEN's built-in owner. */
async function newMember(role, api = worker.api) {
  const email = `${unique(role).replace(/\W+/g, '-')}@example.com`;
  const user = expectStatus(await api('POST', '/api/users', { name: unique(role), email, role }), 201, `create ${role}`)
    .json.user;
  const token = expectStatus(await api('POST', `/api/users/${user.id}/tokens`, { label: 'matrix' }), 201, 'token').json
    .token;
  return { user, token: token.secret, tokenId: token.id, as: bearer(token.secret) };
}

function bearer(secret) {
  return (method, urlPath, body, headers = {}) =>
    worker.api(method, urlPath, body, { authorization: `Bearer ${secret}`, ...headers });
}

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
  const urlPath = template.replace(/\{(\w+)\}/g, (_, name) => fill[name]);
  let body = harmlessBody;
  if (template === '/api/users/{user}/tokens' && method === 'POST') body = { label: 'never made' };
  if (template === '/api/users/{user}' && method === 'PATCH') body = {};
  if (template === '/api/session' && method === 'DELETE') body = undefined;
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
    const anonymous = (method, urlPath, body) => worker.api(method, urlPath, body, { authorization: null });
    const enqueue = await anonymous('POST', '/v2/enqueue', { routing_key: 'x'.repeat(32), event_action: 'trigger' });
    assert.notEqual(enqueue.status, 401, enqueue.text);
    assert.notEqual(enqueue.status, 403, enqueue.text);
    const change = await anonymous('POST', '/v2/change/enqueue', { routing_key: 'x'.repeat(32), payload: { summary: 'x' } });
    assert.equal(change.status, 400, change.text);
    assert.match(change.json.errors[0], /does not match any service/);
    const signIn = await anonymous('POST', '/api/session', { token: members.stakeholder.token });
    assert.equal(signIn.status, 200, signIn.text);
    const described = await anonymous('GET', '/api/openapi.json');
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
    const deletedCookie = await signInCookie(deleted.token);
    const expiredCookie = await signInCookie(expired.token);
    expectStatus(await worker.api('DELETE', `/api/users/${revoked.user.id}/tokens/${revoked.tokenId}`), 204, 'revoke');
    expectStatus(await worker.api('DELETE', `/api/users/${deleted.user.id}`), 204, 'delete user');
    await worker.sql(`UPDATE sessions SET expires_at = 0 WHERE user_id = '${expired.user.id}'`);
    const callers = {
      'no credentials': (m, p, b) => worker.api(m, p, b, { authorization: null }),
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
    expectStatus(await expired.as('GET', '/api/me'), 200, 'expired user token');
  });
});

async function signInCookie(secret) {
  const res = expectStatus(
    await worker.api('POST', '/api/session', { token: secret }, { authorization: null }),
    200,
    'sign in with a user token',
  );
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('ia_session='));
  assert.ok(cookie, 'a session cookie');
  return cookie.split(';')[0];
}

function withCookie(cookie) {
  return (method, urlPath, body, headers = {}) =>
    worker.api(method, urlPath, body, { authorization: null, cookie, origin: worker.baseUrl, 'sec-fetch-site': 'same-origin', ...headers });
}

describe('what each role sees', () => {
  test('routing keys are null below manager and shown from manager up', async () => {
    for (const role of ROLES) {
      const res = expectStatus(await members[role].as('GET', `/api/services/${ids.service}`), rank(role) >= rank('observer') ? 200 : 403, role);
      if (res.status !== 200) continue;
      const shown = rank(role) >= rank('manager');
      assert.equal(typeof res.json.service.routing_key === 'string', shown, `${role}: ${res.text}`);
      if (!shown) assert.equal(res.json.service.routing_key, null, role);
      const list = expectStatus(await members[role].as('GET', '/api/services'), 200, role);
      const listed = list.json.services.find((s) => s.id === ids.service);
      assert.equal(typeof listed.routing_key === 'string', shown, role);
    }
  });

  test('action configuration is left out below manager, the name always shown', async () => {
    for (const role of ['observer', 'responder', 'manager', 'admin']) {
      const res = expectStatus(await members[role].as('GET', `/api/services/${ids.service}/actions/${ids.action}`), 200, role);
      const shown = rank(role) >= rank('manager');
      assert.equal('endpoint_url' in res.json.action, shown, `${role}: ${res.text}`);
      assert.equal('headers' in res.json.action, shown, role);
      assert.equal(typeof res.json.action.name, 'string');
      assert.ok(!res.text.includes(receiver.url) || shown, `${role} must not see the endpoint`);
      const list = expectStatus(await members[role].as('GET', `/api/services/${ids.service}/actions`), 200, role);
      assert.equal('endpoint_url' in list.json.actions[0], shown, role);
    }
  });

  test('observers and stakeholders see only a run’s status: no outcome, code, time, excerpt or headers', async () => {
    for (const role of ROLES) {
      const shown = rank(role) >= rank('responder');
      const run = expectStatus(await members[role].as('GET', `/api/runs/${ids.run}`), 200, role).json.run;
      assert.equal(run.status, 'succeeded', role);
      assert.equal(run.response_excerpt !== null, shown, `${role}: ${JSON.stringify(run)}`);
      for (const detail of ['outcome', 'http_status', 'duration_ms']) assert.equal(run[detail] !== null, shown, `${role} ${detail}`);
      assert.equal(Array.isArray(run.request_headers), shown, `${role}: ${JSON.stringify(run)}`);
      const runs = expectStatus(await members[role].as('GET', `/api/incidents/${ids.incident}/runs`), 200, role).json.runs;
      assert.equal(runs[0].response_excerpt !== null, shown, role);
      const log = expectStatus(await members[role].as('GET', `/api/incidents/${ids.incident}/log`), 200, role).json.log_entries;
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
      const { settings } = expectStatus(await members[role].as('GET', '/api/session'), 200, role).json;
      const expected = rank(role) >= rank('manager') ? '127.0.0.1' : '';
      assert.equal(settings.private_endpoint_allowlist, expected, role);
    }
  });

  test('a stakeholder sees the incident but not its action buttons', async () => {
    for (const role of ROLES) {
      const { incident } = expectStatus(await members[role].as('GET', `/api/incidents/${ids.incident}`), 200, role).json;
      assert.equal(Array.isArray(incident.actions), role !== 'stakeholder', `${role}: ${JSON.stringify(incident.actions)}`);
    }
  });

  test('/api/me names the caller and role, and the ADMIN_TOKEN is the built-in owner', async () => {
    const me = expectStatus(await worker.api('GET', '/api/me'), 200, 'me').json.user;
    assert.deepEqual({ id: me.id, role: me.role, built_in: me.built_in, email: me.email }, { id: 'admin', role: 'owner', built_in: true, email: null });
    for (const role of ROLES) {
      const { user } = expectStatus(await members[role].as('GET', '/api/me'), 200, role).json;
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
    const res = expectStatus(await worker.api('POST', `/api/users/${user.id}/tokens`, { label: 'laptop' }), 201, 'create');
    const { token } = res.json;
    assert.match(token.secret, /^iat_[A-Za-z0-9_-]{43}$/);
    assert.equal(token.last4, token.secret.slice(-4));
    assert.equal(token.label, 'laptop');
    const list = expectStatus(await worker.api('GET', `/api/users/${user.id}/tokens`), 200, 'list');
    const listed = list.json.tokens.find((t) => t.id === token.id);
    assert.deepEqual(Object.keys(listed).sort(), ['created_at', 'id', 'label', 'last4']);
    assert.ok(!list.text.includes(token.secret), 'the list never shows a secret');
    const audit = expectStatus(await worker.api('GET', '/api/audit'), 200, 'audit');
    assert.ok(audit.json.audit_entries.some((e) => e.event === 'token.created' && e.target_id === token.id), 'recorded');
    assert.ok(!audit.text.includes(token.secret), 'the audit log never holds a secret');
    assert.ok(!worker.logs().includes(token.secret), 'no log line holds a secret');
    for (const member of Object.values(members)) assert.ok(!worker.logs().includes(member.token), 'nor any other token');
    const stored = await worker.sql(`SELECT token_hash FROM api_tokens WHERE id = '${token.id}'`);
    assert.ok(!String(stored).includes(token.secret), 'only the hash is stored');
  });

  test('a revoked token stops working at once, with its sessions', async () => {
    const member = await newMember('responder');
    const cookie = await signInCookie(member.token);
    expectStatus(await withCookie(cookie)('GET', '/api/me'), 200, 'session works');
    expectStatus(await member.as('GET', '/api/me'), 200, 'bearer works');
    expectStatus(await worker.api('DELETE', `/api/users/${member.user.id}/tokens/${member.tokenId}`), 204, 'revoke');
    assertApiError(await member.as('GET', '/api/me'), 401, 'unauthorized', 'bearer after revoke');
    assertApiError(await withCookie(cookie)('GET', '/api/me'), 401, 'unauthorized', 'session after revoke');
    assertApiError(await signInResponse(member.token), 401, 'unauthorized', 'sign-in after revoke');
    assertApiError(await worker.api('DELETE', `/api/users/${member.user.id}/tokens/${member.tokenId}`), 404, 'not_found');
  });

  test('a role change applies to an open session at once', async () => {
    const member = await newMember('observer');
    const cookie = await signInCookie(member.token);
    assertApiError(await withCookie(cookie)('POST', `/api/incidents/${MISSING.incident}/acknowledge`, {}), 403, 'forbidden');
    expectStatus(await worker.api('PATCH', `/api/users/${member.user.id}`, { role: 'responder' }), 200, 'promote');
    const me = expectStatus(await withCookie(cookie)('GET', '/api/me'), 200, 'me').json.user;
    assert.equal(me.role, 'responder');
  });
});

function signInResponse(secret) {
  return worker.api('POST', '/api/session', { token: secret }, { authorization: null });
}

describe('users', () => {
  test('fields are validated and e-mails are unique regardless of case', async () => {
    const res = await worker.api('POST', '/api/users', { name: '', email: 'nope', role: 'root' });
    const error = assertApiError(res, 422, 'validation_failed');
    assert.deepEqual(error.fields.map((f) => f.field), ['name', 'email', 'role']);
    const email = members.manager.user.email.toUpperCase();
    assertApiError(await worker.api('POST', '/api/users', { name: 'Twin', email, role: 'observer' }), 409, 'email_taken');
    assertApiError(await worker.api('GET', '/api/users/usr_missing'), 404, 'not_found');
  });

  test('only an owner grants, removes or acts for admin and owner', async () => {
    const admin = members.admin.as;
    const refused = (res, what) => assert.match(assertApiError(res, 403, 'forbidden', what).message, /only an owner/);
    for (const role of ['admin', 'owner']) {
      refused(await admin('POST', '/api/users', { name: 'X', email: `${role}-${Date.now()}@example.com`, role }), `admin grants ${role}`);
    }
    const manager = await newMember('manager', admin);
    refused(await admin('PATCH', `/api/users/${manager.user.id}`, { role: 'admin' }), 'admin promotes to admin');
    refused(await admin('PATCH', `/api/users/${members.owner.user.id}`, { name: 'Renamed' }), 'admin edits an owner');
    refused(await admin('DELETE', `/api/users/${members.owner.user.id}`), 'admin deletes an owner');
    refused(await admin('POST', `/api/users/${members.owner.user.id}/tokens`, { label: 'mine now' }), 'admin mints an owner token');
    expectStatus(await admin('PATCH', `/api/users/${manager.user.id}`, { role: 'responder' }), 200, 'admin demotes a manager');
    expectStatus(await admin('POST', `/api/users/${members.admin.user.id}/tokens`, { label: 'my own' }), 201, 'an admin mints their own token');
    const promoted = expectStatus(await members.owner.as('PATCH', `/api/users/${manager.user.id}`, { role: 'admin' }), 200, 'owner promotes');
    assert.equal(promoted.json.user.role, 'admin');
    const audit = expectStatus(await worker.api('GET', '/api/audit'), 200, 'audit').json.audit_entries;
    const entry = audit.find((e) => e.event === 'user.updated' && e.target_id === manager.user.id && e.after.role === 'admin');
    assert.ok(entry, 'the promotion is in the audit log');
    assert.equal(entry.actor.id, members.owner.user.id);
    assert.equal(entry.before.role, 'responder');
  });

  test('the last owner cannot be demoted or deleted', async () => {
    const owners = expectStatus(await worker.api('GET', '/api/users'), 200, 'list').json.users.filter((u) => u.role === 'owner');
    assert.equal(owners.length, 1, 'the matrix owner is the only owner');
    const [only] = owners;
    assertApiError(await worker.api('PATCH', `/api/users/${only.id}`, { role: 'admin' }), 409, 'last_owner');
    assertApiError(await worker.api('DELETE', `/api/users/${only.id}`), 409, 'last_owner');
    expectStatus(await worker.api('PATCH', `/api/users/${only.id}`, { name: 'Still owner' }), 200, 'rename is fine');
    const second = (await newMember('owner')).user;
    expectStatus(await worker.api('PATCH', `/api/users/${only.id}`, { role: 'admin' }), 200, 'demote with another owner left');
    assertApiError(await worker.api('DELETE', `/api/users/${second.id}`), 409, 'last_owner');
    expectStatus(await worker.api('PATCH', `/api/users/${only.id}`, { role: 'owner' }), 200, 'promote back');
    expectStatus(await worker.api('DELETE', `/api/users/${second.id}`), 204, 'delete with another owner left');
  });

  test('deleting a user ends their sessions and tokens at once', async () => {
    const member = await newMember('manager');
    const cookie = await signInCookie(member.token);
    expectStatus(await worker.api('DELETE', `/api/users/${member.user.id}`), 204, 'delete');
    assertApiError(await member.as('GET', '/api/me'), 401, 'unauthorized', 'bearer');
    assertApiError(await withCookie(cookie)('GET', '/api/me'), 401, 'unauthorized', 'cookie');
    const audit = expectStatus(await worker.api('GET', '/api/audit'), 200, 'audit').json.audit_entries;
    assert.ok(audit.some((e) => e.event === 'user.deleted' && e.target_id === member.user.id));
  });
});
