// Who sees what, on every surface: every GET route of the route table
// (shared/fixtures/authorization.json, both `/api` and `/pagerduty`) is called as every
// role that may call it, and every service, action, action summary, incident, timeline
// entry and run found anywhere in each answer is checked against the rules of
// shared/src/view.rs (exported to shared/fixtures/views.json): what a role may not see is
// absent, null or empty. Nothing about the routes is written here, so a new route is
// checked as soon as it is in the table.
//
// The world is made so that the owner sees every withheld field filled somewhere (a run
// with inputs, a reply summary and an ignored reply field, a redelivered run with
// attempts, a failing endpoint, a change event before the incident); the last test
// asserts that, so no check here passes for want of data.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';

import { api } from './client.mjs';
import {
  createAction,
  createService,
  expectStatus,
  newMember,
  ROOT,
  triggerIncident,
  useWorld,
} from './harness.mjs';

const TABLE = JSON.parse(fs.readFileSync(path.join(ROOT, 'shared/fixtures/authorization.json'), 'utf8'));
const KINDS = JSON.parse(fs.readFileSync(path.join(ROOT, 'shared/fixtures/views.json'), 'utf8'));
const ROLES = TABLE.roles;
const rank = (role) => ROLES.indexOf(role);
/** A run's line as a role below responder reads it: the action and the status, no more. */
const BARE_RUN_LINE = /^Ran "[^"]*": [a-z_]+$/;
/**
 * Withheld fields that no GET answer can carry, so the owner's answers cannot show them
 * filled: the signing secret is revealed once, in the answer to create and rotate; a
 * previewed request is the answer of a POST that only managers may call.
 */
const NEVER_IN_A_GET = new Set(['action signing_secret', ...KINDS.previewed_request.withheld.stakeholder.map((p) => `previewed_request ${p}`)]);

const { worker, receiver, ready } = useWorld();
const ids = {};
const members = {};

before(async () => {
  await ready;
  const service = await createService(worker);
  expectStatus(
    await api(worker).changeEnqueue(
      { routing_key: service.routing_key, payload: { summary: 'Deployed checkout v41', source: 'ci' } },
      { token: null },
    ),
    202,
    'a change event',
  );
  const replying = await createAction(worker, service.id, {
    endpoint_url: `${receiver.url}/reply?json=${encodeURIComponent('{"summary": "Rolled back", "note": 5}')}`,
    accept_reply: true,
    inputs: [{ key: 'version', label: 'Version', type: 'string', required: true }],
    headers: [{ name: 'X-Team', value: 'payments', secret: false }],
    body_template: '{"title": "{{ incident.title }}", "version": "{{ inputs.version }}"}',
  });
  const flaky = await createAction(worker, service.id, { endpoint_url: `${receiver.url}/flaky` });
  for (const action of [replying, flaky]) await receiver.addSecret(action.signing_secret);
  const incident = await triggerIncident(worker, service);
  const run = (action, body) => api(worker).runAction(incident.id, action.id, body);
  const replied = expectStatus(await run(replying, { inputs: { version: 'v40' } }), 201, 'run').json.run;
  assert.ok(replied.summary && replied.reply_error && replied.inputs, JSON.stringify(replied));
  const failed = expectStatus(await run(flaky), 201, 'flaky run').json.run;
  expectStatus(await api(worker).redeliver(failed.id, {}), 201, 'redeliver');
  // The endpoint's latest run failed: its health has something to withhold.
  expectStatus(await run(flaky), 201, 'a failing run');
  Object.assign(ids, { service: service.id, action: replying.id, incident: incident.id, run: failed.id });
  for (const role of ROLES) members[role] = await newMember(worker, role);
  ids.user = members.stakeholder.user.id;
  ids.token = 'tok_unused';
});

/** Every object in `value`, nested ones too. */
function* objects(value) {
  if (Array.isArray(value)) {
    for (const item of value) yield* objects(item);
  } else if (value && typeof value === 'object') {
    yield value;
    for (const item of Object.values(value)) yield* objects(item);
  }
}

/** The kinds `object` is an instance of, by the keys it always has and never has. */
const kindsOf = (object) =>
  Object.entries(KINDS)
    .filter(([, kind]) => kind.has.every((key) => key in object) && !kind.lacks.some((key) => key in object))
    .map(([name]) => name);

/** The values at a dotted path, `[]` meaning every item of a list. */
function at(object, dotted) {
  let values = [object];
  for (const part of dotted.split('.')) {
    const listed = part.endsWith('[]');
    const key = listed ? part.slice(0, -2) : part;
    values = values.flatMap((value) => {
      const found = value?.[key];
      return listed ? (Array.isArray(found) ? found : []) : [found];
    });
  }
  return values;
}

const empty = (value) =>
  value === undefined ||
  value === null ||
  value === 0 ||
  value === '' ||
  (Array.isArray(value) && value.length === 0) ||
  (typeof value === 'object' && Object.keys(value).length === 0);

const reads = TABLE.routes.filter((route) => route.method === 'GET' && route.needs !== 'open');
/** `kind path` → whether the owner saw it filled somewhere. */
const filledForOwner = new Set();

describe('every answer holds exactly what its viewer may see', () => {
  test('the table has reads on both surfaces, and the rules cover every kind', () => {
    assert.ok(reads.some((r) => r.path.startsWith('/pagerduty')) && reads.length >= 20, reads.length);
    assert.deepEqual(Object.keys(KINDS).sort(), ['action', 'action_summary', 'incident', 'log_entry', 'previewed_request', 'run', 'service']);
  });

  for (const role of ROLES) {
    test(`${role}: every read route withholds what a ${role} may not see`, async () => {
      let checked = 0;
      for (const { path: template, minimum_role: minimum } of reads) {
        if (rank(role) < rank(minimum)) continue;
        const urlPath = template.replace(/\{(\w+)\}/g, (_, name) => ids[name]);
        const res = await worker.api('GET', urlPath, undefined, { authorization: `Bearer ${members[role].token}` });
        assert.equal(res.status, 200, `${role} GET ${urlPath}: ${res.text.slice(0, 300)}`);
        for (const object of objects(res.json)) {
          for (const kind of kindsOf(object)) {
            checked += 1;
            for (const withheld of KINDS[kind].withheld[role]) {
              for (const value of at(object, withheld)) {
                assert.ok(empty(value), `${role} GET ${urlPath}: ${kind}.${withheld} = ${JSON.stringify(value)}`);
              }
            }
            if (role === 'owner') {
              for (const withheld of KINDS[kind].withheld.stakeholder) {
                if (at(object, withheld).some((value) => !empty(value))) filledForOwner.add(`${kind} ${withheld}`);
              }
            }
          }
          // A run's line, on either surface (PagerDuty's `custom_action_log_entry`).
          const runLine = object.type === 'action_run' || object.type === 'custom_action_log_entry';
          if (runLine && rank(role) < rank('responder')) {
            assert.match(object.summary, BARE_RUN_LINE, `${role} GET ${urlPath}: a run line`);
          }
          if (runLine && role === 'owner' && !BARE_RUN_LINE.test(object.summary)) filledForOwner.add(`${urlPath.split('/')[1]} run line`);
        }
      }
      assert.ok(checked > 0, `${role} saw something to check`);
    });
  }

  test("the owner saw every withheld field filled, so every check above could fail", () => {
    const missing = [];
    for (const [kind, rules] of Object.entries(KINDS)) {
      for (const withheld of rules.withheld.stakeholder) {
        const key = `${kind} ${withheld}`;
        if (!filledForOwner.has(key) && !NEVER_IN_A_GET.has(key)) missing.push(key);
      }
    }
    assert.deepEqual(missing, []);
    assert.ok(filledForOwner.has('api run line') && filledForOwner.has('pagerduty run line'), [...filledForOwner].join(', '));
  });
});
