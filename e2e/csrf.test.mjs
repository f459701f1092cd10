// Browser-side protections over HTTP: a cookie-authenticated change must come from the
// app's own origin and declare JSON; bearer clients and /v2/enqueue are not browsers and
// are not held to that; every answer (API, error, page) carries the security headers;
// no other origin is ever granted CORS. e2e/csrf-browser.test.mjs does the same attacks
// from a real page in Chromium.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { assertApiError, createService, request, startWorker, triggerIncident, unique } from './harness.mjs';

const EVIL = 'http://evil.example';
/** What the worker and `frontend/_headers` must both send. */
const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

let worker;
/** `ia_session=...` of a real session, signed in through POST /api/session. */
let cookie;

before(async () => {
  worker = await startWorker();
  const res = await request('POST', `${worker.baseUrl}/api/session`, { token: worker.token });
  assert.equal(res.status, 200, res.text);
  cookie = res.headers.getSetCookie().find((c) => c.startsWith('ia_session=')).split(';')[0];
});
after(async () => {
  await worker?.stop();
});

/** A request with the session cookie and no bearer token, as a browser sends it. */
const withCookie = (method, path, body, headers = {}) =>
  request(method, worker.baseUrl + path, body, { cookie, ...headers });

/** What a browser adds to a request a page on another site makes. */
const crossSite = { origin: EVIL, 'sec-fetch-site': 'cross-site' };

async function serviceNames() {
  return (await worker.api('GET', '/api/services')).json.services.map((s) => s.name);
}

async function incidentStatus(id) {
  return (await worker.api('GET', `/api/incidents/${id}`)).json.incident.status;
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
      const res = await withCookie('POST', '/api/services', body, { 'content-type': type, ...crossSite });
      assertApiError(res, 403, 'cross_site_request', type);
      assertSecurityHeaders(res, `refused ${type}`);
      const ack = await withCookie('POST', `/api/incidents/${incident.id}/acknowledge`, body, { 'content-type': type, ...crossSite });
      assertApiError(ack, 403, 'cross_site_request', `acknowledge ${type}`);
    }
    // A form sent by a browser that adds neither header: refused for its content type.
    const old = await withCookie('POST', '/api/services', `{"name": "${forged}"}`, { 'content-type': 'text/plain' });
    assertApiError(old, 415, 'unsupported_media_type');
    const bare = await withCookie('POST', `/api/incidents/${incident.id}/acknowledge`);
    assertApiError(bare, 415, 'unsupported_media_type', 'bodiless acknowledge without a content type');

    assert.ok(!(await serviceNames()).includes(forged), 'no service was created');
    assert.equal(await incidentStatus(incident.id), 'triggered', 'the incident was not acknowledged');
  });

  test('a foreign-origin fetch with a JSON body and the cookie is 403 and changes nothing', async () => {
    const service = await createService(worker);
    const incident = await triggerIncident(worker, service);
    const forged = unique('Forged');
    const json = { 'content-type': 'application/json' };
    const attempts = [
      ['POST', '/api/services', { name: forged }, crossSite],
      ['PATCH', `/api/services/${service.id}`, { name: forged }, crossSite],
      ['DELETE', `/api/services/${service.id}`, undefined, { ...json, ...crossSite }],
      ['POST', `/api/incidents/${incident.id}/resolve`, undefined, { ...json, ...crossSite }],
      ['DELETE', '/api/session', undefined, { ...json, ...crossSite }],
      // Each header alone is enough.
      ['POST', '/api/services', { name: forged }, { origin: EVIL }],
      ['POST', '/api/services', { name: forged }, { 'sec-fetch-site': 'cross-site' }],
      // A sibling origin on the same site (SameSite=Strict still sends the cookie there).
      ['POST', '/api/services', { name: forged }, { origin: 'http://127.0.0.1:1', 'sec-fetch-site': 'same-site' }],
      ['POST', '/api/services', { name: forged }, { origin: `http://localhost:${worker.port}` }],
      ['POST', '/api/services', { name: forged }, { origin: 'null' }],
    ];
    for (const [method, path, body, headers] of attempts) {
      const res = await withCookie(method, path, body, headers);
      assertApiError(res, 403, 'cross_site_request', `${method} ${path} ${JSON.stringify(headers)}`);
    }
    assert.ok(!(await serviceNames()).includes(forged), 'nothing was created or renamed');
    assert.equal((await worker.api('GET', `/api/services/${service.id}`)).status, 200, 'the service still exists');
    assert.equal(await incidentStatus(incident.id), 'triggered', 'the incident was not resolved');
    assert.equal((await withCookie('GET', '/api/session')).status, 200, 'the session was not ended');
  });

  test('reads are not refused, so a cross-site link to the API still answers (without CORS)', async () => {
    const res = await withCookie('GET', '/api/services', undefined, crossSite);
    assert.equal(res.status, 200, res.text);
    assertNoCors(res, 'cross-site GET');
  });

  test('signing in from another origin is refused and sets no cookie', async () => {
    for (const headers of [crossSite, { origin: EVIL }, { 'sec-fetch-site': 'cross-site' }]) {
      const res = await request('POST', `${worker.baseUrl}/api/session`, { token: worker.token }, headers);
      assertApiError(res, 403, 'cross_site_request', JSON.stringify(headers));
      assert.deepEqual(res.headers.getSetCookie(), []);
    }
    const own = { origin: worker.baseUrl, 'sec-fetch-site': 'same-origin' };
    const res = await request('POST', `${worker.baseUrl}/api/session`, { token: worker.token }, own);
    assert.equal(res.status, 200, res.text);
  });
});

describe('requests the rule lets through', () => {
  test('same-origin requests with the cookie work, bodiless ones declaring JSON', async () => {
    const own = { origin: worker.baseUrl, 'sec-fetch-site': 'same-origin' };
    const name = unique('Same origin');
    const created = await withCookie('POST', '/api/services', { name }, own);
    assert.equal(created.status, 201, created.text);
    // Without the browser headers at all (curl with a copied cookie) it works the same.
    const renamed = await withCookie('PATCH', `/api/services/${created.json.service.id}`, { name: `${name} 2` });
    assert.equal(renamed.status, 200, renamed.text);

    const incident = await triggerIncident(worker, created.json.service);
    const json = { 'content-type': 'application/json' };
    const ack = await withCookie('POST', `/api/incidents/${incident.id}/acknowledge`, undefined, { ...json, ...own });
    assert.equal(ack.status, 200, ack.text);
    assert.equal(ack.json.incident.status, 'acknowledged');
    const typed = await withCookie('POST', `/api/incidents/${incident.id}/resolve`, undefined, {
      'content-type': 'application/json; charset=utf-8',
      'sec-fetch-site': 'none',
    });
    assert.equal(typed.status, 200, typed.text);
    const gone = await withCookie('DELETE', `/api/services/${created.json.service.id}`, undefined, { ...json, ...own });
    assert.equal(gone.status, 204, gone.text);
  });

  test('bearer-token requests are not held to the browser rule', async () => {
    const name = unique('Bearer');
    const created = await worker.api('POST', '/api/services', { name }, crossSite);
    assert.equal(created.status, 201, created.text);
    const incident = await triggerIncident(worker, created.json.service);
    // No Content-Type on a bodiless POST, from "another origin": an API client may.
    const ack = await worker.api('POST', `/api/incidents/${incident.id}/acknowledge`, undefined, crossSite);
    assert.equal(ack.status, 200, ack.text);
    const gone = await worker.api('DELETE', `/api/services/${created.json.service.id}`, undefined, crossSite);
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
    assertSecurityHeaders(res, '/v2/enqueue');
  });
});

describe('headers on every answer', () => {
  test('an API answer and error answers carry the security headers and no CORS', async () => {
    assertSecurityHeaders(await worker.api('GET', '/api/services'), 'GET /api/services');
    assertSecurityHeaders(await withCookie('GET', '/api/session'), 'GET /api/session with the cookie');
    assertSecurityHeaders(await request('GET', `${worker.baseUrl}/api/services`), '401');
    assertSecurityHeaders(await worker.api('GET', '/api/nope'), '404');
    assertSecurityHeaders(await worker.api('PUT', '/api/services', { name: 'x' }), '405');
    assertSecurityHeaders(await worker.api('POST', '/api/services', 'x', { 'content-type': 'text/plain' }), '415');
    assertSecurityHeaders(await worker.api('POST', '/v2/enqueue', '{}', { 'content-type': 'application/json' }), '/v2 error');
  });

  test('a CORS preflight from another origin is granted nothing', async () => {
    for (const path of ['/api/services', '/api/session', '/v2/enqueue', '/']) {
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
