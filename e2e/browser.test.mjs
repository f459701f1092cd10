// The whole loop in Chromium, as a user does it: sign in through the page, create a
// service and three custom actions through the forms, open an incident that arrived
// through /v2/enqueue, press the action buttons and see each result and its timeline
// entry. The worker runs under `wrangler dev` and the actions post to a real receiver
// process on loopback, reached through PRIVATE_ENDPOINT_ALLOWLIST like any endpoint.
//
// Needs dist/ (trunk build) and Chromium at $CHROMIUM_PATH (default /usr/bin/chromium).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { api, paths } from './client.mjs';
import { eventually, expectStatus, unique, useWorld } from './harness.mjs';

const SCREENSHOT = process.env.E2E_SCREENSHOT || '/tmp/incident-mobile.png';
const PHONE_WIDTH = 375;
/** What the /html endpoint answers: it must reach the page as text and never run. */
const HTML_ANSWER = '<script>alert("x")</script><b>bold</b>';

const { worker, receiver, browser } = useWorld({ browser: { viewport: { width: 1200, height: 900 } } });
/** Uncaught exceptions and console errors of the page, checked at the end. */
const pageProblems = [];

function watch(page) {
  page.on('pageerror', (error) => pageProblems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // The session check before sign-in answers 401 by design; Chromium logs that load.
    if (message.type() === 'error' && !/status of 401/.test(message.text())) {
      pageProblems.push(`console: ${message.text()}`);
    }
  });
  page.on('dialog', (dialog) => {
    pageProblems.push(`dialog: ${dialog.message()}`);
    dialog.dismiss();
  });
}

/** Creates an action through the New Action form; returns the signing secret shown once. */
async function createActionThroughForm(page, { name, url, description }) {
  await page.getByRole('button', { name: 'New action', exact: true }).click();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Endpoint URL', { exact: true }).fill(url);
  await page.getByLabel('Description', { exact: true }).fill(description);
  await page.getByRole('button', { name: 'Create action', exact: true }).click();
  const panel = page.locator('section.notice.secret');
  await panel.getByRole('heading', { name: `Signing secret for “${name}”` }).waitFor();
  const secret = (await panel.locator('code.key').textContent()).trim();
  assert.match(secret, /^whsec_[A-Za-z0-9+/=]+$/);
  await panel.getByRole('button', { name: 'I have saved it' }).click();
  await panel.waitFor({ state: 'detached' });
  return secret;
}

async function assertNoHorizontalScroll(page, what) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.ok(scrollWidth <= innerWidth, `${what}: page is ${scrollWidth}px wide in a ${innerWidth}px window`);
}

test('a responder signs in, sets up actions, and runs them from an incident', { timeout: 15 * 60_000 }, async () => {
  const page = await browser.context.newPage();
  watch(page);
  const base = worker.baseUrl;

  // --- Signed out: any page leads to sign-in, and back after it. -----------------------
  await page.goto(`${base}/services`);
  await page.waitForURL(/\/sign-in\?next=%2Fservices$/);
  await page.getByLabel('Sign-in token', { exact: true }).fill('not-the-token');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: /./ }).first().waitFor();
  assert.equal(new URL(page.url()).pathname, '/sign-in');

  await page.getByLabel('Sign-in token', { exact: true }).fill(worker.token);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(`${base}/services`);
  await page.getByRole('heading', { name: 'Services', level: 1 }).waitFor();
  assert.ok(!(await page.content()).includes(worker.token), 'the token must not stay in the page');

  // --- A service, through the form. ------------------------------------------------------
  const serviceName = unique('Checkout');
  await page.getByRole('button', { name: 'Create service', exact: true }).click();
  await page.getByText('Name is required').waitFor();
  await page.getByLabel('Name', { exact: true }).fill(serviceName);
  await page.getByLabel('Description', { exact: true }).fill('Takes the money');
  await page.getByRole('button', { name: 'Create service', exact: true }).click();
  const card = page.locator('li.card.service').filter({ has: page.getByRole('heading', { name: serviceName }) });
  await card.waitFor();
  const routingKey = (await card.locator('code.key').textContent()).trim();
  assert.match(routingKey, /^[A-Za-z0-9]{32}$/);
  const curl = await card.locator('pre').textContent();
  assert.ok(curl.includes(`${base}${paths.enqueue()}`) && curl.includes(routingKey), curl);

  // --- Its Custom Incident Actions page. -------------------------------------------------
  await card.getByRole('link', { name: `Custom actions of ${serviceName}` }).click();
  await page.getByRole('heading', { name: 'Custom Incident Actions', level: 1 }).waitFor();
  await page.getByText('0 of 3 used').waitFor();
  await page.getByRole('heading', { name: 'No custom actions yet' }).waitFor();
  await page.getByText('incident.custom_action').first().waitFor();

  // Inline validation with the worker's own rules, before anything is sent.
  await page.getByRole('button', { name: 'New action', exact: true }).click();
  await page.getByLabel('Name', { exact: true }).fill('Restart web');
  await page.getByLabel('Endpoint URL', { exact: true }).fill('http://example.com/hook');
  await page.getByRole('button', { name: 'Create action', exact: true }).click();
  const urlInput = page.getByLabel('Endpoint URL', { exact: true });
  await eventually(async () => assert.equal(await urlInput.getAttribute('aria-invalid'), 'true'));
  await page.locator('#action-endpoint-url-error').getByText(/https:\/\//).waitFor();
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();

  const okName = 'Restart web';
  const slowName = 'Collect diagnostics';
  const htmlName = 'Update status page';
  const secrets = [
    await createActionThroughForm(page, { name: okName, url: `${receiver.url}/ok`, description: 'Restarts the web tier' }),
    await createActionThroughForm(page, { name: slowName, url: `${receiver.url}/slow/2500`, description: 'Takes a while' }),
    await createActionThroughForm(page, { name: htmlName, url: `${receiver.url}/html`, description: 'Answers with HTML' }),
  ];
  for (const secret of secrets) await receiver.addSecret(secret);
  await page.getByText('3 of 3 used').waitFor();
  const newAction = page.getByRole('button', { name: 'New action', exact: true });
  assert.equal(await newAction.isDisabled(), true, 'New action must be disabled at three');
  await page.getByText('A service can have at most 3 custom actions').waitFor();

  // --- An incident through the Events API, as a monitor would send it. --------------------
  const title = unique('Disk almost full on web-1');
  const enqueued = expectStatus(
    await worker.enqueue({
      routing_key: routingKey,
      event_action: 'trigger',
      payload: {
        summary: title,
        source: 'web-1',
        severity: 'critical',
        custom_details: { disk: '97%', note: '<img src=x onerror=alert(1)>' },
      },
    }),
    202,
    'enqueue',
  );
  assert.equal(enqueued.json.status, 'success');

  await page.getByRole('link', { name: 'Incidents', exact: true }).click();
  await page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
  await page.getByRole('link', { name: new RegExp(title) }).click();
  await page.getByRole('heading', { name: new RegExp(title), level: 1 }).waitFor();
  const incidentUrl = page.url();
  const details = await page.locator('section', { has: page.getByRole('heading', { name: 'Details', exact: true }) }).textContent();
  assert.match(details, /critical/);
  assert.match(details, /web-1/);
  assert.ok(details.includes('<img src=x onerror=alert(1)>'), 'custom details are shown as text');

  // --- Run the action; the result appears in place and on the timeline. -------------------
  const okButton = page.getByRole('button', { name: okName, exact: true });
  await okButton.click();
  const okResult = page.locator('li', { has: okButton }).locator('.run-result');
  await okResult.getByText(/Succeeded/).waitFor();
  const okText = await okResult.textContent();
  assert.match(okText, /HTTP 200/);
  // The receiver's answer, shown as the excerpt: it names the incident it got.
  assert.ok(okText.includes('Received incident.custom_action for') && okText.includes(title), okText);
  const timeline = page.locator('ol.timeline');
  const runEntries = timeline.locator('li.entry-action_run');
  await eventually(async () => assert.equal(await runEntries.count(), 1));
  assert.match(await runEntries.first().textContent(), /HTTP 200/);
  assert.match(await timeline.locator('li.entry-trigger').first().textContent(), /Triggered/);

  const okDeliveries = (await receiver.deliveries()).filter((d) => d.path === '/ok');
  assert.equal(okDeliveries.length, 1, 'one click, one POST');
  assert.equal(okDeliveries[0].verified, true, 'the signature verifies with the secret shown once');
  assert.equal(JSON.parse(okDeliveries[0].body).event.data.title, title);

  // A slow endpoint: the button stays disabled while the run is in flight; a second click
  // sends nothing.
  const slowButton = page.getByRole('button', { name: slowName, exact: true });
  await slowButton.click();
  await eventually(async () => assert.equal(await slowButton.isDisabled(), true));
  await page.getByText('waiting for the endpoint').waitFor();
  await slowButton.click({ force: true, timeout: 2000 }).catch(() => {});
  const slowResult = page.locator('li', { has: slowButton }).locator('.run-result');
  await slowResult.getByText(/Succeeded/).waitFor();
  assert.equal(await slowButton.isDisabled(), false);
  assert.equal((await receiver.deliveries()).filter((d) => d.path === '/slow/2500').length, 1);
  await eventually(async () => assert.equal(await runEntries.count(), 2));

  // An endpoint that answers HTML: shown as text, never run.
  await page.getByRole('button', { name: htmlName, exact: true }).click();
  const htmlResult = page.locator('li', { has: page.getByRole('button', { name: htmlName, exact: true }) }).locator('.run-result');
  await htmlResult.getByText(/HTTP 200/).waitFor();
  assert.equal((await htmlResult.locator('pre').textContent()).trim(), HTML_ANSWER);
  assert.equal(await page.locator('.run-result b, .timeline b, .run-result script').count(), 0);

  // Acknowledge, then resolve; each lands on the timeline.
  await page.getByRole('button', { name: 'Acknowledge', exact: true }).click();
  await timeline.locator('li.entry-acknowledge').waitFor();
  await page.getByRole('button', { name: 'Resolve', exact: true }).click();
  await timeline.locator('li.entry-resolve').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Resolve', exact: true }).isDisabled(), true);
  // The results shown under the buttons survive the status changes.
  assert.match(await okResult.textContent(), /HTTP 200/);

  // --- On a phone. --------------------------------------------------------------------------
  // The screenshot keeps the results shown in place; the reload checks a fresh load.
  await page.setViewportSize({ width: PHONE_WIDTH, height: 800 });
  await assertNoHorizontalScroll(page, 'incident page with results');
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  await page.goto(incidentUrl);
  await page.getByRole('heading', { name: new RegExp(title), level: 1 }).waitFor();
  await runEntries.first().waitFor();
  await assertNoHorizontalScroll(page, 'incident page');
  await page.getByRole('link', { name: 'Services', exact: true }).click();
  await card.waitFor();
  // Every disclosure of the card open (New incident, the test event form, curl): all of
  // it must fit a phone.
  for (const summary of await card.locator('summary').all()) await summary.click();
  await assertNoHorizontalScroll(page, 'services page');
  await card.getByRole('link', { name: `Custom actions of ${serviceName}` }).click();
  await page.getByText('3 of 3 used').waitFor();
  await assertNoHorizontalScroll(page, 'actions page');

  // --- Rotate a signing secret and delete an action, each behind its question. -------------
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.getByRole('button', { name: `Rotate signing secret of ${slowName}`, exact: true }).click();
  const rotate = page.getByRole('button', { name: 'Rotate secret', exact: true });
  assert.equal(await rotate.evaluate((el) => el === document.activeElement), true, 'the question takes focus');
  await page.keyboard.press('Enter');
  const rotatedPanel = page.locator('section.notice.secret');
  await rotatedPanel.getByRole('heading', { name: `Signing secret for “${slowName}”` }).waitFor();
  const rotatedSecret = (await rotatedPanel.locator('code.key').textContent()).trim();
  assert.notEqual(rotatedSecret, secrets[1], 'a new signing secret, shown once');
  await rotatedPanel.getByRole('button', { name: 'I have saved it' }).click();
  await rotatedPanel.waitFor({ state: 'detached' });
  // The rotation reloads the list (the card must name the new revision) and each card's
  // recent runs; the cards are drawn anew when it lands, so wait for it first.
  await page.waitForLoadState('networkidle');
  await page.getByRole('button', { name: `Delete ${htmlName}`, exact: true }).click();
  await page.getByRole('button', { name: 'Delete action', exact: true }).click();
  await page.getByText('2 of 3 used').waitFor();
  assert.equal(await page.getByRole('heading', { name: htmlName, exact: true }).count(), 0);
  const services = expectStatus(await api(worker).listServices(), 200, 'services').json.services;
  const serviceId = services.find((s) => s.name === serviceName).id;
  const remaining = expectStatus(await api(worker).listActions(serviceId), 200, 'actions').json.actions;
  assert.deepEqual(remaining.map((a) => a.name), [okName, slowName]);

  // --- The audit log lists what was just configured, and nothing secret. --------------------
  await page.getByRole('link', { name: 'Audit', exact: true }).click();
  await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
  // The heading renders before the list has loaded; wait for the entries themselves.
  await page.getByText('Service created').first().waitFor();
  assert.equal(await page.getByText('Action created').count(), 3, 'one entry per action created');
  await assertNoHorizontalScroll(page, 'audit page');
  assert.ok(!(await page.content()).includes('whsec_'), 'a signing secret shown on the audit page');

  // --- Sign out: the pages are closed again. ------------------------------------------------
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL(`${base}/sign-in`);
  await page.goto(`${base}/incidents`);
  await page.waitForURL(/\/sign-in\?next=%2Fincidents$/);

  assert.deepEqual(pageProblems, []);
});
