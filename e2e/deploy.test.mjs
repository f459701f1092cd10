// scripts/deploy against an account (issue "Ready for production" §7): the real script,
// run in a copy of the repository's scripts, config and migrations, with wrangler
// replaced by e2e/fakes/wrangler-account.mjs. That stand-in is a mock: no Cloudflare
// account is reachable from this machine. What it checks is the script's own logic:
// first run, second run (only deploys), a first run cut off after creating the namespace,
// a look-alike namespace, and not being signed in. The build and the bundle are checked by
// `scripts/deploy --dry-run` in the test command.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';

import { ROOT } from './harness.mjs';

const FAKE = path.join(ROOT, 'e2e/fakes/wrangler-account.mjs');
let dir;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ia-deploy-'));
  fs.mkdirSync(path.join(dir, 'scripts'));
  for (const file of ['deploy', 'lib.sh']) {
    fs.copyFileSync(path.join(ROOT, 'scripts', file), path.join(dir, 'scripts', file));
  }
  fs.copyFileSync(path.join(ROOT, 'wrangler.toml'), path.join(dir, 'wrangler.toml'));
  fs.cpSync(path.join(ROOT, 'migrations'), path.join(dir, 'migrations'), { recursive: true });
  writeAccount({});
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeAccount(changes) {
  const account = {
    signed_in: true,
    worker_name: 'incident-actions',
    subdomain: 'acme',
    kv_namespaces: [],
    d1_databases: [],
    migrations_applied: [],
    secrets: {},
    deploys: [],
    calls: [],
    ...changes,
  };
  fs.writeFileSync(path.join(dir, 'account.json'), JSON.stringify(account));
}

const account = () => JSON.parse(fs.readFileSync(path.join(dir, 'account.json'), 'utf8'));
const config = () => fs.readFileSync(path.join(dir, 'wrangler.toml'), 'utf8');

function deploy(...args) {
  const result = spawnSync('bash', [path.join(dir, 'scripts/deploy'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    input: '',
    env: { ...process.env, IA_DEPLOY_FAKE_WRANGLER: FAKE, FAKE_ACCOUNT: path.join(dir, 'account.json') },
  });
  return { status: result.status, out: result.stdout + result.stderr };
}

const migrations = fs.readdirSync(path.join(ROOT, 'migrations')).filter((name) => name.endsWith('.sql')).sort();

test('a first run creates and records everything, sets the secrets, deploys and says how to start', () => {
  const first = deploy('--yes');
  assert.equal(first.status, 0, first.out);
  const after = account();

  assert.deepEqual(after.kv_namespaces.map((ns) => ns.title), ['incident-actions-CONFIG']);
  assert.deepEqual(after.d1_databases.map((db) => db.name), ['incident-actions']);
  assert.match(config(), new RegExp(`^id = "${after.kv_namespaces[0].id}"`, 'm'), 'KV id recorded');
  assert.match(config(), new RegExp(`^database_id = "${after.d1_databases[0].uuid}"`, 'm'), 'D1 id recorded');
  assert.deepEqual(after.migrations_applied, migrations);

  assert.deepEqual(Object.keys(after.secrets).sort(), ['ADMIN_TOKEN', 'ENCRYPTION_KEY']);
  assert.equal(Buffer.from(after.secrets.ENCRYPTION_KEY, 'base64').length, 32, 'a 256-bit key');
  assert.ok(first.out.includes(after.secrets.ADMIN_TOKEN), 'the new ADMIN_TOKEN is shown once');
  assert.ok(!first.out.includes(after.secrets.ENCRYPTION_KEY), 'the encryption key is never shown');

  // Deployed, then OWN_HOSTS recorded from the workers.dev URL and deployed again with it.
  assert.equal(after.deploys.length, 2);
  assert.match(after.deploys[1].wrangler_toml, /^OWN_HOSTS = "incident-actions\.acme\.workers\.dev"$/m);
  assert.match(config(), /^OWN_HOSTS = "incident-actions\.acme\.workers\.dev"$/m);

  assert.match(first.out, /Incident Actions is live at https:\/\/incident-actions\.acme\.workers\.dev/);
  assert.match(first.out, /url: https:\/\/incident-actions\.acme\.workers\.dev\/v2\/enqueue/, 'Alertmanager snippet');
  assert.match(first.out, /paste the ADMIN_TOKEN/);
});

test('a second run finds everything in place and only deploys', () => {
  assert.equal(deploy('--yes').status, 0);
  const recorded = config();
  const before = account();
  const second = deploy('--yes');
  assert.equal(second.status, 0, second.out);
  const after = account();
  const calls = after.calls.slice(before.calls.length);

  assert.equal(config(), recorded, 'wrangler.toml unchanged');
  assert.deepEqual(after.kv_namespaces, before.kv_namespaces);
  assert.deepEqual(after.d1_databases, before.d1_databases);
  assert.deepEqual(after.secrets, before.secrets, 'no secret replaced');
  assert.ok(!calls.some((call) => /create|secret put/.test(call)), calls.join('\n'));
  assert.equal(after.deploys.length, before.deploys.length + 1, 'one deploy');
  assert.ok(!second.out.includes(before.secrets.ADMIN_TOKEN), 'the token is not shown again');
  assert.match(second.out, /already recorded in wrangler\.toml/);
});

test('a run cut off after creating the namespace finds it by its exact title, not a look-alike', () => {
  writeAccount({
    kv_namespaces: [
      { id: 'a'.repeat(32), title: 'other-app-CONFIG' },
      { id: 'b'.repeat(32), title: 'incident-actions-CONFIG' },
    ],
    d1_databases: [{ uuid: '11111111-2222-4333-8444-555555555555', name: 'incident-actions' }],
  });
  const run = deploy('--yes');
  assert.equal(run.status, 0, run.out);
  assert.match(config(), new RegExp(`^id = "${'b'.repeat(32)}"`, 'm'));
  assert.match(config(), /^database_id = "11111111-2222-4333-8444-555555555555"/m);
  assert.equal(account().kv_namespaces.length, 2, 'nothing created');
  assert.equal(account().d1_databases.length, 1, 'nothing created');
});

test('without --yes a refused secret is not generated, and the way to set it is printed', () => {
  const run = deploy(); // stdin is empty: every question is answered "no"
  assert.equal(run.status, 0, run.out);
  assert.deepEqual(account().secrets, {});
  assert.match(run.out, /npx wrangler secret put ADMIN_TOKEN/);
  assert.match(run.out, /npx wrangler secret put ENCRYPTION_KEY/);
});

test('not signed in: it says how to sign in and changes nothing', () => {
  writeAccount({ signed_in: false });
  const recorded = config();
  const run = deploy('--yes');
  assert.equal(run.status, 1, run.out);
  assert.match(run.out, /npx wrangler login/);
  assert.equal(config(), recorded);
  assert.deepEqual(account().calls, ['whoami']);
});
