// Secrets at rest: signing secrets and secret header values are sealed with AES-256-GCM
// before they reach KV, so the raw local storage (KV blobs and the D1 database files under
// the worker's --persist-to folder) never holds them; and rotating ENCRYPTION_KEY keeps
// existing actions working.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';

import { api } from './client.mjs';
import { createAction, createService, startWorker, triggerIncident, unique, useWorld } from './harness.mjs';

const { worker, receiver } = useWorld();
/** The workers the rotation test starts itself, on the same data one after the other. */
const workers = [];
after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
});

/** Every byte the worker stored locally, file by file. */
function storedFiles(dir) {
  const files = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...storedFiles(full));
    else if (entry.isFile()) files.push({ file: full, bytes: fs.readFileSync(full) });
  }
  return files;
}

function filesContaining(dir, needle) {
  return storedFiles(dir)
    .filter(({ bytes }) => bytes.includes(Buffer.from(needle)))
    .map(({ file }) => path.relative(dir, file));
}

test('no secret header value or signing secret is in the raw KV or D1 storage', async () => {
  const secretValue = unique('Bearer sealed-value').replace(/\s/g, '-');
  const plainValue = unique('visible-team').replace(/\s/g, '-');
  const service = await createService(worker);
  const action = await createAction(worker, service.id, {
    endpoint_url: `${receiver.url}/ok`,
    headers: [
      { name: 'Authorization', value: secretValue, secret: true },
      { name: 'X-Team', value: plainValue },
    ],
  });
  await receiver.addSecret(action.signing_secret);
  const incident = await triggerIncident(worker, service);
  const run = await api(worker).runAction(incident.id, action.id);
  assert.equal(run.status, 201, run.text);
  assert.equal(run.json.run.status, 'succeeded', 'the sealed secrets still sign and send');
  const delivered = (await receiver.deliveries()).find((d) => d.headers['webhook-id'] === run.json.run.id);
  assert.equal(delivered.headers.authorization, secretValue, 'the endpoint gets the real value');
  assert.equal(delivered.verified, true);

  // Positive control: the scan does read what KV stored, so an absence below means something.
  assert.ok(filesContaining(worker.persistDir, plainValue).length > 0, 'non-secret header value found in storage');
  assert.deepEqual(filesContaining(worker.persistDir, secretValue), [], 'secret header value stored in the clear');
  assert.deepEqual(filesContaining(worker.persistDir, action.signing_secret), [], 'signing secret stored in the clear');
  const rawSecret = Buffer.from(action.signing_secret.slice('whsec_'.length), 'base64').toString('base64url');
  assert.deepEqual(filesContaining(worker.persistDir, rawSecret), [], 'signing secret stored re-encoded');
});

test('after rotating ENCRYPTION_KEY, existing actions still open, sign and send', async () => {
  const first = await startWorker();
  const service = await createService(first);
  const secretValue = unique('rotated-secret').replace(/\s/g, '-');
  const action = await createAction(first, service.id, {
    endpoint_url: `${receiver.url}/ok`,
    headers: [{ name: 'X-Api-Key', value: secretValue, secret: true }],
  });
  await receiver.addSecret(action.signing_secret);
  const incident = await triggerIncident(first, service);
  await first.stop({ keepData: true });

  const newKey = Buffer.alloc(32, 9).toString('base64');
  const rotated = await startWorker({
    persistDir: first.persistDir,
    vars: { ENCRYPTION_KEY: newKey, ENCRYPTION_KEYS_PREVIOUS: first.encryptionKey },
  });
  workers.push(rotated);
  const run = await api(rotated).runAction(incident.id, action.id);
  assert.equal(run.status, 201, run.text);
  const delivered = (await receiver.deliveries()).find((d) => d.headers['webhook-id'] === run.json.run.id);
  assert.equal(delivered.verified, true, 'signed with the secret sealed under the old key');
  assert.equal(delivered.headers['x-api-key'], secretValue);

  // Without the previous key the old values cannot be opened: the action is refused as
  // unreadable (409, saying what fixes it) and nothing is sent; never a wrong signature.
  await rotated.stop({ keepData: true });
  const forgetful = await startWorker({ persistDir: first.persistDir, vars: { ENCRYPTION_KEY: newKey } });
  workers.push(forgetful);
  const refused = await api(forgetful).runAction(incident.id, action.id);
  assert.equal(refused.status, 409, refused.text);
  assert.equal(refused.json.error.code, 'action_unreadable');
  assert.match(refused.json.error.message, /encryption key/);
  assert.ok(!refused.text.includes(secretValue));
});
