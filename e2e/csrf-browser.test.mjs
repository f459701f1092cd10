// CSRF from a real page in Chromium. After signing in through the SPA, the browser visits
// pages served by a small server of ours on another loopback origin and lets them attack:
//
// - http://127.0.0.1:<other port> is another origin on the same site, so the
//   SameSite=Strict cookie still goes along: only the worker's Origin/Sec-Fetch-Site rule
//   stands between it and a change. Its auto-submitting forms and its no-cors fetch must
//   be refused (403), its CORS fetch must get no CORS grant.
// - http://localhost:<other port> is another site (Chromium tells localhost and 127.0.0.1
//   apart), which the cookie does not reach at all.
//
// Nothing may change, and the SPA keeps working afterwards, with its CSP in force.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, test } from 'node:test';

import { api, paths } from './client.mjs';
import { createService, eventually, triggerIncident, unique, useWorld } from './harness.mjs';

const { worker, browser } = useWorld({ browser: {}, receiver: false });
let attacker;
let attackerPort;
/** The requests the attacker's pages reported back (what their scripts could observe). */
const reports = [];
const pageProblems = [];
/** CSP refusals the SPA's page reported: only the one this test provokes is allowed. */
const cspViolations = [];

/** The attacker's pages, given the worker's base URL and the targets. */
function attackerPage(url, { base, serviceName, incidentId }) {
  const esc = (s) => s.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');
  switch (url.pathname) {
    // text/plain form whose body reads as JSON: {"name": "...", "x": "="}
    case '/form-create':
      return `<form method="post" enctype="text/plain" action="${base}${paths.createService()}">
        <input name='{"name": "${esc(serviceName)}", "x": "' value='"}'></form>
        <script>document.forms[0].submit()</script>`;
    // A bodiless change, as a plain urlencoded form.
    case '/form-acknowledge':
      return `<form method="post" action="${base}${paths.acknowledge(incidentId)}">
        <input name="a" value="b"></form>
        <script>document.forms[0].submit()</script>`;
    // Script on the page: a CORS fetch (needs a preflight) and a no-cors one (does not).
    case '/fetch':
      return `<script>
        const report = (what, outcome) =>
          fetch('/report', { method: 'POST', body: JSON.stringify({ what, outcome }) });
        (async () => {
          try {
            const res = await fetch('${base}${paths.createService()}', {
              method: 'POST', credentials: 'include',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ name: ${JSON.stringify(serviceName)} }),
            });
            await report('cors', 'answered ' + res.status);
          } catch (e) { await report('cors', 'blocked'); }
          try {
            const res = await fetch('${base}${paths.resolve(incidentId)}', {
              method: 'POST', credentials: 'include', mode: 'no-cors',
              headers: { 'Content-Type': 'text/plain' }, body: '{}',
            });
            await report('no-cors', res.type);
          } catch (e) { await report('no-cors', 'blocked'); }
          try {
            const res = await fetch('${base}${paths.listServices()}', { credentials: 'include' });
            await report('read', 'answered ' + res.status + ' ' + (await res.text()).slice(0, 20));
          } catch (e) { await report('read', 'blocked'); }
          await report('done', 'done');
        })();
      </script>`;
    default:
      return null;
  }
}

after(() => attacker?.close());

/** Starts the attacker's server, with the targets filled in. */
async function startAttacker(targets) {
  attacker = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://attacker');
    if (req.method === 'POST' && url.pathname === '/report') {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        reports.push({ origin: req.headers.host, ...JSON.parse(body) });
        res.end('ok');
      });
      return;
    }
    const page = attackerPage(url, targets);
    res.writeHead(page ? 200 : 404, { 'content-type': 'text/html' });
    res.end(page ? `<!doctype html><title>Win a prize</title>${page}` : 'not found');
  });
  await new Promise((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerPort = attacker.address().port;
}

function watch(page) {
  page.on('pageerror', (error) => pageProblems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (/Content Security Policy/.test(message.text())) cspViolations.push(message.text());
    else if (message.type() === 'error' && !/status of 401/.test(message.text())) {
      pageProblems.push(`console: ${message.text()}`);
    }
  });
}

test('pages on other origins cannot act with the session; the SPA still works', { timeout: 10 * 60_000 }, async () => {
  const base = worker.baseUrl;
  const service = await createService(worker);
  const incident = await triggerIncident(worker, service);
  const serviceName = unique('Forged');
  await startAttacker({ base, serviceName, incidentId: incident.id });
  const state = async () => ({
    names: (await api(worker).listServices()).json.services.map((s) => s.name),
    status: (await api(worker).getIncident(incident.id)).json.incident.status,
  });

  // --- Sign in through the SPA; its page carries the CSP and boots under it. -------------
  const app = await browser.context.newPage();
  watch(app);
  const response = await app.goto(`${base}/sign-in`);
  const csp = response.headers()['content-security-policy'] ?? '';
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(response.headers()['x-content-type-options'], 'nosniff');
  await app.getByLabel('Sign-in token', { exact: true }).fill(worker.token);
  await app.getByRole('button', { name: 'Sign in', exact: true }).click();
  await app.waitForURL(`${base}/incidents`);
  await app.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
  // An inline script injected now would be refused by the policy, so could not run.
  const inlineRan = await app.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__inlineRan = true';
    document.head.append(script);
    return window.__inlineRan === true;
  });
  assert.equal(inlineRan, false, 'the CSP blocks inline script');
  await eventually(() => assert.equal(cspViolations.length, 1, 'the refusal is reported'));

  // --- Same site, another origin: the cookie is sent, the worker must refuse. -------------
  const sibling = `http://127.0.0.1:${attackerPort}`;
  for (const form of ['/form-create', '/form-acknowledge']) {
    const evil = await browser.context.newPage();
    // The form's answer: any from the API (a prefix of every API path, not one route).
    const answer = evil.waitForResponse((res) => res.url().startsWith(`${base}/api/`));
    await evil.goto(sibling + form);
    const res = await answer;
    assert.equal(res.status(), 403, `${form}: ${await res.text()}`);
    assert.equal((await res.json()).error.code, 'cross_site_request', form);
    // The request really carried the session: the refusal is the worker's, not SameSite's.
    assert.match((await res.request().allHeaders()).cookie ?? '', /ia_session=/, `${form} carried the cookie`);
    await evil.close();
  }

  const evil = await browser.context.newPage();
  await evil.goto(`${sibling}/fetch`);
  await eventually(() => assert.ok(reports.some((r) => r.what === 'done'), JSON.stringify(reports)));
  const outcome = Object.fromEntries(reports.map((r) => [r.what, r.outcome]));
  assert.equal(outcome.cors, 'blocked', 'no CORS grant: the JSON fetch never got through');
  assert.equal(outcome['no-cors'], 'opaque', 'the no-cors request went out, and nothing of it is readable');
  assert.equal(outcome.read, 'blocked', 'a read across origins gets no CORS grant either');
  await evil.close();

  // --- Another site: the cookie does not even go. ------------------------------------------
  const other = await browser.context.newPage();
  const answer = other.waitForResponse((res) => res.url().startsWith(`${base}/api/`));
  await other.goto(`http://localhost:${attackerPort}/form-create`);
  assert.ok([401, 403].includes((await answer).status()), 'refused');
  await other.close();

  const after = await state();
  assert.ok(!after.names.includes(serviceName), 'no service was forged');
  assert.equal(after.status, 'triggered', 'the incident was neither acknowledged nor resolved');

  // --- The SPA keeps working: still signed in, and its own changes go through. --------------
  await app.goto(`${base}/incidents/${incident.id}`);
  await app.getByRole('heading', { name: new RegExp(incident.title), level: 1 }).waitFor();
  await app.getByRole('button', { name: 'Acknowledge', exact: true }).click();
  await app.locator('ol.timeline li.entry-acknowledge').waitFor();
  assert.equal((await state()).status, 'acknowledged');
  await app.getByRole('button', { name: 'Sign out', exact: true }).click();
  await app.waitForURL(`${base}/sign-in`);

  assert.deepEqual(pageProblems, []);
  assert.equal(cspViolations.length, 1, `only the provoked CSP refusal: ${cspViolations.join('\n')}`);
});
