#!/usr/bin/env node
// A stand-in for `npx wrangler` that plays a Cloudflare account, for e2e/deploy.test.mjs
// only: no account is reachable from this machine, so the account-side steps of
// scripts/deploy (find or create KV and D1, migrations, secrets, deploy) cannot run for
// real here. It answers the commands scripts/deploy uses, in the shapes wrangler 4.164
// prints them, and keeps the account in a JSON file (FAKE_ACCOUNT): namespaces,
// databases, secrets, migrations applied and every deploy with the wrangler.toml it
// deployed. Every call is appended to the file's `calls`.

import crypto from 'node:crypto';
import fs from 'node:fs';

const file = process.env.FAKE_ACCOUNT;
if (!file) {
  console.error('FAKE_ACCOUNT is not set');
  process.exit(2);
}
const account = JSON.parse(fs.readFileSync(file, 'utf8'));
const args = process.argv.slice(2);
account.calls.push(args.join(' '));
const save = () => fs.writeFileSync(file, JSON.stringify(account, null, 2));
const hex = (bytes) => crypto.randomBytes(bytes).toString('hex');

function answer() {
  const [command, sub, ...rest] = args;
  if (command === 'whoami') {
    if (!account.signed_in) {
      console.log('You are not authenticated. Please run `wrangler login`.');
      return 1;
    }
    console.log('You are logged in with an OAuth Token, associated with the email ops@example.com.');
    return 0;
  }
  if (!account.signed_in) {
    console.error('✘ [ERROR] You are not authenticated.');
    return 1;
  }
  if (command === 'kv' && sub === 'namespace' && rest[0] === 'list') {
    console.log(JSON.stringify(account.kv_namespaces, null, 2));
    return 0;
  }
  if (command === 'kv' && sub === 'namespace' && rest[0] === 'create') {
    const title = rest[1];
    const id = hex(16);
    account.kv_namespaces.push({ id, title, supports_url_encoding: true });
    console.log(`🌀 Creating namespace with title "${title}"`);
    console.log('✨ Success!');
    console.log('To access your new KV Namespace in your Worker, add the following snippet to your configuration file:');
    console.log(JSON.stringify({ kv_namespaces: [{ binding: title, id }] }, null, 2));
    return 0;
  }
  if (command === 'd1' && sub === 'list') {
    console.log(JSON.stringify(account.d1_databases, null, 2));
    return 0;
  }
  if (command === 'd1' && sub === 'create') {
    const name = rest[0];
    const uuid = crypto.randomUUID();
    account.d1_databases.push({ uuid, name, created_at: new Date().toISOString(), version: 'production' });
    console.log(`✅ Successfully created DB '${name}' in region WEUR`);
    console.log(JSON.stringify({ d1_databases: [{ binding: 'DB', database_name: name, database_id: uuid }] }, null, 2));
    return 0;
  }
  if (command === 'd1' && sub === 'migrations' && rest[0] === 'apply') {
    const databaseId = /database_id = "([^"]+)"/.exec(fs.readFileSync('wrangler.toml', 'utf8'))?.[1];
    if (!account.d1_databases.some((db) => db.uuid === databaseId)) {
      console.error(`✘ [ERROR] Couldn't find DB with id ${databaseId}`);
      return 1;
    }
    const files = fs.readdirSync('migrations').filter((name) => name.endsWith('.sql')).sort();
    const pending = files.filter((name) => !account.migrations_applied.includes(name));
    account.migrations_applied.push(...pending);
    console.log(pending.length ? `Migrations to be applied:\n${pending.join('\n')}` : '✅ No migrations to apply!');
    return 0;
  }
  if (command === 'secret' && sub === 'list') {
    if (account.deploys.length === 0 && Object.keys(account.secrets).length === 0) {
      console.error('✘ [ERROR] This Worker does not exist on your account. [code: 10007]');
      return 1;
    }
    console.log(JSON.stringify(Object.keys(account.secrets).map((name) => ({ name, type: 'secret_text' }))));
    return 0;
  }
  if (command === 'secret' && sub === 'put') {
    const value = fs.readFileSync(0, 'utf8').replace(/\n$/, '');
    account.secrets[rest[0]] = value;
    console.log(`✨ Success! Uploaded secret ${rest[0]}`);
    return 0;
  }
  if (command === 'deploy') {
    account.deploys.push({ wrangler_toml: fs.readFileSync('wrangler.toml', 'utf8') });
    console.log('Total Upload: 2417.53 KiB / gzip: 812.40 KiB');
    console.log(`Uploaded ${account.worker_name} (3.10 sec)`);
    console.log(`Deployed ${account.worker_name} triggers (0.52 sec)`);
    console.log(`  https://${account.worker_name}.${account.subdomain}.workers.dev`);
    console.log('  schedule: * * * * *');
    return 0;
  }
  console.error(`fake wrangler: no answer for "${args.join(' ')}"`);
  return 2;
}

const status = answer();
save();
process.exit(status);
