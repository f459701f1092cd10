// PagerDuty's own Python client (`pagerduty` on PyPI, installed by scripts/setup) drives
// the /pagerduty surface of the real worker: create, get, list with pagination, update,
// notes, log entries, services, a bulk update and a 404, each through the client's code.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';

import { api, paths } from './client.mjs';
import { createService, expectStatus, ROOT, timelineOf, unique, useWorld } from './harness.mjs';

const { worker } = useWorld();

test("PagerDuty's Python client creates, reads, pages, updates and annotates incidents here", { timeout: 120_000 }, async () => {
  const service = await createService(worker);
  const email = `${unique('py').replace(/\W+/g, '-')}@example.com`;
  const user = expectStatus(await api(worker).createUser({ name: 'Python client', email, role: 'responder' }), 201, 'user').json.user;
  const { stdout } = await promisify(execFile)(
    'python3',
    [path.join(ROOT, 'e2e/clients/pagerduty_rest.py'), worker.baseUrl, worker.token, service.id, email],
    { timeout: 90_000 },
  );
  const steps = Object.fromEntries(stdout.trim().split('\n').map((line) => {
    const { step, ...fields } = JSON.parse(line);
    return [step, fields];
  }));
  assert.equal(steps.create.status, 'triggered');
  assert.equal(steps.create.self, worker.baseUrl + paths.pdGetIncident(steps.create.id));
  assert.equal(steps.get.title, 'From the Python client');
  assert.match(steps.get.details, /^pagerduty \d/);
  assert.equal(steps.list.count, 1);
  assert.equal(steps.update.status, 'acknowledged');
  assert.equal(steps.note.content, 'via python');
  assert.deepEqual(steps.log.types, ['annotate_log_entry', 'acknowledge_log_entry', 'trigger_log_entry']);
  assert.ok(steps.services.ids.includes(service.id));
  assert.deepEqual(steps.bulk.statuses, ['resolved']);
  assert.equal(steps.missing.status, 404);
  const log = await timelineOf(worker, steps.create.id);
  assert.equal(log[0].summary, `Created by ${user.name}`, 'From named the user acting for the ADMIN_TOKEN');
});
