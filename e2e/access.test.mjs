// Cloudflare Access: a request carrying `Cf-Access-Jwt-Assertion` is authenticated by its
// RS256 JWT, checked against a JWKS that this test serves from loopback (ACCESS_CERTS_URL)
// with keys made here, and mapped to a user by e-mail.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, describe, test } from 'node:test';

import { api } from './client.mjs';
import { assertApiError, expectStatus, unique, useWorld } from './harness.mjs';

const TEAM = 'incident-team.cloudflareaccess.com';
const AUD = 'a1b2c3d4e5f6aud';

/** An RSA key pair and its public JWK under `kid`. */
function newKey(kid) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

const b64url = (text) => Buffer.from(text).toString('base64url');

/** A compact RS256 JWT over `claims`, signed by `key` and labelled `kid`. */
function sign(claims, key, kid = key.kid) {
  const header = b64url(JSON.stringify({ alg: 'RS256', kid, typ: 'JWT' }));
  const payload = b64url(JSON.stringify(claims));
  const signature = crypto.sign('sha256', Buffer.from(`${header}.${payload}`), key.privateKey).toString('base64url');
  return `${header}.${payload}.${signature}`;
}

/** Claims as Access issues them, valid for the next hour. */
function claims(email, extra = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { aud: [AUD], email, exp: now + 3600, iat: now, nbf: now, iss: `https://${TEAM}`, type: 'app', sub: crypto.randomUUID(), ...extra };
}

const first = newKey('key-one');
const rotated = newKey('key-two');
const stranger = newKey('key-nowhere');

/** The JWKS server: what it publishes, and how often it was asked. */
const jwks = { keys: [first.jwk], fetches: 0 };
const jwksServer = http.createServer((req, res) => {
  jwks.fetches += 1;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ keys: jwks.keys, public_cert: { kid: first.kid, cert: 'unused' } }));
});
await new Promise((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
after(() => jwksServer.close());
const vars = {
  ACCESS_TEAM_DOMAIN: TEAM,
  ACCESS_AUD: AUD,
  ACCESS_CERTS_URL: `http://127.0.0.1:${jwksServer.address().port}/cdn-cgi/access/certs`,
};
const { worker } = useWorld({ vars, receiver: false });
const { worker: defaultRoleWorker } = useWorld({ vars: { ...vars, ACCESS_DEFAULT_ROLE: 'observer' }, receiver: false });

/** A client of `w` whose calls carry only an Access JWT. */
const viaAccess = (w, jwt) => api(w, { token: null, headers: { 'cf-access-jwt-assertion': jwt } });

async function newUser(w, role = 'responder') {
  const email = `${unique('access').replace(/\W+/g, '-').toLowerCase()}@example.com`;
  return expectStatus(await api(w).createUser({ name: unique('Access user'), email, role }), 201, 'user').json.user;
}

describe('an Access JWT', () => {
  test('a valid JWT signs in as the user with its e-mail (any case)', async () => {
    const user = await newUser(worker);
    const res = await viaAccess(worker, sign(claims(user.email.toUpperCase()), first)).getMe();
    expectStatus(res, 200, 'GET /api/me');
    assert.equal(res.json.user.id, user.id);
    assert.equal(res.json.user.role, 'responder');
    // Access's aud may also be a plain string.
    const single = await viaAccess(worker, sign(claims(user.email, { aud: AUD }), first)).getMe();
    assert.equal(expectStatus(single, 200, 'aud as a string').json.user.id, user.id);
  });

  test('an expired, wrongly addressed, foreign or forged JWT is 401', async () => {
    const user = await newUser(worker);
    const now = Math.floor(Date.now() / 1000);
    const cases = {
      expired: sign(claims(user.email, { exp: now - 3600, iat: now - 7200, nbf: now - 7200 }), first),
      'not yet valid': sign(claims(user.email, { nbf: now + 3600 }), first),
      'wrong aud': sign(claims(user.email, { aud: ['another-application'] }), first),
      'wrong issuer': sign(claims(user.email, { iss: 'https://other-team.cloudflareaccess.com' }), first),
      'signed by another key under a known kid': sign(claims(user.email), stranger, first.kid),
      'payload changed after signing': (() => {
        const [h, , s] = sign(claims('someone@example.com'), first).split('.');
        return [h, b64url(JSON.stringify(claims(user.email))), s].join('.');
      })(),
      'alg none': `${b64url(JSON.stringify({ alg: 'none', kid: first.kid }))}.${b64url(JSON.stringify(claims(user.email)))}.`,
      garbage: 'not-a-jwt',
    };
    for (const [what, jwt] of Object.entries(cases)) {
      assertApiError(await viaAccess(worker, jwt).getMe(), 401, 'unauthorized', what);
    }
  });

  test('an unknown kid refetches the keys once: a rotated key is accepted, a kid in no JWKS is 401', async () => {
    const user = await newUser(worker);
    // Warm the cache, then publish the next key.
    expectStatus(await viaAccess(worker, sign(claims(user.email), first)).getMe(), 200, 'the first key');
    jwks.keys = [first.jwk, rotated.jwk];
    const before = jwks.fetches;
    expectStatus(await viaAccess(worker, sign(claims(user.email), rotated)).getMe(), 200, 'the rotated key');
    assert.equal(jwks.fetches - before, 1, 'one refetch for the new kid');
    expectStatus(await viaAccess(worker, sign(claims(user.email), rotated)).getMe(), 200, 'the rotated key again');
    assert.equal(jwks.fetches - before, 1, 'the refetched keys are cached');
    assertApiError(await viaAccess(worker, sign(claims(user.email), stranger)).getMe(), 401, 'unauthorized', 'a kid in no JWKS');
  });

  test('an e-mail no user has is 403', async () => {
    const res = await viaAccess(worker, sign(claims('nobody-here@example.com'), first)).getMe();
    assertApiError(res, 403, 'forbidden');
    assert.match(res.json.error.message, /nobody-here@example\.com/);
    const users = expectStatus(await api(worker).listUsers(), 200, 'users').json.users;
    assert.ok(!users.some((u) => u.email === 'nobody-here@example.com'), 'no user was created');
  });

  test('with ACCESS_DEFAULT_ROLE, an unknown e-mail becomes a user with that role, audited', async () => {
    const email = `${unique('newcomer').replace(/\W+/g, '-').toLowerCase()}@example.com`;
    const res = await viaAccess(defaultRoleWorker, sign(claims(email), first)).getMe();
    const me = expectStatus(res, 200, 'first visit').json.user;
    assert.equal(me.email, email);
    assert.equal(me.role, 'observer');
    const again = expectStatus(await viaAccess(defaultRoleWorker, sign(claims(email), first)).getMe(), 200, 'second visit').json.user;
    assert.equal(again.id, me.id, 'the second visit finds the same user');
    const users = expectStatus(await api(defaultRoleWorker).listUsers(), 200, 'users').json.users;
    assert.equal(users.filter((u) => u.email === email).length, 1);
    const audit = expectStatus(await api(defaultRoleWorker).listAudit(), 200, 'audit').json.audit_entries;
    const created = audit.find((e) => e.event === 'user.created' && e.target_id === me.id);
    assert.ok(created, 'the creation is audited');
    assert.equal(created.actor.name, 'Cloudflare Access');
    assert.equal(created.after.role, 'observer');
    // The role applies: an observer may not create services.
    assertApiError(
      await viaAccess(defaultRoleWorker, sign(claims(email), first)).createService({ name: unique('Nope') }),
      403,
      'forbidden',
    );
  });

  test('an Access-authenticated change from another site is refused like a cookie one', async () => {
    const user = await newUser(worker, 'admin');
    const jwt = sign(claims(user.email), first);
    const res = await viaAccess(worker, jwt).createService({ name: unique('Forged') }, { headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } });
    assertApiError(res, 403, 'cross_site_request');
    expectStatus(await viaAccess(worker, jwt).createService({ name: unique('Same site') }), 201, 'a same-site change');
  });
});
