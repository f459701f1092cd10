// Roles in Chromium: what each role sees and may press. A stakeholder sees the incident
// without action buttons; an observer sees its action button and Acknowledge disabled with
// the reason next to them; a responder runs the action; a manager renames it on the Custom
// Incident Actions page; an admin (the ADMIN_TOKEN's built-in owner) invites a user and
// makes them a token, seen once.
//
// The users, tokens, service, action and incident are made through the API with the
// ADMIN_TOKEN, as e2e/authz.test.mjs does; everything after that happens in the page.
// Needs dist/ (trunk build) and Chromium at $CHROMIUM_PATH (default /usr/bin/chromium).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { api } from './client.mjs';
import {
  createAction,
  createService,
  expectStatus,
  signIn,
  triggerIncident,
  unique,
  useWorld,
  watchPage,
} from './harness.mjs';

const { worker, receiver, browser } = useWorld({ browser: { viewport: { width: 1200, height: 900 } } });
/** Uncaught exceptions and console errors of the pages, checked at the end. */
const pageProblems = [];

/** Watches a page for problems (see `watchPage`). */
function watch(page, expected) {
  watchPage(page, pageProblems, expected);
}

/** A user with `role` and a token of theirs, made with the ADMIN_TOKEN. */
async function userWithToken(role) {
  const name = unique(role[0].toUpperCase() + role.slice(1));
  const email = `${role}-${process.pid}-${Date.now()}@example.com`;
  const user = expectStatus(await api(worker).createUser({ name, email, role }), 201, `create ${role}`).json
    .user;
  const token = expectStatus(
    await api(worker).createToken(user.id, { label: 'browser' }),
    201,
    `token of ${role}`,
  ).json.token;
  return { user, secret: token.secret };
}


async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL(/\/sign-in/);
}

async function assertNoHorizontalScroll(page, what) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.ok(scrollWidth <= innerWidth, `${what}: page is ${scrollWidth}px wide in a ${innerWidth}px window`);
}

async function openIncident(page, incident) {
  await page.goto(`${worker.baseUrl}/incidents/${incident.id}`);
  await page.getByRole('heading', { name: new RegExp(incident.title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), level: 1 }).waitFor();
}

test('an observer sees disabled controls with the reason, a responder runs, a manager edits', { timeout: 10 * 60_000 }, async () => {
  const [stakeholder, observer, responder, manager] = [
    await userWithToken('stakeholder'),
    await userWithToken('observer'),
    await userWithToken('responder'),
    await userWithToken('manager'),
  ];
  const service = await createService(worker);
  const actionName = unique('Restart');
  const secretHeaderValue = `Bearer ${unique('browser-secret').replace(/\W+/g, '-')}`;
  const action = await createAction(worker, service.id, {
    name: actionName,
    endpoint_url: `${receiver.url}/ok`,
    headers: [{ name: 'Authorization', value: secretHeaderValue, secret: true }],
  });
  const incident = await triggerIncident(worker, service);

  const page = await browser.context.newPage();
  watch(page);

  // --- Stakeholder: the incident and its timeline, no action buttons, no services. ----------
  await signIn(page, worker, { token: stakeholder.secret, who: `${stakeholder.user.name} (stakeholder)` });
  await page.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
  assert.equal(
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Services' }).count(),
    0,
    'no Services link for a stakeholder',
  );
  await openIncident(page, incident);
  await page.getByRole('heading', { name: 'Timeline', exact: true }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Custom actions', exact: true }).count(), 0);
  assert.equal(await page.getByRole('button', { name: actionName, exact: true }).count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Acknowledge', exact: true }).isDisabled(), true);
  await signOut(page);

  // --- Observer: sees everything it may read, presses nothing. -----------------------------
  await signIn(page, worker, { token: observer.secret, who: `${observer.user.name} (observer)` });
  const nav = page.getByRole('navigation', { name: 'Main' });
  assert.equal(await nav.getByRole('link', { name: 'Users' }).count(), 0, 'no Users link below admin');
  assert.equal(await nav.getByRole('link', { name: 'Audit' }).count(), 0, 'no Audit link below admin');
  await openIncident(page, incident);
  const runButton = page.getByRole('button', { name: actionName, exact: true });
  await runButton.waitFor();
  assert.equal(await runButton.isDisabled(), true, 'the action button is disabled for an observer');
  await page.getByText('Running actions needs responder or above; you are observer.').waitFor();
  const acknowledge = page.getByRole('button', { name: 'Acknowledge', exact: true });
  assert.equal(await acknowledge.isDisabled(), true, 'acknowledge is disabled for an observer');
  assert.equal(await page.getByRole('button', { name: 'Resolve', exact: true }).isDisabled(), true);
  await page.getByText('Acknowledging and resolving needs responder or above; you are observer.').waitFor();
  assert.equal(await page.getByLabel('Add a note', { exact: true }).isDisabled(), true, 'no notes from an observer');
  assert.equal(await page.getByRole('button', { name: 'Add note', exact: true }).isDisabled(), true);
  await page.getByText('Adding notes needs responder or above; you are observer.').waitFor();
  // The reason is what the disabled button's description points at.
  const describedBy = await acknowledge.getAttribute('aria-describedby');
  assert.match(await page.locator(`#${describedBy}`).textContent(), /needs responder/);
  // Actions page: read-only, with the reason.
  await page.goto(`${worker.baseUrl}/services/${service.id}/actions`);
  await page.getByRole('heading', { name: actionName }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'New action', exact: true }).isDisabled(), true);
  assert.equal(await page.getByRole('button', { name: `Edit ${actionName}`, exact: true }).isDisabled(), true);
  await page.getByText('Adding and changing actions needs manager or above; you are observer.').waitFor();
  await page.getByText('Changing actions needs manager or above; you are observer.').nth(1).waitFor();
  await page.getByText('Endpoint and headers are shown to managers and above.').waitFor();
  await signOut(page);

  // --- Responder: runs the action and sees the answer. -------------------------------------
  await signIn(page, worker, { token: responder.secret, who: `${responder.user.name} (responder)` });
  await openIncident(page, incident);
  const responderButton = page.getByRole('button', { name: actionName, exact: true });
  assert.equal(await responderButton.isDisabled(), false, 'a responder may run the action');
  await responderButton.click();
  const result = page.locator('li', { has: responderButton }).locator('.run-result');
  await result.getByText(/Succeeded/).waitFor();
  assert.match(await result.textContent(), /HTTP 200/);
  const deliveries = (await receiver.deliveries()).filter((d) => d.path === '/ok');
  assert.equal(deliveries.length, 1, 'one click, one POST');
  // What was sent, the secret header's value redacted.
  await result.getByText(/Request headers sent/).click();
  const authorization = result.locator('dt', { hasText: 'Authorization' }).locator('xpath=following-sibling::dd[1]');
  assert.equal((await authorization.textContent()).trim(), '[redacted]');
  assert.ok(!(await page.content()).includes(secretHeaderValue), 'the secret header value is on no page');
  // A note, line breaks kept, lands on the timeline.
  const note = `Restarted the web tier.\nWatching error rates <b>now</b>.`;
  await page.getByLabel('Add a note', { exact: true }).fill(note);
  await page.getByRole('button', { name: 'Add note', exact: true }).click();
  const noted = page.locator('.timeline .entry-note .entry-summary');
  await noted.waitFor();
  assert.equal(await noted.textContent(), note, 'the note is shown as typed, as text');
  assert.equal(await page.getByLabel('Add a note', { exact: true }).inputValue(), '', 'the box is cleared');
  // The services page says why the create form is off and hides routing keys.
  await page.goto(`${worker.baseUrl}/services`);
  await page.getByRole('heading', { name: service.name }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Create service', exact: true }).isDisabled(), true);
  await page.getByText('Creating services needs admin or above; you are responder.').first().waitFor();
  await page.getByText('The routing key is shown to managers and above.').first().waitFor();
  await signOut(page);

  // --- Manager: renames the action. ---------------------------------------------------------
  await signIn(page, worker, { token: manager.secret, who: `${manager.user.name} (manager)` });
  await page.goto(`${worker.baseUrl}/services/${service.id}/actions`);
  await page.getByRole('heading', { name: actionName }).waitFor();
  await page.getByRole('button', { name: `Edit ${actionName}`, exact: true }).click();
  const renamed = unique('Restart web');
  await page.getByLabel('Name', { exact: true }).fill(renamed);
  await page.getByRole('button', { name: 'Save changes', exact: true }).click();
  await page.getByText(`Action “${renamed}” saved.`).waitFor();
  await page.getByRole('heading', { name: renamed, exact: true }).waitFor();
  const stored = expectStatus(await api(worker).getAction(service.id, action.id), 200, 'get action');
  assert.equal(stored.json.action.name, renamed);
  await signOut(page);

  assert.deepEqual(pageProblems, []);
  await page.close();
});

test('an admin invites a user and makes them a token, shown once', { timeout: 5 * 60_000 }, async () => {
  const page = await browser.context.newPage();
  // The second invitation with the same e-mail answers 409 on purpose.
  watch(page, /status of (401|409)/);
  await signIn(page, worker, { token: worker.token, who: '' });
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Users', exact: true }).click();
  await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();

  const name = unique('Grace');
  const email = `grace-${process.pid}-${Date.now()}@example.com`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('E-mail', { exact: true }).fill(email);
  await page.locator('#user-role').selectOption('responder');
  await page.getByRole('button', { name: 'Create user', exact: true }).click();
  await page.getByText(`User “${name}” created.`, { exact: false }).waitFor();
  const card = page.locator('li.card.user').filter({ has: page.getByRole('heading', { name, exact: true }) });
  await card.waitFor();
  assert.match(await card.textContent(), /responder/);

  // The same e-mail again is refused, next to the field.
  await page.getByLabel('Name', { exact: true }).fill(unique('Twin'));
  await page.getByLabel('E-mail', { exact: true }).fill(email);
  await page.getByRole('button', { name: 'Create user', exact: true }).click();
  await page.locator('#user-email-error').filter({ hasText: /./ }).waitFor();

  // Readable on a phone: nothing wider than 375 px.
  await page.setViewportSize({ width: 375, height: 800 });
  await assertNoHorizontalScroll(page, 'users page');

  await card.getByRole('link', { name: `Tokens of ${name}` }).click();
  await page.getByRole('heading', { name: 'API tokens', level: 1 }).waitFor();
  await page.getByText('No tokens yet').waitFor();
  await page.getByLabel('Label', { exact: true }).fill('laptop');
  await page.getByRole('button', { name: 'Create token', exact: true }).click();
  const panel = page.locator('section.notice.secret');
  await panel.getByRole('heading', { name: 'Token “laptop”' }).waitFor();
  await assertNoHorizontalScroll(page, 'tokens page with the secret');
  const secret = (await panel.locator('code.key').textContent()).trim();
  assert.match(secret, /^iat_[A-Za-z0-9_-]{43}$/);
  await panel.getByRole('button', { name: 'I have saved it' }).click();
  await panel.waitFor({ state: 'detached' });
  const row = page.locator('li.card.token').filter({ hasText: 'laptop' });
  await row.waitFor();
  await assertNoHorizontalScroll(page, 'tokens page');
  assert.ok((await row.textContent()).includes(secret.slice(-4)), 'the list shows the last four');
  assert.ok(!(await page.content()).includes(secret), 'the secret is gone after the one-time reveal');

  // The token signs in, as that user.
  const session = await api(worker).getMe({ token: secret });
  assert.equal(session.status, 200);
  assert.equal(session.json.user.role, 'responder');

  // Revoke, after a confirmation, by keyboard: the question takes focus, Escape backs out
  // to the button that asked, and Enter on the step's button revokes.
  const revokeLaptop = row.getByRole('button', { name: 'Revoke laptop', exact: true });
  await revokeLaptop.focus();
  await page.keyboard.press('Enter');
  const confirmRevoke = row.getByRole('button', { name: 'Revoke token', exact: true });
  await confirmRevoke.waitFor();
  assert.equal(await confirmRevoke.evaluate((el) => el === document.activeElement), true, 'the question has focus');
  await page.keyboard.press('Escape');
  await confirmRevoke.waitFor({ state: 'detached' });
  assert.equal(await revokeLaptop.evaluate((el) => el === document.activeElement), true, 'focus is back on Revoke');
  await page.keyboard.press('Enter');
  await confirmRevoke.waitFor();
  await page.keyboard.press('Enter');
  await page.getByText('Token “laptop” revoked.').waitFor();
  const after = await api(worker).getMe({ token: secret });
  assert.equal(after.status, 401);

  assert.deepEqual(pageProblems, []);
  await page.close();
});
