// Redelivery and endpoint health in Chromium, at phone width:
// - a run against an endpoint that is briefly down (the receiver's /flaky answers 503 to
//   the first delivery of each webhook-id) fails; Redeliver on its result, confirmed,
//   sends it again as attempt 2, which succeeds; the timeline shows the redelivery;
// - after three failed runs the action's button on the incident and its card on the
//   service's actions page warn quietly (the button stays usable), and the card lists the
//   runs with their figures; times read in the viewer's zone, relative when recent, with
//   the exact UTC time in <time datetime>.
//
// Needs dist/ (trunk build) and Chromium at $CHROMIUM_PATH (default /usr/bin/chromium).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { api } from './client.mjs';
import { serviceWithAction, signIn, useWorld, watchPage } from './harness.mjs';

const world = useWorld({ browser: { viewport: { width: 390, height: 844 } } });

const pageProblems = [];

const setUp = (name, path) => serviceWithAction(world.worker, world.receiver, path, { name });

test('a failed run is redelivered from its result', { timeout: 120_000 }, async () => {
  const { incident } = await setUp('Restart web', '/flaky');
  const page = await world.browser.context.newPage();
  watchPage(page, pageProblems);
  await signIn(page, world.worker);
  await page.goto(`${world.worker.baseUrl}/incidents/${incident.id}`);

  await page.getByRole('button', { name: 'Restart web', exact: true }).click();
  const result = page.locator('.run-result');
  await result.getByText('HTTP 503').first().waitFor();
  await result.getByRole('button', { name: 'Redeliver' }).click();
  // It asks first, saying what will be sent where.
  await result.getByText('same webhook-id', { exact: false }).waitFor();
  await result.getByRole('group', { name: 'Redeliver' }).getByRole('button', { name: 'Redeliver' }).click();
  await result.getByText(/Attempt 2: Succeeded/).waitFor();

  const [first, again] = (await world.receiver.deliveries()).filter((d) => d.path === '/flaky');
  assert.equal(again.headers['webhook-id'], first.headers['webhook-id']);
  assert.equal(again.body, first.body);
  assert.ok(again.verified);
  // The timeline, reloaded in place, shows the redelivery as its own entry.
  const timeline = page.locator('section[aria-labelledby="timeline-heading"]');
  await timeline.getByText('Redelivered "Restart web" (attempt 2): succeeded', { exact: false }).waitFor();
  assert.deepEqual(pageProblems, []);
  await page.close();
});

test('three failed runs in a row show a quiet warning; the button stays usable', { timeout: 120_000 }, async () => {
  const { service, action, incident } = await setUp('Purge cache', '/status/503');
  for (let i = 0; i < 3; i++) {
    const res = await api(world.worker).runAction(incident.id, action.id, {});
    assert.equal(res.status, 201, res.text);
  }
  const page = await world.browser.context.newPage();
  watchPage(page, pageProblems);
  await signIn(page, world.worker);
  await page.goto(`${world.worker.baseUrl}/incidents/${incident.id}`);
  const warning = page.getByText(/Last 3 runs failed; last: HTTP 503, (now|\d+ seconds? ago)/).first();
  await warning.waitFor();
  const button = page.getByRole('button', { name: 'Purge cache', exact: true });
  assert.equal(await button.isEnabled(), true, 'never disabled for failing');
  assert.match(await button.getAttribute('aria-describedby'), /failing/);

  // Times: relative, with the exact UTC time on hover and in datetime.
  const opened = page.locator('time').first();
  assert.match(await opened.getAttribute('datetime'), /^\d{4}-\d\d-\d\dT/);
  assert.match(await opened.getAttribute('title'), / UTC$/);

  await page.goto(`${world.worker.baseUrl}/services/${service.id}/actions`);
  const card = page.locator('li.card.action');
  await card.getByText(/Last 3 runs failed; last: HTTP 503/).waitFor();
  await card.getByText('Last 3 runs: 0 succeeded (0%)', { exact: false }).waitFor();
  assert.equal(await card.locator('.run-history li').count(), 3);
  assert.equal(await card.getByRole('link', { name: 'Incident' }).count(), 3);
  assert.equal(await card.getByRole('button', { name: 'Redeliver' }).count(), 3);
  assert.deepEqual(pageProblems, []);
  await page.close();
});
