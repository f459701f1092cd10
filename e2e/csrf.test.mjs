// Browser-side protections over HTTP: a cookie-authenticated change must come from the
// app's own origin and declare JSON; bearer clients and /v2/enqueue are not browsers and
// are not held to that; every answer (API, error, page) carries the security headers;
// no other origin is ever granted CORS. e2e/csrf-browser.test.mjs does the same attacks
// from a real page in Chromium.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { api, paths } from './client.mjs';
import {
  assertApiError,
  createService,
  request,
  signInSession,
  triggerIncident,
  unique,
  useWorld,
} from './harness.mjs';

const EVIL = 'http://evil.example';
/** What the worker and `frontend/_headers` must both send. */
const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const { worker, ready } = useWorld({ receiver: false });
/** `ia_session=...` of a real session, signed in through the API. */
let cookie;
before(async () => {
  await ready;
  cookie = (await signInSession(worker)).pair;
});

/** A client sending the session cookie and no bearer token, as a browser does. */
const withCookie = () => api(worker, { token: null, headers: { cookie } });

/** What a browser adds to a request a page on another site makes. */
const crossSite = { origin: EVIL, 'sec-fetch-site': 'cross-site' };

async function serviceNames() {
  return (await api(worker).listServices()).json.services.map((s) => s.name);
}

async function incidentStatus(id) {
  return (await api(worker).getIncident(id)).json.incident.status;
}

function assertSecurityHeaders(res, what) {
  assert.equal(res.headers.get('content-security-policy'), CSP, `${what}: Content-Security-Policy`);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${what}: X-Content-Type-Options`);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer', `${what}: Referrer-Policy`);
  assertNoCors(res, what);
}

function assertNoCors(res, what) {
  const granted = [...res.headers.keys()].filter((name) => name.startsWith('access-control-'));
  assert.deepEqual(granted, [], `${what}: no CORS headers`);
}

describe('a cookie-authenticated change from another site', () => {
  test('a cross-site form POST is refused and changes nothing', async () => {
    const service = await createService(worker);
    const incident = await triggerIncident(worker, service);
    const forged = unique('Forged');
    // What <form method=post> can send: urlencoded, or text/plain shaped like JSON.
    const forms = [
      ['application/x-www-form-urlencoded', `name=${encodeURIComponent(forged)}`],
      ['text/plain', `{"name": "${forged}", "x": "="}`],
      ['multipart/form-data; boundary=b', `--b\r\nContent-Disposition: form-data; name="name"\r\n\r\n${forged}\r\n--b--\r\n`],
    ];
    for (const [type, body] of forms) {
      const res = await withCookie().createService(body, { headers: { 'content-type': type, ...crossSite } });
      assertApiError(res, 403, 'cross_site_request', type);
      assertSecurityHeaders(res, `refused ${type}`);
      const ack = await withCookie().acknowledge(incident.id, body, { headers: { 'content-type': type, ...crossSite } });
      assertApiError(ack, 403, 'cross_site_request', `acknowledge ${type}`);
    }
    // A form sent by a browser that adds neither header: refused for its content type.
    const old = await withCookie().createService(`{"name": "${forged}"}`, { headers: { 'content-type': 'text/plain' } });
    assertApiError(old, 415, 'unsupported_media_type');
    const bare = await withCookie().acknowledge(incident.id);
    assertApiError(bare, 415, 'unsupported_media_type', 'bodiless acknowledge without a content type');

    assert.ok(!(await serviceNames()).includes(forged), 'no service was created');
    assert.equal(await incidentStatus(incident.id), 'triggered', 'the incident was not acknowledged');
  });

  test('a foreign-origin fetch with a JSON body and the cookie is 403 and changes nothing', async () => {
    const service = await createService(worker);
    const incident = await triggerIncident(worker, service);
    const forged = unique('Forged');
    const json = { 'content-type': 'application/json' };
    // [client function, its arguments before the options, headers]
    const attempts = [
      ['createService', [{ name: forged }], crossSite],
      ['updateService', [service.id, { name: forged }], crossSite],
      ['deleteService', [service.id], { ...json, ...crossSite }],
      ['resolve', [incident.id, undefined], { ...json, ...crossSite }],
      ['signOut', [], { ...json, ...crossSite }],
      // Each header alone is enough.
      ['createService', [{ name: forged }], { origin: EVIL }],
      ['createService', [{ name: forged }], { 'sec-fetch-site': 'cross-site' }],
      // A sibling origin on the same site (SameSite=Strict still sends the cookie there).
      ['createService', [{ name: forged }], { origin: 'http://127.0.0.1:1', 'sec-fetch-site': 'same-site' }],
      ['createService', [{ name: forged }], { origin: `http://localhost:${worker.port}` }],
      ['createService', [{ name: forged }], { origin: 'null' }],
    ];
    for (const [name, args, headers] of attempts) {
      const res = await withCookie()[name](...args, { headers });
      assertApiError(res, 403, 'cross_site_request', `${name} ${JSON.stringify(headers)}`);
    }
    assert.ok(!(await serviceNames()).includes(forged), 'nothing was created or renamed');
    assert.equal((await api(worker).getService(service.id)).status, 200, 'the service still exists');
    assert.equal(await incidentStatus(incident.id), 'triggered', 'the incident was not resolved');
    assert.equal((await withCookie().getSession()).status, 200, 'the session was not ended');
  });

  test('reads are not refused, so a cross-site link to the API still answers (without CORS)', async () => {
    const res = await withCookie().listServices({ headers: crossSite });
    assert.equal(res.status, 200, res.text);
    assertNoCors(res, 'cross-site GET');
  });

  test('signing in from another origin is refused and sets no cookie', async () => {
    for (const headers of [crossSite, { origin: EVIL }, { 'sec-fetch-site': 'cross-site' }]) {
      const res = await api(worker).signIn({ token: worker.token }, { token: null, headers: headers });
      assertApiError(res, 403, 'cross_site_request', JSON.stringify(headers));
      assert.deepEqual(res.headers.getSetCookie(), []);
    }
    const own = { origin: worker.baseUrl, 'sec-fetch-site': 'same-origin' };
    const res = await api(worker).signIn({ token: worker.token }, { token: null, headers: own });
    assert.equal(res.status, 200, res.text);
  });
});

describe('requests the rule lets through', () => {
  test('same-origin requests with the cookie work, bodiless ones declaring JSON', async () => {
    const own = { origin: worker.baseUrl, 'sec-fetch-site': 'same-origin' };
    const name = unique('Same origin');
    const created = await withCookie().createService({ name }, { headers: own });
    assert.equal(created.status, 201, created.text);
    // Without the browser headers at all (curl with a copied cookie) it works the same.
    const renamed = await withCookie().updateService(created.json.service.id, { name: `${name} 2` });
    assert.equal(renamed.status, 200, renamed.text);

    const incident = await triggerIncident(worker, created.json.service);
    const json = { 'content-type': 'application/json' };
    const ack = await withCookie().acknowledge(incident.id, undefined, { headers: { ...json, ...own } });
    assert.equal(ack.status, 200, ack.text);
    assert.equal(ack.json.incident.status, 'acknowledged');
    const typed = await withCookie().resolve(incident.id, undefined, {
      headers: { 'content-type': 'application/json; charset=utf-8', 'sec-fetch-site': 'none' },
    });
    assert.equal(typed.status, 200, typed.text);
    const gone = await withCookie().deleteService(created.json.service.id, { headers: { ...json, ...own } });
    assert.equal(gone.status, 204, gone.text);
  });

  test('bearer-token requests are not held to the browser rule', async () => {
    const name = unique('Bearer');
    const created = await api(worker).createService({ name }, { headers: crossSite });
    assert.equal(created.status, 201, created.text);
    const incident = await triggerIncident(worker, created.json.service);
    // No Content-Type on a bodiless POST, from "another origin": an API client may.
    const ack = await api(worker).acknowledge(incident.id, undefined, { headers: crossSite });
    assert.equal(ack.status, 200, ack.text);
    const gone = await api(worker).deleteService(created.json.service.id, { headers: crossSite });
    assert.equal(gone.status, 204, gone.text);
  });

  test('/v2/enqueue takes events from anywhere', async () => {
    const service = await createService(worker);
    const res = await worker.enqueue(
      {
        routing_key: service.routing_key,
        event_action: 'trigger',
        payload: { summary: unique('From a monitor'), source: 'm', severity: 'info' },
      },
      { ...crossSite, cookie },
    );
    assert.equal(res.status, 202, res.text);
    assertSecurityHeaders(res, paths.enqueue());
  });
});

describe('headers on every answer', () => {
  test('an API answer and error answers carry the security headers and no CORS', async () => {
    assertSecurityHeaders(await api(worker).listServices(), 'GET /api/services');
    assertSecurityHeaders(await withCookie().getSession(), 'GET /api/session with the cookie');
    assertSecurityHeaders(await api(worker).listServices({ token: null }), '401');
    // A path and a method no route has: deliberate, so written out.
    assertSecurityHeaders(await worker.api('GET', '/api/nope'), '404');
    assertSecurityHeaders(await worker.api('PUT', paths.listServices(), { name: 'x' }), '405');
    assertSecurityHeaders(await api(worker).createService('x', { headers: { 'content-type': 'text/plain' } }), '415');
    assertSecurityHeaders(await api(worker).enqueue('{}', { headers: { 'content-type': 'application/json' } }), '/v2 error');
  });

  test('a CORS preflight from another origin is granted nothing', async () => {
    for (const path of [paths.listServices(), paths.getSession(), paths.enqueue(), '/']) {
      const res = await request('OPTIONS', worker.baseUrl + path, undefined, {
        origin: EVIL,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      });
      assertNoCors(res, `OPTIONS ${path}`);
    }
  });

  test('the page and its files carry the security headers, and the page has no inline script', async () => {
    for (const path of ['/', '/services', '/incidents/inc_x', '/boot.js', '/style.css', '/incident-actions-frontend.js']) {
      const res = await request('GET', worker.baseUrl + path, undefined, { origin: EVIL });
      assert.equal(res.status, 200, `GET ${path}`);
      assertSecurityHeaders(res, `GET ${path}`);
    }
    const page = await request('GET', `${worker.baseUrl}/`);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const scripts = page.text.match(/<script\b[^>]*>/g) ?? [];
    assert.ok(scripts.length > 0, 'the page loads a script');
    for (const tag of scripts) assert.match(tag, /\ssrc="\/[^"]+"/, `only external scripts of this origin: ${tag}`);
    assert.doesNotMatch(page.text, /<script\b[^>]*>\s*[^<\s]/, 'no inline script body');
  });
});
