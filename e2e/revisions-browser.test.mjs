// Issue 7 in Chromium: two people changing the same action, and a run whose outcome the
// worker could not record.
//
// - Edit conflict: the edit form names the revision it was opened on. When the action was
//   changed through the API meanwhile, saving in the page shows the conflict inside the
//   form, loads the other version, and a second save lands on top of it.
// - Outcome not recorded: a second worker runs with FAULT_INJECTION=run_record_fails, which
//   makes every write of a run's final record fail after the endpoint has answered. That
//   is the one mock in these tests: a D1 write failure cannot be produced on demand under
//   `wrangler dev`, and the page's answer to it is what matters here. The page must say
//   the endpoint was called, name the run, and not send again without asking.
//
// Needs dist/ (trunk build) and Chromium at $CHROMIUM_PATH (default /usr/bin/chromium).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { api } from './client.mjs';
import {
  createAction,
  createService,
  eventually,
  expectStatus,
  signIn,
  sleep,
  triggerIncident,
  unique,
  useWorld,
  watchPage,
} from './harness.mjs';

/** Never called: creating and editing an action does not reach its endpoint. */
const ENDPOINT = 'https://hooks.example.com/restart';
const RUN_AGAIN_QUESTION = "The last run's outcome is not recorded. Run it again anyway?";

const { worker, browser } = useWorld({ browser: { viewport: { width: 1200, height: 900 } }, receiver: false });
/** A worker whose run records fail to be written, and the receiver its runs reach. */
const { worker: faulty, receiver } = useWorld({ vars: { FAULT_INJECTION: 'run_record_fails' } });
/** Uncaught exceptions and console errors of the pages, checked at the end of each test. */
const pageProblems = [];

/** Watches a page for problems (see `watchPage`). */
function watch(page, expected) {
  watchPage(page, pageProblems, expected);
}


async function readAction(target, serviceId, actionId) {
  const res = await api(target).getAction(serviceId, actionId);
  return expectStatus(res, 200, 'get action').json.action;
}

test('a save that met someone else’s change says so, loads their version and saves on top of it', { timeout: 90_000 }, async () => {
  const service = await createService(worker);
  const original = unique('Restart');
  const action = await createAction(worker, service.id, {
    name: original,
    endpoint_url: ENDPOINT,
    description: 'Restarts the web tier',
  });
  const start = action.revision;
  assert.equal(typeof start, 'number', `a revision on the created action: ${JSON.stringify(action)}`);

  const page = await browser.context.newPage();
  // The first save answers 409 on purpose.
  watch(page, /status of (401|409)/);
  await signIn(page, worker);
  await page.goto(`${worker.baseUrl}/services/${service.id}/actions`);
  await page.getByRole('heading', { name: original, exact: true }).waitFor();
  await page.getByRole('button', { name: `Edit ${original}`, exact: true }).click();
  const form = page.locator('form', { has: page.getByRole('heading', { name: `Edit “${original}”` }) });
  await form.waitFor();
  const description = form.getByLabel('Description', { exact: true });
  await description.fill('Restarts web and workers');

  // Meanwhile someone else renames it through the API, at the revision it had.
  const theirName = unique('Restart (theirs)');
  const theirs = expectStatus(
    await api(worker).updateAction(service.id, action.id, { name: theirName, revision: start }),
    200,
    'their edit',
  ).json.action;
  assert.equal(theirs.revision, start + 1);

  // The page's save is refused, says why inside the form, and loads their version.
  await form.getByRole('button', { name: 'Save changes', exact: true }).click();
  const conflict = form.locator('.edit-conflict[role="alert"]');
  await conflict.waitFor();
  const said = await conflict.textContent();
  assert.match(said, new RegExp(`it is now revision ${start + 1}\\b`), said);
  assert.match(said, /Their version is loaded below/, said);
  await eventually(async () => assert.equal(await form.getByLabel('Name', { exact: true }).inputValue(), theirName));
  assert.equal(await description.inputValue(), 'Restarts the web tier', 'the form shows their version');
  const between = await readAction(worker, service.id, action.id);
  assert.equal(between.name, theirName, 'the refused save changed nothing');
  assert.equal(between.description, 'Restarts the web tier');
  assert.equal(between.revision, start + 1);

  // Made again on top of theirs, the change saves.
  await description.fill('Restarts web and workers');
  await form.getByRole('button', { name: 'Save changes', exact: true }).click();
  await page.getByText(`Action “${theirName}” saved.`).waitFor();
  await form.waitFor({ state: 'detached' });
  const saved = await readAction(worker, service.id, action.id);
  assert.equal(saved.name, theirName, 'their rename stays');
  assert.equal(saved.description, 'Restarts web and workers', 'the page’s change is applied');
  assert.equal(saved.revision, start + 2);
  const card = page.locator('li.card.action', { has: page.getByRole('heading', { name: theirName, exact: true }) });
  await card.getByText(`Revision ${start + 2}`, { exact: true }).waitFor();

  assert.deepEqual(pageProblems, []);
  await page.close();
});

test('a run whose outcome could not be recorded warns, names the run, and asks before running again', { timeout: 90_000 }, async () => {
  const service = await createService(faulty);
  const name = unique('Restart');
  await createAction(faulty, service.id, { name, endpoint_url: `${receiver.url}/ok` });
  const incident = await triggerIncident(faulty, service);
  await receiver.clearDeliveries();
  const delivered = async () => (await receiver.deliveries()).filter((d) => d.path === '/ok');

  const page = await browser.context.newPage();
  watch(page);
  await signIn(page, faulty);
  await page.goto(`${faulty.baseUrl}/incidents/${incident.id}`);
  const button = page.getByRole('button', { name, exact: true });
  await button.waitFor();
  await button.click();

  // The endpoint was called; its answer is shown as what the worker saw, under a warning.
  const item = page.locator('li', { has: button });
  const warning = item.locator('.run-result .outcome-unrecorded[role="alert"]');
  await warning.waitFor();
  const text = await warning.textContent();
  assert.match(text, /The endpoint was called \(it answered HTTP 200\)/, text);
  assert.match(text, /Do not run it again/, text);
  const runId = /\((run_[^)\s]+)\)/.exec(text)?.[1];
  assert.ok(runId, `the warning names the run: ${text}`);
  const deliveries = await eventually(async () => {
    const found = await delivered();
    assert.equal(found.length, 1, 'one click, one POST');
    return found;
  });
  assert.equal(deliveries[0].headers['webhook-id'], runId, 'the run named is the one delivered');

  // The next click asks first, and sends nothing by itself.
  assert.equal(await button.isDisabled(), false);
  await button.click();
  const question = item.getByText(RUN_AGAIN_QUESTION);
  await question.waitFor();
  const runAgain = item.getByRole('button', { name: 'Run again', exact: true });
  await eventually(async () =>
    assert.equal(await runAgain.evaluate((el) => el === document.activeElement), true, 'the question takes focus'),
  );
  await sleep(1000);
  assert.equal((await delivered()).length, 1, 'asking sent nothing');
  // Backing out keeps it that way, and focus goes back to the button.
  await page.keyboard.press('Escape');
  await question.waitFor({ state: 'detached' });
  await eventually(async () =>
    assert.equal(await button.evaluate((el) => el === document.activeElement), true, 'focus is back on the button'),
  );
  assert.equal((await delivered()).length, 1, 'cancelling sent nothing');
  await warning.waitFor();

  assert.deepEqual(pageProblems, []);
  await page.close();
});
