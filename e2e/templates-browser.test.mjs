// Templated requests in Chromium: a manager builds an action in the form (a secret header,
// an input of every type, a body template using an input and an incident field), watches
// the live preview follow the template, sees a broken template's "Line N" message, saves,
// and a run from the incident page sends exactly what the run dialog's preview showed.
//
// The preview never shows a secret header's value: it reads [redacted] there, while the
// endpoint receives the real value.
//
// Needs dist/ (trunk build) and Chromium at $CHROMIUM_PATH (default /usr/bin/chromium).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { api } from './client.mjs';
import { createService, eventually, signIn, triggerIncident, unique, useWorld, watchPage } from './harness.mjs';

// Phone width: the editors and the preview must fit without sideways scrolling.
const { worker, receiver, browser } = useWorld({ browser: { viewport: { width: 390, height: 844 } } });
/** Uncaught exceptions and console errors of the pages, checked at the end of each test. */
const pageProblems = [];

/** Adds an input in the form's inputs editor and fills its common fields. */
async function addInput(form, { key, label, type, required = false }) {
  const index = await form.locator('fieldset.input-row').count();
  await form.getByRole('button', { name: 'Add input', exact: true }).click();
  // By position, not `.last()`: the locator must keep naming this row as more are added.
  const row = form.locator('fieldset.input-row').nth(index);
  const keyBox = row.getByLabel('Key', { exact: true });
  // The new input's key box takes focus, so typing goes straight into it.
  await eventually(async () => assert.equal(await keyBox.evaluate((el) => el === document.activeElement), true));
  await keyBox.fill(key);
  await row.getByLabel('Label', { exact: true }).fill(label);
  await row.getByLabel('Type', { exact: true }).selectOption(type);
  if (required) await row.getByLabel('Required', { exact: true }).check();
  return row;
}

test('a manager templates the body with a live preview, and the run sends what the preview showed', { timeout: 180_000 }, async () => {
  const service = await createService(worker);
  const title = unique('Disk full on web-1');
  const incident = await triggerIncident(worker, service, { summary: title });
  const path = `/templated/${process.pid}`;
  const name = 'Deploy';
  const secretValue = `key-${unique('s3cret')}`;

  const page = await browser.context.newPage();
  // A broken template is answered 422 on purpose; Chromium logs that load.
  watchPage(page, pageProblems, /status of (401|422)/);
  await signIn(page, worker);
  await page.goto(`${worker.baseUrl}/services/${service.id}/actions`);
  await page.getByRole('button', { name: 'New action', exact: true }).click();
  const form = page.locator('form', { has: page.getByRole('heading', { name: 'New action' }) });
  await form.waitFor();
  const preview = form.locator('section.preview');

  // Nothing to preview while the form has problems.
  await preview.getByText('Fix the highlighted fields to see the request.').waitFor();
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Endpoint URL', { exact: true }).fill(`${receiver.url}${path}`);
  await form.getByRole('button', { name: 'Add header', exact: true }).click();
  await form.getByLabel('Header name', { exact: true }).fill('X-Api-Key');
  await form.getByLabel('Header value', { exact: true }).fill(secretValue);
  await form.getByLabel('Secret', { exact: true }).check();

  // One input of every type.
  const region = await addInput(form, { key: 'region', label: 'Region', type: 'select' });
  await region.getByLabel('Options', { exact: true }).fill('eu-west\nus-east');
  await region.getByLabel('Default (optional)', { exact: true }).selectOption('us-east');
  await addInput(form, { key: 'version', label: 'Version', type: 'string', required: true });
  const reason = await addInput(form, { key: 'reason', label: 'Reason', type: 'text' });
  await reason.getByLabel('Default (optional)', { exact: true }).fill('Bad deploy');
  const count = await addInput(form, { key: 'count', label: 'Replicas', type: 'number' });
  await count.getByLabel('Min (optional)', { exact: true }).fill('1');
  await count.getByLabel('Max (optional)', { exact: true }).fill('5');
  await count.getByLabel('Default (optional)', { exact: true }).fill('2');
  const dryRun = await addInput(form, { key: 'dry_run', label: 'Dry run', type: 'boolean' });
  await dryRun.getByLabel('Ticked by default', { exact: true }).check();

  // A problem in an input is shown next to its field, and holds the preview back.
  await count.getByLabel('Max (optional)', { exact: true }).fill('many');
  await count.getByText('Max must be a number').waitFor();
  await preview.getByText('Fix the highlighted fields to see the request.').waitFor();
  await count.getByLabel('Max (optional)', { exact: true }).fill('5');

  // The default payload first, rendered against the service's latest incident.
  const body = preview.locator('pre.preview-body');
  await eventually(async () => assert.match(await body.textContent(), /"event_type": "incident\.custom_action"/));
  assert.equal((await preview.locator('.preview-against').textContent()).trim(), `Rendered against #${incident.number} ${title}`);

  // The secret header reads [redacted]; its value is nowhere on the page.
  const apiKey = preview.locator('dt', { hasText: 'X-Api-Key' }).locator('xpath=following-sibling::dd[1]');
  assert.equal((await apiKey.textContent()).trim(), '[redacted]');
  assert.ok(!(await page.locator('body').textContent()).includes(secretValue), 'no secret value in the page text');

  // A template using an incident field and inputs; the preview follows it.
  const template = form.getByLabel('Body template (optional)', { exact: true });
  await template.fill('{"title": "{{ incident.title }}", "region": "{{ inputs.region }}", "version": ""}');
  await eventually(async () => {
    const shown = JSON.parse(await body.textContent());
    assert.deepEqual(shown, { title, region: 'us-east', version: '' });
  });
  // A variable goes in at the cursor with one press.
  await template.evaluate((el) => {
    const at = el.value.indexOf('""') + 1;
    el.focus();
    el.setSelectionRange(at, at);
  });
  await form.getByRole('button', { name: 'Insert inputs.version', exact: true }).click();
  assert.equal(
    await template.inputValue(),
    '{"title": "{{ incident.title }}", "region": "{{ inputs.region }}", "version": "{{ inputs.version }}"}',
  );
  await template.fill('{"title": "{{ incident.title }}", "region": "{{ inputs.region }}", "count": {{ inputs.count }}, "dry_run": {{ inputs.dry_run | tojson }}}');
  await eventually(async () => {
    const shown = JSON.parse(await body.textContent());
    assert.deepEqual(shown, { title, region: 'us-east', count: 2, dry_run: true });
  });
  // The body is text: indented JSON, never markup.
  assert.match(await body.textContent(), /^\{\n {2}"title": /);

  // A broken template: the worker's message, with its line, under the box.
  await template.fill('{\n"title": "{{ incident.title "\n}');
  const templateError = form.locator('#action-body-template-error');
  await eventually(async () => assert.match(await templateError.textContent(), /Line \d+/));
  assert.equal(await template.getAttribute('aria-invalid'), 'true');
  await preview.locator('.preview-error').waitFor();

  // The deadline starts at the longest, 16 s; one past it is refused next to the field.
  const deadline = form.getByLabel('Deadline (seconds)', { exact: true });
  assert.equal(await deadline.inputValue(), '16');
  await deadline.fill('17');
  await form.locator('#action-timeout-ms-error').getByText('The deadline must be 1 to 16 seconds (1000 to 16000 ms)').waitFor();
  await deadline.fill('5');

  // Fixed, it previews again, and the action saves.
  const finalTemplate = '{"title": "{{ incident.title }}", "region": "{{ inputs.region }}", "version": "{{ inputs.version }}", "count": {{ inputs.count }}}';
  await template.fill(finalTemplate);
  await eventually(async () => assert.equal(JSON.parse(await body.textContent()).count, 2));
  assert.equal(await template.getAttribute('aria-invalid'), 'false');
  await form.getByRole('button', { name: 'Create action', exact: true }).click();
  const panel = page.locator('section.notice.secret');
  await panel.getByRole('heading', { name: `Signing secret for “${name}”` }).waitFor();
  const signingSecret = (await panel.locator('code.key').textContent()).trim();
  await receiver.addSecret(signingSecret);
  await panel.getByRole('button', { name: 'I have saved it' }).click();

  const saved = (await api(worker).listActions(service.id)).json.actions.find((a) => a.name === name);
  assert.equal(saved.timeout_ms, 5000, 'the deadline typed in seconds is saved in milliseconds');
  assert.equal(saved.body_template, finalTemplate);
  assert.deepEqual(saved.inputs.map((i) => [i.key, i.type]), [
    ['region', 'select'], ['version', 'string'], ['reason', 'text'], ['count', 'number'], ['dry_run', 'boolean'],
  ]);
  assert.deepEqual(saved.inputs[3], { key: 'count', label: 'Replicas', type: 'number', required: false, default: 2, min: 1, max: 5 });

  // The run dialog shows the request that will be sent once the values are valid.
  await page.goto(`${worker.baseUrl}/incidents/${incident.id}`);
  await page.getByRole('button', { name, exact: true }).click();
  const dialog = page.locator('.run-dialog');
  await dialog.waitFor();
  await dialog.locator('summary', { hasText: 'The request that will be sent' }).click();
  await dialog.getByText('Fill in the required fields to see the request.').waitFor();
  await dialog.getByLabel('Version', { exact: true }).fill('v42');
  await dialog.getByLabel('Region (optional)', { exact: true }).selectOption('eu-west');
  const dialogBody = dialog.locator('pre.preview-body');
  const expected = { title, region: 'eu-west', version: 'v42', count: 2 };
  await eventually(async () => assert.deepEqual(JSON.parse(await dialogBody.textContent()), expected));
  const dialogKey = dialog.locator('dt', { hasText: 'X-Api-Key' }).locator('xpath=following-sibling::dd[1]');
  assert.equal((await dialogKey.textContent()).trim(), '[redacted]');
  assert.ok(!(await page.locator('body').textContent()).includes(secretValue), 'no secret value in the dialog');

  // The action works: the endpoint gets the rendered body, signed, with the real secret.
  await receiver.clearDeliveries();
  await dialog.getByRole('button', { name: /^Run/ }).click();
  await page.locator('.run-result .result.ok').waitFor();
  const [delivery] = await eventually(async () => {
    const found = (await receiver.deliveries()).filter((d) => d.path === path);
    assert.equal(found.length, 1, 'one POST');
    return found;
  });
  assert.equal(delivery.verified, true, 'signed with the action’s secret');
  assert.deepEqual(JSON.parse(delivery.body), expected);
  assert.equal(delivery.headers['x-api-key'], secretValue);

  assert.deepEqual(pageProblems, []);
  await page.close();
});
