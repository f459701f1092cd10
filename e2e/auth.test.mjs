// Sign-in, sessions and the request rules every /api route shares: credentials, the one
// error shape, content type, body size, unknown routes and methods.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { assertApiError, request, startWorker } from './harness.mjs';

let worker;
before(async () => {
  worker = await startWorker();
});
after(async () => {
  await worker?.stop();
});

/** A request with no credentials at all. */
const anonymous = (method, path, body, headers = {}) => worker.api(method, path, body, { authorization: null, ...headers });

function sessionCookie(res) {
  const cookies = res.headers.getSetCookie();
  const cookie = cookies.find((c) => c.startsWith('ia_session='));
  assert.ok(cookie, `Set-Cookie ia_session expected, got ${JSON.stringify(cookies)}`);
  return cookie;
}

async function signIn() {
  const res = await anonymous('POST', '/api/session', { token: worker.token });
  assert.equal(res.status, 200, res.text);
  const cookie = sessionCookie(res);
  return { res, cookie, pair: cookie.split(';')[0] };
}

describe('credentials', () => {
  test('an /api route without credentials answers 401 with the JSON error body', async () => {
    for (const path of ['/api/services', '/api/incidents', '/api/session', '/api/runs/run_x']) {
      assertApiError(await anonymous('GET', path), 401, 'unauthorized', `GET ${path}`);
    }
    assertApiError(await anonymous('POST', '/api/services', { name: 'Sneaky' }), 401, 'unauthorized');
    const list = await worker.api('GET', '/api/services');
    assert.ok(!list.json.services.some((s) => s.name === 'Sneaky'), 'an unauthenticated create stored nothing');
  });

  test('a wrong bearer token is refused', async () => {
    for (const authorization of [`Bearer ${worker.token}x`, 'Bearer ', `Basic ${worker.token}`, worker.token]) {
      assertApiError(await worker.api('GET', '/api/services', undefined, { authorization }), 401, 'unauthorized', authorization);
    }
  });

  test('the right bearer token is accepted', async () => {
    const res = await worker.api('GET', '/api/services');
    assert.equal(res.status, 200, res.text);
    assert.ok(Array.isArray(res.json.services));
    const session = await worker.api('GET', '/api/session');
    assert.equal(session.status, 200, session.text);
    assert.equal(typeof session.json.session.user_id, 'string');
  });

  test('a token in the query string is not accepted', async () => {
    const res = await anonymous('GET', `/api/services?token=${encodeURIComponent(worker.token)}`);
    assertApiError(res, 401, 'unauthorized');
  });
});

describe('sessions', () => {
  test('signing in with a wrong token is refused and sets no cookie', async () => {
    const res = await anonymous('POST', '/api/session', { token: 'not-the-token' });
    assertApiError(res, 401, 'unauthorized');
    assert.deepEqual(res.headers.getSetCookie().filter((c) => c.startsWith('ia_session=') && !/Max-Age=0/i.test(c)), []);
  });

  test('signing in with an empty body is refused', async () => {
    const res = await anonymous('POST', '/api/session', {});
    assert.ok([400, 401, 422].includes(res.status), `got ${res.status} ${res.text}`);
    assert.ok(res.json?.error?.code, res.text);
    assert.equal(res.headers.getSetCookie().filter((c) => c.startsWith('ia_session=') && !/Max-Age=0/i.test(c)).length, 0);
  });

  test('signing in sets an HttpOnly, SameSite=Strict, expiring cookie and returns the session and settings', async () => {
    const { res, cookie } = await signIn();
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
    const { pair } = await signIn();
    const session = await anonymous('GET', '/api/session', undefined, { cookie: pair });
    assert.equal(session.status, 200, session.text);
    assert.ok(Date.parse(session.json.session.expires_at) > Date.now());
    const created = await anonymous('POST', '/api/services', { name: 'Made with a cookie' }, { cookie: pair });
    assert.equal(created.status, 201, created.text);
  });

  test('a tampered cookie is refused', async () => {
    const { pair } = await signIn();
    const value = pair.slice('ia_session='.length);
    const flipped = value.slice(0, -1) + (value.endsWith('A') ? 'B' : 'A');
    assertApiError(await anonymous('GET', '/api/session', undefined, { cookie: `ia_session=${flipped}` }), 401, 'unauthorized');
    assertApiError(await anonymous('GET', '/api/services', undefined, { cookie: 'ia_session=' }), 401, 'unauthorized');
  });

  test('signing out clears the cookie and the old cookie stops working', async () => {
    const { pair } = await signIn();
    // A cookie-authenticated change declares JSON even without a body (e2e/csrf.test.mjs).
    const out = await anonymous('DELETE', '/api/session', undefined, { cookie: pair, 'content-type': 'application/json' });
    assert.equal(out.status, 204, out.text);
    const cleared = sessionCookie(out);
    assert.ok(/Max-Age=0/i.test(cleared) || /Expires=Thu, 01 Jan 1970/i.test(cleared), `cleared cookie: ${cleared}`);
    assertApiError(await anonymous('GET', '/api/session', undefined, { cookie: pair }), 401, 'unauthorized');
    assertApiError(await anonymous('GET', '/api/services', undefined, { cookie: pair }), 401, 'unauthorized');
  });

  test('signing out one session leaves another working', async () => {
    const first = await signIn();
    const second = await signIn();
    assert.notEqual(first.pair, second.pair);
    const json = { 'content-type': 'application/json' };
    assert.equal((await anonymous('DELETE', '/api/session', undefined, { cookie: first.pair, ...json })).status, 204);
    assert.equal((await anonymous('GET', '/api/session', undefined, { cookie: second.pair })).status, 200);
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
    const signedIn = await request('POST', `${current.baseUrl}/api/session`, { token: current.token });
    assert.equal(signedIn.status, 200, signedIn.text);
    const pair = sessionCookie(signedIn).split(';')[0];
    const sessionOn = (w) => request('GET', `${w.baseUrl}/api/session`, undefined, { cookie: pair });
    assert.equal((await sessionOn(current)).status, 200);

    const oldToken = current.token;
    current = await restart(restarted.pop(), { ADMIN_TOKEN: oldToken });
    assert.equal((await sessionOn(current)).status, 200, 'a redeploy with the same ADMIN_TOKEN keeps the session');

    current = await restart(restarted.pop(), {});
    assert.notEqual(current.token, oldToken);
    assertApiError(await sessionOn(current), 401, 'unauthorized', 'the old ADMIN_TOKEN’s session must end');
    const fresh = await request('POST', `${current.baseUrl}/api/session`, { token: current.token });
    assert.equal(fresh.status, 200, 'the new ADMIN_TOKEN signs in');
    assertApiError(await request('POST', `${current.baseUrl}/api/session`, { token: oldToken }), 401, 'unauthorized');
  });
});

describe('request rules shared by every /api route', () => {
  test('an unknown /api route is 404 not_found', async () => {
    assertApiError(await worker.api('GET', '/api/nope'), 404, 'not_found');
    assertApiError(await worker.api('GET', '/api/services/svc_does_not_exist'), 404, 'not_found');
    assertApiError(await worker.api('GET', '/api/incidents/inc_does_not_exist'), 404, 'not_found');
    assertApiError(await worker.api('GET', '/api/runs/run_does_not_exist'), 404, 'not_found');
  });

  test('a wrong method on a known route is 405 method_not_allowed', async () => {
    assertApiError(await worker.api('PUT', '/api/services', { name: 'x' }), 405, 'method_not_allowed');
    assertApiError(await worker.api('DELETE', '/api/incidents'), 405, 'method_not_allowed');
  });

  test('malformed JSON is 400 invalid_json and stores nothing', async () => {
    const before = (await worker.api('GET', '/api/services')).json.services.length;
    for (const body of ['{"name": "Half', '', 'null', '[1,2]', '{"name": 42}']) {
      const res = await worker.api('POST', '/api/services', body, { 'content-type': 'application/json' });
      assert.ok([400, 422].includes(res.status), `${JSON.stringify(body)} → ${res.status} ${res.text}`);
      if (body === '{"name": "Half' || body === '') assertApiError(res, 400, 'invalid_json', JSON.stringify(body));
    }
    // The message says what was wrong and where, without repeating what was sent: a
    // misplaced value may be a secret.
    const typed = await worker.api('POST', '/api/services', '{"name": ["s3cret-in-the-wrong-place"]}', { 'content-type': 'application/json' });
    assertApiError(typed, 400, 'invalid_json');
    assert.match(typed.json.error.message, /invalid type: sequence, expected a string at line 1, column \d+/);
    assert.doesNotMatch(typed.text, /s3cret/);
    assert.equal((await worker.api('GET', '/api/services')).json.services.length, before);
  });

  test('a body that is not application/json is 415 unsupported_media_type', async () => {
    const body = JSON.stringify({ name: 'Wrong type' });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await worker.api('POST', '/api/services', body, { 'content-type': type });
      assertApiError(res, 415, 'unsupported_media_type', type);
    }
    const list = await worker.api('GET', '/api/services');
    assert.ok(!list.json.services.some((s) => s.name === 'Wrong type'));
  });

  test('application/json with a charset is accepted', async () => {
    const body = JSON.stringify({ name: 'Charset ok' });
    const res = await worker.api('POST', '/api/services', body, { 'content-type': 'application/json; charset=utf-8' });
    assert.equal(res.status, 201, res.text);
  });

  test('a body over 64 KiB is 413 payload_too_large; one of exactly 64 KiB is read', async () => {
    const sized = (bytes) => {
      const base = JSON.stringify({ name: 'Big', description: '' });
      return JSON.stringify({ name: 'Big', description: 'd'.repeat(bytes - base.length) });
    };
    const over = sized(64 * 1024 + 1);
    assert.equal(Buffer.byteLength(over), 64 * 1024 + 1);
    assertApiError(await worker.api('POST', '/api/services', over, { 'content-type': 'application/json' }), 413, 'payload_too_large');
    const at = sized(64 * 1024);
    assert.equal(Buffer.byteLength(at), 64 * 1024);
    // Read and parsed, then refused for its over-long description: not a size error.
    const res = await worker.api('POST', '/api/services', at, { 'content-type': 'application/json' });
    assert.equal(res.status, 422, res.text);
    assert.equal(res.json.error.code, 'validation_failed');
  });

  test('errors do not leak internals', async () => {
    const res = await worker.api('GET', '/api/incidents/inc_%27%3B%20DROP%20TABLE%20incidents%3B--');
    assertApiError(res, 404, 'not_found');
    assert.doesNotMatch(res.text, /sqlite|D1_ERROR|panicked|at src\//i);
    assert.equal((await worker.api('GET', '/api/incidents')).status, 200);
  });
});

describe('the sign-in token stays secret', () => {
  test('the token never appears in the worker logs', async () => {
    await signIn();
    await worker.api('GET', '/api/services');
    await anonymous('POST', '/api/session', { token: `${worker.token}-wrong` });
    assert.ok(!worker.logs().includes(worker.token), 'the ADMIN_TOKEN was printed by the worker');
  });

  test('the token is not in any answer', async () => {
    const { res } = await signIn();
    assert.ok(!res.text.includes(worker.token));
    const session = await worker.api('GET', '/api/session');
    assert.ok(!session.text.includes(worker.token));
  });

  test('the SPA is served from / without credentials', async () => {
    const res = await request('GET', `${worker.baseUrl}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.ok(!res.text.includes(worker.token));
  });
});
