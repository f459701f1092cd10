// Actions that ask first: typed inputs, a confirmation and an availability rule, checked
// by the real worker before anything is sent. Every refusal (422 invalid_inputs, 428
// confirmation_required, 409 action_not_available) sends nothing and records nothing; an
// accepted run sends its checked values as `event.inputs` and keeps them on its record.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { api } from './client.mjs';
import {
  assertApiError,
  createService,
  expectStatus,
  fieldErrors,
  startWorker,
  timelineOf,
  triggerIncident,
  unique,
  useWorld,
} from './harness.mjs';

const { worker, receiver } = useWorld();

const ROLL_BACK_INPUTS = [
  { key: 'region', label: 'Region', type: 'select', required: true, options: ['eu-west', 'us-east'], default: 'eu-west' },
  { key: 'version', label: 'Version', type: 'string', required: true, help: 'The tag to roll back to' },
  { key: 'replicas', label: 'Replicas', type: 'number', min: 1, max: 10, default: 3 },
  { key: 'dry_run', label: 'Dry run', type: 'boolean', default: false },
  { key: 'reason', label: 'Reason', type: 'text' },
];

/** A service, an incident and a "Roll back" action asking for inputs and confirmation. */
async function rollBack(extra = {}) {
  const service = await createService(worker);
  const path = `/rules/${unique('p').replace(/\W+/g, '-')}`;
  const created = expectStatus(
    await api(worker).createAction(service.id, {
      name: 'Roll back',
      endpoint_url: `${receiver.url}${path}`,
      inputs: ROLL_BACK_INPUTS,
      confirm: { message: 'Rolls production back', type_to_confirm: true },
      available_when: { statuses: ['triggered', 'acknowledged'] },
      ...extra,
    }),
    201,
    'create action',
  ).json.action;
  await receiver.addSecret(created.signing_secret);
  const incident = await triggerIncident(worker, service);
  return { service, action: created, incident, path };
}

const run = (incident, action, body) => api(worker).runAction(incident.id, action.id, body);

async function nothingSentOrRecorded(incident, path, what) {
  assert.equal((await receiver.deliveries()).filter((d) => d.path === path).length, 0, `${what}: nothing sent`);
  const runs = expectStatus(await api(worker).listRuns(incident.id), 200, 'runs').json.runs;
  assert.deepEqual(runs, [], `${what}: nothing recorded`);
  const log = await timelineOf(worker, incident.id);
  assert.equal(log.filter((e) => e.type === 'action_run').length, 0, `${what}: no timeline line`);
}

describe('an action that asks first', () => {
  test('keeps its inputs, confirmation and rule, and shows them to responders on the incident', async () => {
    const { action, incident } = await rollBack();
    assert.equal(action.inputs.length, 5);
    assert.deepEqual(action.confirm, { message: 'Rolls production back', type_to_confirm: true });
    assert.deepEqual(action.available_when, { statuses: ['triggered', 'acknowledged'] });
    const [button] = incident.actions;
    assert.equal(button.id, action.id);
    assert.deepEqual(button.inputs.map((i) => i.key), ['region', 'version', 'replicas', 'dry_run', 'reason']);
    assert.equal(button.confirm.type_to_confirm, true);
  });

  test('bad definitions are 422 with a message per field, and nothing is created', async () => {
    const service = await createService(worker);
    const res = await api(worker).createAction(service.id, {
      name: 'Bad',
      endpoint_url: `${receiver.url}/ok`,
      inputs: [
        { key: 'Region', label: 'Region', type: 'string' },
        { key: 'pick', label: 'Pick', type: 'select', options: [] },
        { key: 'pick', label: '', type: 'number', min: 5, max: 1 },
      ],
      confirm: { message: '' },
      available_when: { statuses: [] },
    });
    const fields = fieldErrors(res, 'bad definitions');
    for (const field of [
      'inputs[0].key',
      'inputs[1].options',
      'inputs[2].key',
      'inputs[2].label',
      'inputs[2].max',
      'confirm.message',
      'available_when.statuses',
    ]) {
      assert.ok(fields[field], `${field} in ${JSON.stringify(fields)}`);
    }
    const listed = expectStatus(await api(worker).listActions(service.id), 200, 'list').json.actions;
    assert.deepEqual(listed, []);
  });

  test('without "confirmed": true it is 428 with the message, and nothing is sent or recorded', async () => {
    const { action, incident, path } = await rollBack();
    const refused = await run(incident, action, { inputs: { version: 'v41' } });
    const error = assertApiError(refused, 428, 'confirmation_required', 'unconfirmed run');
    assert.match(error.message, /Rolls production back/);
    await nothingSentOrRecorded(incident, path, 'unconfirmed');
  });

  test('unknown keys, missing required values and wrong types are 422 invalid_inputs per field', async () => {
    const { action, incident, path } = await rollBack();
    const refused = await run(incident, action, {
      confirmed: true,
      inputs: { region: 'mars', replicas: 11, dry_run: 'yes', colour: 'red' },
    });
    const error = assertApiError(refused, 422, 'invalid_inputs', 'bad values');
    const fields = Object.fromEntries(error.fields.map((f) => [f.field, f.message]));
    assert.deepEqual(Object.keys(fields).sort(), ['inputs.colour', 'inputs.dry_run', 'inputs.region', 'inputs.replicas', 'inputs.version']);
    assert.equal(fields['inputs.version'], 'Version is required');
    assert.equal(fields['inputs.replicas'], 'Replicas must be at most 10');
    await nothingSentOrRecorded(incident, path, 'bad values');
  });

  test('an incident it does not apply to does not list it, and a run is 409 naming the rule', async () => {
    const { action, incident, path } = await rollBack();
    expectStatus(await api(worker).resolve(incident.id), 200, 'resolve');
    const resolved = expectStatus(await api(worker).getIncident(incident.id), 200, 'incident').json.incident;
    assert.deepEqual(resolved.actions, [], 'a resolved incident does not offer "Roll back"');
    const refused = await run(incident, action, { confirmed: true, inputs: { version: 'v41' } });
    const error = assertApiError(refused, 409, 'action_not_available', 'resolved incident');
    assert.match(error.message, /triggered or acknowledged/);
    await nothingSentOrRecorded(incident, path, 'not available');
  });

  test('a confirmed run with good values sends them as event.inputs, defaults filled in, and records them', async () => {
    const { action, incident, path } = await rollBack();
    const res = await run(incident, action, { confirmed: true, inputs: { version: 'v41', dry_run: true } });
    assert.equal(res.status, 201, res.text);
    const expected = { region: 'eu-west', version: 'v41', replicas: 3, dry_run: true };
    assert.deepEqual(res.json.run.inputs, expected);
    const [delivery] = (await receiver.deliveries()).filter((d) => d.path === path);
    assert.equal(delivery.verified, true, 'signed');
    assert.deepEqual(JSON.parse(delivery.body).event.inputs, expected);
    const [stored] = expectStatus(await api(worker).listRuns(incident.id), 200, 'runs').json.runs;
    assert.deepEqual(stored.inputs, expected, 'the run record keeps the inputs');
    const log = await timelineOf(worker, incident.id);
    assert.deepEqual(log.find((e) => e.type === 'action_run').run.inputs, expected, 'and so does its timeline line');
  });

  test('a refused run does not count toward the rate limit', async () => {
    const limited = await startWorker({ vars: { RUNS_PER_MINUTE_PER_USER: '1' } });
    try {
      const service = await createService(limited);
      const action = expectStatus(
        await api(limited).createAction(service.id, {
          name: 'Confirm me',
          endpoint_url: `${receiver.url}/ok`,
          confirm: { message: 'Sure?' },
        }),
        201,
        'create',
      ).json.action;
      const incident = await triggerIncident(limited, service);
      const press = (body) => api(limited).runAction(incident.id, action.id, body);
      for (let i = 0; i < 3; i++) assertApiError(await press(), 428, 'confirmation_required', `refusal ${i}`);
      expectStatus(await press({ confirmed: true }), 201, 'the one allowed run');
      assertApiError(await press({ confirmed: true }), 429, 'rate_limited', 'past the limit');
    } finally {
      await limited.stop();
    }
  });

  test('PATCH replaces the rules, and null removes the confirmation', async () => {
    const { service, action, incident } = await rollBack();
    const patched = expectStatus(
      await api(worker).updateAction(service.id, action.id, { confirm: null, inputs: [] }),
      200,
      'patch',
    ).json.action;
    assert.equal(patched.confirm, null);
    assert.deepEqual(patched.inputs, []);
    assert.deepEqual(patched.available_when, { statuses: ['triggered', 'acknowledged'] }, 'left out: kept');
    expectStatus(await run(incident, action), 201, 'a plain run now');
  });
});
