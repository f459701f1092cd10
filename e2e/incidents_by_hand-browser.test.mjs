// Incidents opened by hand, test events and recent changes, in Chromium against the real
// worker: a responder opens an incident from the incidents page and lands on it, its
// timeline starting "Created by <name>"; a second one with the same dedup key is refused
// with a link to the first; a manager sends a test event from a service card through
// /v2/enqueue, follows the link and sees the incident appear, then resolves it with the
// dedup key the form kept; an incident page lists the service's changes of the 24 hours
// before it, its links as text-labelled anchors (a link that is not http(s) is refused by
// the Change Events API).
//
// Needs dist/ (trunk build) and Chromium at $CHROMIUM_PATH (default /usr/bin/chromium).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { api } from './client.mjs';
import {
  createService,
  eventually,
  newMember,
  signIn,
  triggerIncident,
  unique,
  useWorld,
  watchPage,
} from './harness.mjs';

// Phone width: the forms must work without sideways scrolling.
const { worker, browser } = useWorld({ browser: { viewport: { width: 390, height: 844 } }, receiver: false });
const pageProblems = [];

test('a responder opens an incident by hand and lands on it, its timeline starting "Created by"', { timeout: 120_000 }, async () => {
  // Two services, so the form offers the choice (with one, it is that one).
  const service = await createService(worker);
  await createService(worker);
  const responder = await newMember(worker, 'responder');
  const page = await browser.context.newPage();
  // The duplicate below is answered 409 on purpose; Chromium logs that load.
  watchPage(page, pageProblems, /status of (401|409)/);
  await signIn(page, worker, responder.token);

  await page.goto(`${worker.baseUrl}/incidents`);
  await page.getByText('New incident', { exact: true }).click();
  const form = page.locator('details.new-incident form');
  // Nothing is sent while a required field is blank: the messages say which.
  await form.getByRole('button', { name: 'Open incident', exact: true }).click();
  await form.locator('.field-error', { hasText: 'Service' }).waitFor();
  await form.locator('.field-error', { hasText: 'Title' }).waitFor();

  const title = unique('Checkout failing for EU');
  const dedupKey = unique('by-hand');
  await form.getByLabel('Service', { exact: true }).selectOption(service.id);
  await form.getByLabel('Title', { exact: true }).fill(title);
  await form.getByLabel('Urgency', { exact: true }).selectOption('low');
  await form.getByLabel('Details (optional)').fill('Seen at 03:12.\n<b>not bold</b>');
  await form.getByLabel('Dedup key (optional)').fill(dedupKey);
  await form.getByRole('button', { name: 'Open incident', exact: true }).click();

  await page.waitForURL(/\/incidents\/inc_/);
  await page.getByRole('heading', { level: 1, name: new RegExp(title) }).waitFor();
  await page.getByText('low urgency').first().waitFor();
  // The details are text: the tag is shown as typed and nothing is bold.
  const details = page.locator('.incident-details');
  assert.equal(await details.textContent(), 'Seen at 03:12.\n<b>not bold</b>');
  assert.equal(await details.locator('b').count(), 0);
  const timeline = page.locator('section[aria-labelledby="timeline-heading"]');
  await timeline.getByText(`Created by ${responder.user.name}`).waitFor();
  const firstUrl = page.url();

  // The same key again while the first is open: refused, with the way to the first.
  await page.goto(`${worker.baseUrl}/incidents`);
  await page.getByText('New incident', { exact: true }).click();
  await form.getByLabel('Service', { exact: true }).selectOption(service.id);
  await form.getByLabel('Title', { exact: true }).fill(unique('Again'));
  await form.getByLabel('Dedup key (optional)').fill(dedupKey);
  await form.getByRole('button', { name: 'Open incident', exact: true }).click();
  await form.getByRole('alert').waitFor();
  await form.getByRole('link', { name: 'Go to the open incident with this key' }).click();
  await page.waitForURL(firstUrl);
  await page.getByRole('heading', { level: 1, name: new RegExp(title) }).waitFor();

  const listed = await api(worker).listIncidents({ query: { service_id: service.id } });
  assert.equal(listed.json.incidents.length, 1, 'the refused one was not stored');
  assert.deepEqual(pageProblems, []);
  await page.close();
});

test('a manager sends a test event from a service and watches the incident appear, then resolves it', { timeout: 120_000 }, async () => {
  const service = await createService(worker);
  const page = await browser.context.newPage();
  // The empty event is answered 400 on purpose; Chromium logs that load.
  watchPage(page, pageProblems, /status of (401|400)/);
  await signIn(page, worker);
  await page.goto(`${worker.baseUrl}/services`);
  const card = page.locator('li.card.service', { has: page.getByRole('heading', { name: service.name }) });
  await card.getByText('Send a test event', { exact: true }).click();

  // The Events API's own messages land on the fields they name.
  const form = card.locator('details', { hasText: 'Send a test event' }).locator('form');
  await form.getByRole('button', { name: 'Send event', exact: true }).click();
  await form.locator('.field-error', { hasText: "'payload.summary' is missing" }).waitFor();
  await form.locator('.field-error', { hasText: "'payload.source' is missing" }).waitFor();

  const summary = unique('Disk almost full on web-1');
  await form.getByLabel('Summary', { exact: true }).fill(summary);
  await form.getByLabel('Source', { exact: true }).fill('web-1');
  await form.getByLabel('Severity', { exact: true }).selectOption('warning');
  await form.getByRole('button', { name: 'Send event', exact: true }).click();
  const accepted = form.getByRole('status').filter({ hasText: 'Event accepted under dedup key' });
  await accepted.waitFor();
  const dedupKey = await form.getByLabel('Dedup key (optional)').inputValue();
  assert.ok(dedupKey.length > 0, 'the answered key fills the form');
  assert.match(await accepted.textContent(), new RegExp(dedupKey));

  await accepted.getByRole('link', { name: "See this service's incidents" }).click();
  await page.waitForURL(new RegExp(`/incidents\\?service_id=${service.id}`));
  const row = page.locator('li.incident-row', { hasText: summary });
  await row.waitFor();
  await row.getByText('Triggered').waitFor();
  await row.getByText('low urgency').waitFor();

  // Back on the card, the kept key resolves the same incident.
  await page.goBack();
  const again = page.locator('li.card.service', { has: page.getByRole('heading', { name: service.name }) });
  await again.getByText('Send a test event', { exact: true }).click();
  const form2 = again.locator('details', { hasText: 'Send a test event' }).locator('form');
  await form2.getByLabel('Event action', { exact: true }).selectOption('resolve');
  await form2.getByLabel('Dedup key (optional)').fill(dedupKey);
  await form2.getByRole('button', { name: 'Send event', exact: true }).click();
  await form2.getByRole('status').filter({ hasText: 'Event accepted' }).waitFor();
  await eventually(async () => {
    const list = await api(worker).listIncidents({ query: { service_id: service.id } });
    assert.deepEqual(list.json.incidents.map((i) => [i.title, i.status]), [[summary, 'resolved']]);
  });
  assert.deepEqual(pageProblems, []);
  await page.close();
});

test('an incident page lists the changes of the 24 hours before it, with their links', { timeout: 120_000 }, async () => {
  const service = await createService(worker);
  const change = (summary, hoursAgo, links) =>
    api(worker, { token: null }).changeEnqueue({
      routing_key: service.routing_key,
      payload: {
        summary,
        source: 'github.com/shop/checkout',
        timestamp: new Date(Date.now() - hoursAgo * 3_600_000).toISOString(),
        custom_details: { commit: 'a1b2c3' },
      },
      links,
    });
  const old = unique('Deployed v39');
  const recent = unique('Deployed v41 <script>');
  for (const [summary, hoursAgo, links] of [
    [old, 30, []],
    [recent, 2, [{ href: 'https://github.com/shop/checkout/commit/a1b2c3', text: 'Commit a1b2c3' }]],
  ]) {
    const res = await change(summary, hoursAgo, links);
    assert.equal(res.status, 202, res.text);
  }
  // A link that is not http(s) never gets in (the page would not make it an anchor either).
  const refused = await change(unique('Deployed v40'), 3, [{ href: 'javascript:alert(1)', text: 'Click me' }]);
  assert.equal(refused.status, 400, refused.text);
  assert.deepEqual(refused.json.errors, ["'links[0].href' must be an absolute http or https URL, without spaces"]);
  const incident = await triggerIncident(worker, service, { summary: unique('Checkout errors') });

  const page = await browser.context.newPage();
  watchPage(page, pageProblems);
  await signIn(page, worker);
  await page.goto(`${worker.baseUrl}/incidents/${incident.id}`);
  const section = page.locator('section[aria-labelledby="changes-heading"]');
  await section.getByRole('heading', { name: 'Changes in the 24 h before this incident' }).waitFor();
  await section.getByText(recent, { exact: true }).waitFor();
  assert.equal(await section.getByText(old).count(), 0, 'a change of 30 h before is not listed');
  await section.getByText('github.com/shop/checkout', { exact: false }).first().waitFor();
  await section.getByText('"commit": "a1b2c3"').waitFor();
  const link = section.getByRole('link', { name: 'Commit a1b2c3' });
  assert.equal(await link.getAttribute('href'), 'https://github.com/shop/checkout/commit/a1b2c3');
  assert.equal(await section.locator('script').count(), 0);
  assert.deepEqual(pageProblems, []);
  await page.close();
});
