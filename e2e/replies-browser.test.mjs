// A reply in Chromium: a responder presses "Add diagnostics" on an incident; the endpoint
// (the sample receiver's /diagnostics) answers with a note, a link and a summary; the run's
// result reads the summary, and the note appears on the timeline without a reload, as
// text.
//
// Needs dist/ (trunk build) and Chromium at $CHROMIUM_PATH (default /usr/bin/chromium).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { serviceWithAction, signIn, unique, useWorld, watchPage } from './harness.mjs';

const world = useWorld({ browser: { viewport: { width: 390, height: 844 } } });
const pageProblems = [];

test('"Add diagnostics" writes its note onto the timeline without a reload', { timeout: 120_000 }, async () => {
  const title = unique('Payments failing <b>3%</b>');
  const { incident } = await serviceWithAction(
    world.worker,
    world.receiver,
    '/diagnostics',
    { name: 'Add diagnostics', accept_reply: true },
    title,
  );

  const page = await world.browser.context.newPage();
  watchPage(page, pageProblems);
  await signIn(page, world.worker);
  await page.goto(`${world.worker.baseUrl}/incidents/${incident.id}`);

  const timeline = page.locator('section[aria-labelledby="timeline-heading"]');
  await timeline.getByText('Triggered', { exact: false }).first().waitFor();
  assert.equal(await timeline.getByText('load average 7.9').count(), 0, 'no note before the run');

  await page.getByRole('button', { name: 'Add diagnostics', exact: true }).click();
  await page.getByText('Diagnostics attached to the incident').first().waitFor();
  // The note, on the timeline of the page as it is (no reload), attributed to the action.
  const note = timeline.getByText(/Diagnostics for ".*": load average 7\.9/);
  await note.waitFor();
  // The incident title inside the note is text: its tag is shown, nothing is bold.
  assert.match(await note.textContent(), /<b>3%<\/b>/);
  assert.equal(await timeline.locator('b').count(), 0);
  await timeline.getByText('via Add diagnostics, run by', { exact: false }).first().waitFor();
  assert.deepEqual(pageProblems, []);
  await page.close();
});
