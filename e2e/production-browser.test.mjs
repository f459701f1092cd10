// Production hardening in Chromium against the real worker, at phone width: a manager
// rotates a leaked routing key from the service card (the card shows the new key, the old
// one stops); a long incident list and a long timeline show their newest page first and
// go to older pages and back with "Older …" and "Newest …".
//
// Needs dist/ (trunk build) and Chromium at $CHROMIUM_PATH (default /usr/bin/chromium).

import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { api } from './client.mjs';
import { createService, expectStatus, newMember, signIn, useWorld, watchPage } from './harness.mjs';

const world = useWorld({ browser: { viewport: { width: 390, height: 844 } } });
const pageProblems = [];

after(() => assert.deepEqual(pageProblems, [], 'no console errors on the pages'));

test('a manager rotates a leaked routing key from the service card; the old key stops at once', { timeout: 120_000 }, async () => {
  const { worker, browser } = world;
  const service = await createService(worker);
  const manager = await newMember(worker, 'manager');
  const page = await browser.context.newPage();
  watchPage(page, pageProblems);
  await signIn(page, worker, manager.token);
  await page.goto(`${worker.baseUrl}/services`);

  const card = page.locator('li.card.service', { hasText: service.name });
  await card.locator('code.key', { hasText: service.routing_key }).waitFor();
  await card.getByText('Rotate routing key', { exact: true }).click();
  await card.getByRole('button', { name: 'Rotate, stop the old key now' }).click();
  await card.getByRole('status').filter({ hasText: 'New key in use' }).waitFor();

  const now = expectStatus(await api(worker).getService(service.id), 200, 'service').json.service.routing_key;
  assert.notEqual(now, service.routing_key);
  await card.locator('code.key', { hasText: now }).waitFor();
  const event = (key) =>
    worker.enqueue({ routing_key: key, event_action: 'trigger', payload: { summary: 'Disk full', source: 'db-1', severity: 'critical' } });
  assert.equal((await event(service.routing_key)).status, 400, 'the leaked key stopped');
  assert.equal((await event(now)).status, 202, 'the key the card shows works');
  await page.close();
});

test('a long incident list and a long timeline page with Older and Newest', { timeout: 180_000 }, async () => {
  const { worker, browser } = world;
  const service = await createService(worker);
  const ids = [];
  for (let i = 0; i < 52; i += 1) {
    const res = await api(worker).createIncident({ service_id: service.id, title: `Paged incident ${i}` });
    ids.push(expectStatus(res, 201, 'create').json.incident.id);
  }
  const page = await browser.context.newPage();
  watchPage(page, pageProblems);
  await signIn(page, worker);
  await page.goto(`${worker.baseUrl}/incidents?service_id=${service.id}`);
  const rows = page.locator('.incident-list li');
  await page.getByText('Paged incident 51', { exact: true }).waitFor();
  assert.equal(await rows.count(), 50, 'the newest 50 first');
  assert.equal(await page.getByText('Paged incident 1', { exact: true }).count(), 0);
  await page.getByRole('button', { name: 'Older incidents' }).click();
  await page.getByText('Paged incident 1', { exact: true }).waitFor();
  await page.getByText('Paged incident 0', { exact: true }).waitFor();
  assert.equal(await rows.count(), 2);
  assert.equal(await page.getByRole('button', { name: 'Older incidents' }).count(), 0, 'the oldest page has no Older');
  await page.getByRole('button', { name: 'Newest incidents' }).click();
  await page.getByText('Paged incident 51', { exact: true }).waitFor();

  // A timeline of 55 entries: the trigger and 54 notes.
  const incident = ids[0];
  for (let i = 0; i < 54; i += 1) {
    expectStatus(await api(worker).addNote(incident, { content: `Paged note ${i}` }), 201, 'note');
  }
  await page.goto(`${worker.baseUrl}/incidents/${incident}`);
  const entries = page.locator('ol.timeline > li');
  await page.getByText('Paged note 53', { exact: true }).waitFor();
  assert.equal(await entries.count(), 50);
  assert.equal(await entries.last().locator('.entry-summary').textContent(), 'Paged note 53', 'oldest first, newest last');
  await page.getByRole('button', { name: 'Older entries' }).click();
  await page.getByText('Created by Administrator', { exact: true }).waitFor();
  assert.equal(await entries.count(), 5);
  await page.getByRole('button', { name: 'Newest entries' }).click();
  await page.getByText('Paged note 53', { exact: true }).waitFor();
  await page.close();
});
