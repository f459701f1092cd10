// The endpoint guard in Chromium: the action form judges every URL of the shared table
// (shared/fixtures/endpoint_cases.json) as the worker does, with the same words. The app
// reads URLs with the browser's own WHATWG parser (shared/src/whatwg_url.rs), the worker
// with workerd's and the native tests with the `url` crate; this test is what keeps the
// browser's verdicts equal to the table.
//
// Needs dist/ (trunk build) and Chromium at $CHROMIUM_PATH (default /usr/bin/chromium).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { createService, eventually, ROOT, signIn, useWorld, watchPage } from './harness.mjs';

const table = JSON.parse(fs.readFileSync(path.join(ROOT, 'shared/fixtures/endpoint_cases.json'), 'utf8'));

const { worker, browser } = useWorld({
  vars: { PRIVATE_ENDPOINT_ALLOWLIST: table.private_endpoint_allowlist, OWN_HOSTS: table.own_hosts },
  receiver: false,
  browser: {},
});
const pageProblems = [];

test('the action form refuses every refused URL of the table naming its rule, and accepts every accepted one', { timeout: 180_000 }, async () => {
  const service = await createService(worker);
  const page = await browser.context.newPage();
  watchPage(page, pageProblems);
  await signIn(page, worker);
  await page.goto(`${worker.baseUrl}/services/${service.id}/actions`);
  await page.getByRole('button', { name: 'New action', exact: true }).click();
  const form = page.locator('form', { has: page.getByRole('heading', { name: 'New action' }) });
  const endpoint = form.getByLabel('Endpoint URL', { exact: true });
  const message = async () => (await form.locator('#action-endpoint-url-error').allTextContents()).join('').trim();

  assert.ok(table.refused.length >= 40, 'the table covers every rule');
  // A form trims what is typed before judging it (the API takes text as given), so the
  // cases about spaces at either end are the API's alone (e2e/endpoint_guard.test.mjs).
  const typeable = table.refused.filter(({ url }) => url === url.trim());
  assert.ok(typeable.length >= table.refused.length - 3);
  for (const { url, rule } of typeable) {
    await endpoint.fill(url);
    await eventually(async () => {
      const shown = await message();
      assert.ok(shown.includes(rule), `${JSON.stringify(url)}: expected ${JSON.stringify(rule)} in ${JSON.stringify(shown)}`);
    }, 5_000);
  }
  for (const url of table.accepted) {
    // From a refused URL each time, so an accepted one must clear a message that is shown.
    await endpoint.fill('https://127.0.0.1/x');
    await eventually(async () => assert.match(await message(), /loopback/), 5_000);
    await endpoint.fill(url);
    await eventually(async () => assert.equal(await message(), '', `${JSON.stringify(url)} is accepted`), 5_000);
  }
  assert.deepEqual(pageProblems, []);
});
