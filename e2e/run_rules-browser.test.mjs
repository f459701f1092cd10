// Actions that ask first, in Chromium: a responder clicks an action with inputs and a
// type-to-confirm question, fills the dialog, confirms by typing the action's name, and
// sees the result with the values sent; an action whose rule excludes the incident is
// not offered at all.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { api } from './client.mjs';
import {
  createService,
  eventually,
  expectStatus,
  signIn,
  triggerIncident,
  unique,
  useWorld,
  watchPage,
} from './harness.mjs';

const { worker, receiver, browser } = useWorld({ browser: { viewport: { width: 390, height: 844 } } });
const pageProblems = [];

test('a responder fills the inputs, confirms by typing the name, and sees the values sent', { timeout: 90_000 }, async () => {
  const service = await createService(worker);
  const path = `/dialog/${process.pid}`;
  const name = 'Roll back';
  const action = expectStatus(
    await api(worker).createAction(service.id, {
      name,
      endpoint_url: `${receiver.url}${path}`,
      inputs: [
        { key: 'region', label: 'Region', type: 'select', required: true, options: ['eu-west', 'us-east'], default: 'eu-west' },
        { key: 'version', label: 'Version', type: 'string', required: true, help: 'The tag to roll back to' },
        { key: 'dry_run', label: 'Dry run', type: 'boolean' },
      ],
      confirm: { message: 'Rolls production back', type_to_confirm: true },
    }),
    201,
    'create',
  ).json.action;
  await receiver.addSecret(action.signing_secret);
  // A second action that applies only to resolved incidents: never offered here.
  expectStatus(
    await api(worker).createAction(service.id, {
      name: 'Write postmortem',
      endpoint_url: `${receiver.url}/ok`,
      available_when: { statuses: ['resolved'] },
    }),
    201,
    'create hidden',
  );
  const incident = await triggerIncident(worker, service, { summary: unique('Dialog incident') });

  const page = await browser.context.newPage();
  watchPage(page, pageProblems);
  await signIn(page, worker);
  await page.goto(`${worker.baseUrl}/incidents/${incident.id}`);
  const button = page.getByRole('button', { name, exact: true });
  await button.waitFor();
  assert.equal(await page.getByRole('button', { name: 'Write postmortem' }).count(), 0, 'the rule hides it');

  await button.click();
  const dialog = page.locator('.run-dialog');
  await dialog.waitFor();
  assert.equal(await dialog.getByLabel('Region').inputValue(), 'eu-west', 'the default is filled in');
  await dialog.getByText('Rolls production back').waitFor();
  const run = dialog.getByRole('button', { name: /^Run/ });
  assert.equal(await run.isDisabled(), true, 'Run waits for the typed name');

  await dialog.getByLabel('Version').fill('v41');
  await dialog.getByLabel('Region').selectOption('us-east');
  await dialog.getByLabel('Dry run').check();
  await dialog.getByLabel(/Type .* to confirm/).fill(name);
  await eventually(async () => assert.equal(await run.isDisabled(), false, 'the name typed enables Run'));
  await run.click();

  const sent = page.locator('.run-result .run-inputs');
  await sent.waitFor();
  const shown = await sent.textContent();
  for (const part of ['region', 'us-east', 'version', 'v41', 'dry_run']) assert.ok(shown.includes(part), `${part} in ${shown}`);
  const [delivery] = await eventually(async () => {
    const found = (await receiver.deliveries()).filter((d) => d.path === path);
    assert.equal(found.length, 1, 'one POST');
    return found;
  });
  assert.equal(delivery.verified, true);
  assert.deepEqual(JSON.parse(delivery.body).event.inputs, { region: 'us-east', version: 'v41', dry_run: true });

  assert.deepEqual(pageProblems, []);
  await page.close();
});
