// Sign-in, sessions and the request rules every /api route shares: credentials, the one
// error shape, content type, body size, unknown routes and methods.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { api, paths } from './client.mjs';
import { assertApiError, request, signInSession, startWorker, useWorld } from './harness.mjs';

const { worker } = useWorld();

/** A client sending no credentials at all. */
const anonymous = api(worker, { token: null });

function sessionCookie(res) {
  const cookies = res.headers.getSetCookie();
  const cookie = cookies.find((c) => c.startsWith('ia_session='));
  assert.ok(cookie, `Set-Cookie ia_session expected, got ${JSON.stringify(cookies)}`);
  return cookie;
}


describe('credentials', () => {
  test('an /api route without credentials answers 401 with the JSON error body', async () => {
    for (const [name, ...params] of [['listServices'], ['listIncidents'], ['getSession'], ['getRun', 'run_x']]) {
      assertApiError(await anonymous[name](...params), 401, 'unauthorized', `GET ${paths[name](...params)}`);
    }
    assertApiError(await anonymous.createService({ name: 'Sneaky' }), 401, 'unauthorized');
    const list = await api(worker).listServices();
    assert.ok(!list.json.services.some((s) => s.name === 'Sneaky'), 'an unauthenticated create stored nothing');
  });

  test('a wrong bearer token is refused', async () => {
    for (const authorization of [`Bearer ${worker.token}x`, 'Bearer ', `Basic ${worker.token}`, worker.token]) {
      assertApiError(await api(worker).listServices({ headers: { authorization } }), 401, 'unauthorized', authorization);
    }
  });

  test('the right bearer token is accepted', async () => {
    const res = await api(worker).listServices();
    assert.equal(res.status, 200, res.text);
    assert.ok(Array.isArray(res.json.services));
    const session = await api(worker).getSession();
    assert.equal(session.status, 200, session.text);
    assert.equal(typeof session.json.session.user_id, 'string');
  });

  test('a token in the query string is not accepted', async () => {
    const res = await anonymous.listServices({ query: { token: worker.token } });
    assertApiError(res, 401, 'unauthorized');
  });
});

describe('sessions', () => {
  test('signing in with a wrong token is refused and sets no cookie', async () => {
    const res = await anonymous.signIn({ token: 'not-the-token' });
    assertApiError(res, 401, 'unauthorized');
    assert.deepEqual(res.headers.getSetCookie().filter((c) => c.startsWith('ia_session=') && !/Max-Age=0/i.test(c)), []);
  });

  test('signing in with an empty body is refused', async () => {
    const res = await anonymous.signIn({});
    assert.ok([400, 401, 422].includes(res.status), `got ${res.status} ${res.text}`);
    assert.ok(res.json?.error?.code, res.text);
    assert.equal(res.headers.getSetCookie().filter((c) => c.startsWith('ia_session=') && !/Max-Age=0/i.test(c)).length, 0);
  });

  test('signing in sets an HttpOnly, SameSite=Strict, expiring cookie and returns the session and settings', async () => {
    const { res, cookie } = await signInSession(worker);
    assert.match(cookie, /;\s*HttpOnly/i);
    assert.match(cookie, /;\s*SameSite=Strict/i);
    assert.match(cookie, /;\s*Path=\//i);
    const maxAge = /;\s*Max-Age=(\d+)/i.exec(cookie);
    assert.ok(maxAge && Number(maxAge[1]) > 0, `Max-Age expected in ${cookie}`);
    assert.ok(!cookie.includes(worker.token), 'the cookie is not the token itself');
    assert.equal(typeof res.json.session.user_id, 'string');
    assert.equal(typeof res.json.session.user_name, 'string');
    const expires = Date.parse(res.json.session.expires_at);
    assert.ok(expires > Date.now(), `expires_at in the future: ${res.json.session.expires_at}`);
    assert.equal(res.json.settings.private_endpoint_allowlist, '127.0.0.1');
  });

  test('the session cookie alone authorizes /api calls', async () => {
    const { pair } = await signInSession(worker);
    const session = await anonymous.getSession({ headers: { cookie: pair } });
    assert.equal(session.status, 200, session.text);
    assert.ok(Date.parse(session.json.session.expires_at) > Date.now());
    const created = await anonymous.createService({ name: 'Made with a cookie' }, { headers: { cookie: pair } });
    assert.equal(created.status, 201, created.text);
  });

  test('a tampered cookie is refused', async () => {
    const { pair } = await signInSession(worker);
    const value = pair.slice('ia_session='.length);
    const flipped = value.slice(0, -1) + (value.endsWith('A') ? 'B' : 'A');
    assertApiError(await anonymous.getSession({ headers: { cookie: `ia_session=${flipped}` } }), 401, 'unauthorized');
    assertApiError(await anonymous.listServices({ headers: { cookie: 'ia_session=' } }), 401, 'unauthorized');
  });

  test('signing out clears the cookie and the old cookie stops working', async () => {
    const { pair } = await signInSession(worker);
    // A cookie-authenticated change declares JSON even without a body (e2e/csrf.test.mjs).
    const out = await anonymous.signOut({ headers: { cookie: pair, 'content-type': 'application/json' } });
    assert.equal(out.status, 204, out.text);
    const cleared = sessionCookie(out);
    assert.ok(/Max-Age=0/i.test(cleared) || /Expires=Thu, 01 Jan 1970/i.test(cleared), `cleared cookie: ${cleared}`);
    assertApiError(await anonymous.getSession({ headers: { cookie: pair } }), 401, 'unauthorized');
    assertApiError(await anonymous.listServices({ headers: { cookie: pair } }), 401, 'unauthorized');
  });

  test('signing out one session leaves another working', async () => {
    const first = await signInSession(worker);
    const second = await signInSession(worker);
    assert.notEqual(first.pair, second.pair);
    const json = { 'content-type': 'application/json' };
    assert.equal((await anonymous.signOut({ headers: { cookie: first.pair, ...json } })).status, 204);
    assert.equal((await anonymous.getSession({ headers: { cookie: second.pair } })).status, 200);
  });
});

describe('a changed ADMIN_TOKEN', () => {
  const restarted = [];
  after(async () => {
    await Promise.all(restarted.map((w) => w.stop()));
  });

  /** Restarts on the first worker's data with `vars`, as a redeploy with new secrets does. */
  async function restart(previous, vars) {
    await previous.stop({ keepData: true });
    const next = await startWorker({ persistDir: previous.persistDir, vars: { ENCRYPTION_KEY: previous.encryptionKey, ...vars } });
    restarted.push(next);
    return next;
  }

  test('ends the sessions signed in with the old one; the same one keeps them', async () => {
    let current = await startWorker();
    restarted.push(current);
    const signedIn = await api(current).signIn({ token: current.token }, { token: null });
    assert.equal(signedIn.status, 200, signedIn.text);
    const pair = sessionCookie(signedIn).split(';')[0];
    const sessionOn = (w) => api(w).getSession({ token: null, headers: { cookie: pair } });
    assert.equal((await sessionOn(current)).status, 200);

    const oldToken = current.token;
    current = await restart(restarted.pop(), { ADMIN_TOKEN: oldToken });
    assert.equal((await sessionOn(current)).status, 200, 'a redeploy with the same ADMIN_TOKEN keeps the session');

    current = await restart(restarted.pop(), {});
    assert.notEqual(current.token, oldToken);
    assertApiError(await sessionOn(current), 401, 'unauthorized', 'the old ADMIN_TOKEN’s session must end');
    const fresh = await api(current).signIn({ token: current.token }, { token: null });
    assert.equal(fresh.status, 200, 'the new ADMIN_TOKEN signs in');
    assertApiError(await api(current).signIn({ token: oldToken }, { token: null }), 401, 'unauthorized');
  });
});

describe('request rules shared by every /api route', () => {
  test('an unknown /api route is 404 not_found', async () => {
    // A path no route has: deliberate, so written out.
    assertApiError(await worker.api('GET', '/api/nope'), 404, 'not_found');
    assertApiError(await api(worker).getService('svc_does_not_exist'), 404, 'not_found');
    assertApiError(await api(worker).getIncident('inc_does_not_exist'), 404, 'not_found');
    assertApiError(await api(worker).getRun('run_does_not_exist'), 404, 'not_found');
  });

  test('a wrong method on a known route is 405 method_not_allowed', async () => {
    // Methods these paths have no route for: deliberate, so sent by hand.
    assertApiError(await worker.api('PUT', paths.listServices(), { name: 'x' }), 405, 'method_not_allowed');
    assertApiError(await worker.api('DELETE', paths.listIncidents()), 405, 'method_not_allowed');
  });

  test('malformed JSON is 400 invalid_json and stores nothing', async () => {
    const before = (await api(worker).listServices()).json.services.length;
    for (const body of ['{"name": "Half', '', 'null', '[1,2]', '{"name": 42}']) {
      const res = await api(worker).createService(body, { headers: { 'content-type': 'application/json' } });
      assert.ok([400, 422].includes(res.status), `${JSON.stringify(body)} → ${res.status} ${res.text}`);
      if (body === '{"name": "Half' || body === '') assertApiError(res, 400, 'invalid_json', JSON.stringify(body));
    }
    // The message says what was wrong and where, without repeating what was sent: a
    // misplaced value may be a secret.
    const typed = await api(worker).createService('{"name": ["s3cret-in-the-wrong-place"]}', { headers: { 'content-type': 'application/json' } });
    assertApiError(typed, 400, 'invalid_json');
    assert.match(typed.json.error.message, /invalid type: sequence, expected a string at line 1, column \d+/);
    assert.doesNotMatch(typed.text, /s3cret/);
    assert.equal((await api(worker).listServices()).json.services.length, before);
  });

  test('a body that is not application/json is 415 unsupported_media_type', async () => {
    const body = JSON.stringify({ name: 'Wrong type' });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await api(worker).createService(body, { headers: { 'content-type': type } });
      assertApiError(res, 415, 'unsupported_media_type', type);
    }
    const list = await api(worker).listServices();
    assert.ok(!list.json.services.some((s) => s.name === 'Wrong type'));
  });

  test('application/json with a charset is accepted', async () => {
    const body = JSON.stringify({ name: 'Charset ok' });
    const res = await api(worker).createService(body, { headers: { 'content-type': 'application/json; charset=utf-8' } });
    assert.equal(res.status, 201, res.text);
  });

  test('a body over 64 KiB is 413 payload_too_large; one of exactly 64 KiB is read', async () => {
    const sized = (bytes) => {
      const base = JSON.stringify({ name: 'Big', description: '' });
      return JSON.stringify({ name: 'Big', description: 'd'.repeat(bytes - base.length) });
    };
    const over = sized(64 * 1024 + 1);
    assert.equal(Buffer.byteLength(over), 64 * 1024 + 1);
    assertApiError(await api(worker).createService(over, { headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
    const at = sized(64 * 1024);
    assert.equal(Buffer.byteLength(at), 64 * 1024);
    // Read and parsed, then refused for its over-long description: not a size error.
    const res = await api(worker).createService(at, { headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 422, res.text);
    assert.equal(res.json.error.code, 'validation_failed');
  });

  test('errors do not leak internals', async () => {
    const res = await api(worker).getIncident('inc_%27%3B%20DROP%20TABLE%20incidents%3B--');
    assertApiError(res, 404, 'not_found');
    assert.doesNotMatch(res.text, /sqlite|D1_ERROR|panicked|at src\//i);
    assert.equal((await api(worker).listIncidents()).status, 200);
  });
});

describe('the sign-in token stays secret', () => {
  test('the token never appears in the worker logs', async () => {
    await signInSession(worker);
    await api(worker).listServices();
    await anonymous.signIn({ token: `${worker.token}-wrong` });
    assert.ok(!worker.logs().includes(worker.token), 'the ADMIN_TOKEN was printed by the worker');
  });

  test('the token is not in any answer', async () => {
    const { res } = await signInSession(worker);
    assert.ok(!res.text.includes(worker.token));
    const session = await api(worker).getSession();
    assert.ok(!session.text.includes(worker.token));
  });

  test('the SPA is served from / without credentials', async () => {
    const res = await request('GET', `${worker.baseUrl}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.ok(!res.text.includes(worker.token));
  });
});
