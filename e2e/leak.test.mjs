// The consolidated leak test: after creating secret headers, tokens, sessions and runs
// (with a signing-secret rotation, secret-header edits, a revoked token and a deleted
// user), no secret value appears in any API answer (body or header, errors included), in
// any timeline or run record, in wrangler's log output, or in the raw KV and D1 storage
// (in the clear or re-encoded; routing keys are stored sealed too). The only allowed
// places: a signing secret in the answer that created or rotated it, a token secret in the
// answer that minted it, a session cookie in the Set-Cookie of its sign-in, and routing
// keys in answers to manager and up.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';

import { api, paths } from './client.mjs';
import { expectStatus, request, unique, useWorld } from './harness.mjs';

const ROLES = ['stakeholder', 'observer', 'responder', 'manager', 'admin', 'owner'];
const rank = (role) => ROLES.indexOf(role);
const REDACTED = '[redacted]';

const { worker, receiver, ready } = useWorld();
/** Every answer of this file: {seq, who, role, call, status, headers: [name, value][], text}. */
const answers = [];
/** who → {role, headers}: the ADMIN_TOKEN, one token per role, a cookie session. */
const callers = {};
/** Every secret: {kind, value, allowed(answer, where) → bool}. */
const secrets = [];
const fx = { actions: [], runIds: [], userIds: [] };
const randomValue = (prefix) => `${prefix}${crypto.randomBytes(24).toString('base64url')}`;
const hint = (value) => `${value.slice(0, 8)}…`;

/** One recorded call as `who`. */
async function call(who, method, urlPath, body, extra = {}, label = '') {
  const { role, headers } = callers[who];
  const res = await request(method, worker.baseUrl + urlPath, body, { ...headers, ...extra });
  const what = `${method} ${urlPath}${label && ` [${label}]`}`;
  answers.push({ seq: answers.length, who, role, call: what, status: res.status, headers: [...res.headers], text: res.text });
  return Object.assign(res, { seq: answers.length - 1 });
}
/** The client of caller `who`: each of its calls is recorded (see `call`), with `label`. */
const as = (who, label) => api((method, urlPath, body, extra) => call(who, method, urlPath, body, extra, label));
const ok = async (status, what, answer) => expectStatus(await answer, status, what);
const secret = (kind, value, allowed = () => false) => secrets.push({ kind, value, allowed });
const onlyIn = (seq) => (answer, where) => answer.seq === seq && where === 'body';

/** A user with `role` and an API token, made through the API by `by`; registers the caller. */
async function member(role, by = 'ADMIN_TOKEN', who = role) {
  const email = `${unique(role).replace(/\W+/g, '-')}@example.com`;
  const user = (await ok(201, `create ${role}`, as(by).createUser({ name: unique(role), email, role }))).json.user;
  const minted = await ok(201, `token for ${role}`, as(by).createToken(user.id, { label: 'leak test' }));
  const { token } = minted.json;
  secret(`API token secret (${who})`, token.secret, onlyIn(minted.seq));
  callers[who] = { role, headers: { authorization: `Bearer ${token.secret}` } };
  fx.userIds.push(user.id);
  return { user, token };
}

/** Signs in with a token; the cookie session becomes caller `who`. */
async function addSessionCaller(tokenSecret, role, who) {
  const res = await ok(200, 'sign in', as('anonymous').signIn({ token: tokenSecret }));
  const value = res.headers.getSetCookie().find((c) => c.startsWith('ia_session='))?.split(';')[0].slice('ia_session='.length);
  assert.ok(value, 'a session cookie');
  secret(`session cookie (${who})`, value, (a, where) => a.seq === res.seq && where === 'header set-cookie');
  callers[who] = { role, headers: { authorization: null, cookie: `ia_session=${value}`, origin: worker.baseUrl, 'sec-fetch-site': 'same-origin' } };
}

before(async () => {
  await ready;
  callers.ADMIN_TOKEN = { role: 'owner', headers: { authorization: `Bearer ${worker.token}` } };
  callers.anonymous = { role: null, headers: { authorization: null } };
  secret('ADMIN_TOKEN', worker.token);
  secret('ENCRYPTION_KEY', worker.encryptionKey);
  for (const role of [...ROLES].reverse()) await member(role);

  // A service, and two actions with a secret and a plain header each: one succeeds, one fails.
  fx.service = (await ok(201, 'service', as('ADMIN_TOKEN').createService({ name: unique('Leak service') }))).json.service;
  fx.team = unique('team-plain').replace(/\s/g, '-');
  fx.headerValues = { ok: `Bearer ${randomValue('sk-ok-')}`, fail: randomValue('key-fail-'), failNew: `"new" ${randomValue('key/new+')}` };
  const svc = fx.service.id;
  for (const [which, path, header, value] of [['ok', '/ok', 'Authorization', fx.headerValues.ok], ['fail', '/status/500', 'X-Api-Key', fx.headerValues.fail]]) {
    const created = await ok(
      201,
      `action ${which}`,
      as('manager').createAction(svc, {
        name: unique(`Leak ${which}`),
        endpoint_url: `${receiver.url}${path}`,
        headers: [{ name: header, value, secret: true }, { name: 'X-Team', value: fx.team }],
      }),
    );
    const { action } = created.json;
    secret(`signing secret (${which}, at create)`, action.signing_secret, onlyIn(created.seq));
    await receiver.addSecret(action.signing_secret);
    fx.actions.push({ ...action, which, header });
  }
  for (const [kind, value] of Object.entries(fx.headerValues)) secret(`secret header value (${kind})`, value);
  secret('service routing key', fx.service.routing_key, (a) => rank(a.role) >= rank('manager'));

  fx.title = unique('Leak incident title');
  const enqueued = { routing_key: fx.service.routing_key, event_action: 'trigger', payload: { summary: fx.title, source: 'db-1', severity: 'critical' } };
  await ok(202, 'enqueue', as('anonymous').enqueue(enqueued));
  const listed = (await ok(200, 'incidents', as('responder').listIncidents({ query: { service_id: fx.service.id } }))).json.incidents;
  fx.incident = listed.find((i) => i.title === fx.title);
  assert.ok(fx.incident, 'the incident is listed');

  // Runs: a success, a failure, an Idempotency-Key and its replay.
  const [okAction, failAction] = fx.actions;
  const run = async (action, status = 201, headers = {}) =>
    (await ok(status, `run ${action.which}`, as('responder').runAction(fx.incident.id, action.id, undefined, { headers }))).json.run;
  const idem = { 'idempotency-key': unique('leak-key').replace(/\s/g, '-') };
  fx.runs = [await run(okAction), await run(failAction), await run(okAction, 201, idem)];
  assert.equal((await run(okAction, 200, idem)).id, fx.runs[2].id, 'the replay answers the first run');

  // Rotate a signing secret; keep one secret header through an edit, change the other.
  const rotated = await ok(200, 'rotate', as('manager').rotateSecret(svc, okAction.id));
  secret('signing secret (ok, rotated)', rotated.json.signing_secret, onlyIn(rotated.seq));
  await receiver.addSecret(rotated.json.signing_secret);
  const team = { name: 'X-Team', value: fx.team };
  const manager = as('manager');
  await ok(200, 'keep secret', manager.updateAction(svc, okAction.id, { headers: [{ name: 'Authorization', value: null, secret: true }, team] }));
  await ok(200, 'change secret', manager.updateAction(svc, failAction.id, { headers: [{ name: 'X-Api-Key', value: fx.headerValues.failNew, secret: true }, team] }));
  fx.runs.push(await run(okAction), await run(failAction));
  fx.runIds = fx.runs.map((r) => r.id);

  // Sessions, a revoked token and a deleted user (whose cookie session also ends).
  await addSessionCaller(callers.responder.headers.authorization.slice(7), 'responder', 'cookie:responder');
  const revoked = await member('responder', 'admin', 'revoked responder');
  const deleted = await member('manager', 'admin', 'deleted manager');
  await addSessionCaller(deleted.token.secret, 'manager', 'cookie:deleted manager');
  await ok(204, 'revoke', as('admin').deleteToken(revoked.user.id, revoked.token.id));
  await ok(204, 'delete user', as('admin').deleteUser(deleted.user.id));
  fx.revokedSecret = revoked.token.secret;

  await crawl();
});
/** Every readable route for every caller, then calls that answer errors carrying secrets. */
async function crawl() {
  const svc = fx.service.id;
  const inc = fx.incident.id;
  const reads = [
    paths.getMe(), paths.getSession(), paths.listServices(), paths.getService(svc), paths.listActions(svc),
    ...fx.actions.map((a) => paths.getAction(svc, a.id)),
    paths.listIncidents(), paths.getIncident(inc), paths.getLog(inc), paths.listRuns(inc), ...fx.runIds.map((id) => paths.getRun(id)),
    paths.listUsers(), ...fx.userIds.flatMap((id) => [paths.getUser(id), paths.listTokens(id)]), paths.listAudit(),
    paths.getService('svc_missing'), paths.getIncident('inc_missing'), paths.getRun('run_missing'), paths.getAction(svc, 'act_missing'),
  ];
  for (const who of Object.keys(callers)) for (const read of reads) await call(who, 'GET', read);

  const s1 = fx.headerValues.ok;
  // [label, client function, its path parameters, body]
  const create = ['createAction', [svc]];
  const update = ['updateAction', [svc, fx.actions[0].id]];
  const probes = [
    ['422 invalid action carrying a secret header', ...create, { name: '', endpoint_url: 'not a url', headers: [{ name: 'Authorization', value: s1, secret: true }] }],
    ['422 secret header value with CRLF', ...create, { name: 'Bad value', endpoint_url: `${receiver.url}/ok`, headers: [{ name: 'X-A', value: `${s1}\r\nX-B: 1`, secret: true }] }],
    ['422 bad header name, over-long value', ...update, { headers: [{ name: 'Bad Name', value: s1, secret: true }, { name: 'X-Long', value: s1.repeat(200) }] }],
    ['400 name: 5 beside a secret header', ...create, `{"name": 5, "headers": [{"name":"X","value":"${s1}","secret":true}]}`],
    ['400 JSON syntax error after a secret', ...update, `{"headers": [{"name":"X","value":"${s1}","secret":true},]}`],
    ['400 wrong-typed enabled: secret string', ...update, `{"enabled": "${s1}"}`],
    ['400 wrong-typed headers: secret string', ...update, `{"headers": "${s1}"}`],
    ['400 wrong-typed header secret flag: secret string', ...update, `{"headers": [{"name": "X", "value": "${s1}", "secret": "${s1}"}]}`],
  ];
  for (const who of ['manager', 'ADMIN_TOKEN', 'cookie:responder', 'observer']) {
    for (const [label, name, params, body] of probes) {
      const headers = typeof body === 'string' ? { 'content-type': 'application/json' } : {};
      await as(who, label)[name](...params, body, { headers });
    }
  }
  await as('anonymous').signIn({ token: fx.revokedSecret });
  await as('revoked responder').getMe();
  await as('cookie:deleted manager').getSession();
}

/** Where an answer could hold a secret: body text, its decoded JSON strings, each header. */
function places(answer) {
  const strings = [];
  const walk = (v) => (typeof v === 'string' ? strings.push(v) : v && typeof v === 'object' && Object.values(v).forEach(walk));
  try {
    walk(JSON.parse(answer.text));
  } catch {
    /* not JSON */
  }
  return [
    { where: 'body', text: answer.text },
    { where: 'body', text: strings.join('\n') },
    ...answer.headers.map(([name, value]) => ({ where: `header ${name}`, text: value })),
  ];
}

/** The leaks of secrets of `kinds` (a regex on the kind) in every answer, as readable lines. */
function leaksOf(kinds) {
  const found = new Set();
  for (const answer of answers) {
    for (const { where, text } of places(answer)) {
      for (const s of secrets.filter((x) => kinds.test(x.kind))) {
        if (text.includes(s.value) && !s.allowed(answer, where)) {
          found.add(`${s.kind} ${hint(s.value)} in ${where} of ${answer.who}: ${answer.call} → ${answer.status}`);
        }
      }
    }
  }
  return [...found];
}

test('the setup ran: runs succeeded and failed, deliveries carried the real secrets and verified', async () => {
  assert.deepEqual(fx.runs.map((r) => r.status), ['succeeded', 'failed', 'succeeded', 'succeeded', 'failed']);
  const delivered = await receiver.deliveries();
  const byRun = (run) => delivered.find((d) => d.headers['webhook-id'] === run.id);
  assert.equal(byRun(fx.runs[0]).headers.authorization, fx.headerValues.ok);
  assert.equal(byRun(fx.runs[1]).headers['x-api-key'], fx.headerValues.fail);
  assert.equal(byRun(fx.runs[3]).headers.authorization, fx.headerValues.ok, 'kept through the edit');
  assert.equal(byRun(fx.runs[4]).headers['x-api-key'], fx.headerValues.failNew, 'changed by the edit');
  assert.ok(fx.runs.every((r) => byRun(r).verified), 'every delivery verified');
  assert.equal(delivered.length, fx.runs.length, 'the replay sent nothing');
  assert.ok(answers.length > 400, `${answers.length} answers recorded`);
  const me = (who) => answers.find((a) => a.who === who && a.call === `GET ${paths.getMe()}`)?.status;
  for (const who of ['ADMIN_TOKEN', ...ROLES, 'cookie:responder']) assert.equal(me(who), 200, `${who} crawled signed in`);
  for (const who of ['revoked responder', 'deleted manager', 'cookie:deleted manager']) assert.equal(me(who), 401, `${who} is refused`);
});

/** Positive control: each secret of `kinds` was shown where it is allowed, so the rule is not vacuous. */
function assertShownWhereAllowed(kinds) {
  for (const s of secrets.filter((x) => kinds.test(x.kind))) {
    assert.ok(answers.some((a) => s.allowed(a, 'body') && a.text.includes(s.value)), `${s.kind} ${hint(s.value)} was shown once`);
  }
}

test('no answer contains a secret header value, old or new, not even the create answer', () => {
  for (const action of fx.actions) {
    const shown = action.headers.map((h) => [h.name, h.value, h.secret]);
    assert.deepEqual(shown, [[action.header, null, true], ['X-Team', fx.team, false]], 'the create answer hides the secret value');
  }
  assert.deepEqual(leaksOf(/^secret header value/), []);
});

test('signing secrets appear only in the create-action and rotate_secret answers', () => {
  assertShownWhereAllowed(/^signing secret/);
  assert.deepEqual(leaksOf(/^signing secret/), []);
});

test('a token secret appears only in the answer that minted it', () => {
  assertShownWhereAllowed(/^API token secret/);
  assert.deepEqual(leaksOf(/^API token secret/), []);
});

test('no answer contains the ADMIN_TOKEN, the ENCRYPTION_KEY or a session cookie (its Set-Cookie aside)', () => {
  assert.deepEqual(leaksOf(/^(ADMIN_TOKEN|ENCRYPTION_KEY|session cookie)/), []);
});

test('the routing key is only in answers to manager and up', () => {
  assert.deepEqual(leaksOf(/routing key/), []);
  const shownTo = new Set(answers.filter((a) => a.text.includes(fx.service.routing_key)).map((a) => a.who));
  for (const who of ['ADMIN_TOKEN', 'owner', 'admin', 'manager']) assert.ok(shownTo.has(who), `positive control: ${who} sees it`);
});

test('timeline and run records: secret headers are [redacted], plain ones real, all null below responder', () => {
  const runAnswers = answers.filter((a) => a.status < 300 && (/\/runs$|\/log$|^GET \/api\/runs\//.test(a.call)));
  let checked = 0;
  for (const answer of runAnswers) {
    const what = `${answer.who}: ${answer.call} → ${answer.status}`;
    const body = JSON.parse(answer.text);
    const runs = [body.run, ...(body.runs ?? []), ...(body.log_entries ?? []).map((e) => e.run)].filter(Boolean);
    if (/\/log$/.test(answer.call)) assert.equal(runs.length, fx.runs.length, `${what}: every run on the timeline`);
    for (const run of runs) {
      checked += 1;
      if (rank(answer.role) < rank('responder')) {
        assert.equal(run.request_headers, null, `${what}: request_headers hidden`);
        continue;
      }
      const action = fx.actions.find((a) => a.id === run.action_id);
      const value = (name) => run.request_headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
      assert.equal(value(action.header), REDACTED, `${what}: ${action.header} of run ${run.id}`);
      assert.equal(value('X-Team'), fx.team, `${what}: X-Team of run ${run.id}`);
    }
  }
  assert.ok(checked > 100, `${checked} run records checked`);
});

test('wrangler log output holds no secret', () => {
  const lines = worker.logs().split('\n');
  const leaks = [];
  for (const s of secrets.filter((x) => x.kind !== 'service routing key')) {
    lines.forEach((line, i) => {
      if (line.includes(s.value)) leaks.push(`${s.kind} ${hint(s.value)} on log line ${i + 1}: ${line.split(s.value).join(hint(s.value)).slice(0, 160)}`);
    });
  }
  assert.ok(lines.length > 20, 'the log was captured');
  assert.deepEqual(leaks, []);
});

/** The forms a secret could be stored in: as is, escaped, and its key bytes re-encoded. */
function encodings(value) {
  const forms = { plain: value, json: JSON.stringify(value).slice(1, -1), url: encodeURIComponent(value), form: new URLSearchParams({ v: value }).toString().slice(2) };
  forms.base64 = Buffer.from(value).toString('base64');
  forms.hex = Buffer.from(value).toString('hex');
  const key = /^(?:whsec_|iat_|test-)?([A-Za-z0-9+/_-]{24,}={0,2})$/.exec(value)?.[1];
  if (key) {
    const raw = Buffer.from(key, /[+/=]/.test(key) ? 'base64' : 'base64url');
    Object.assign(forms, { key: key, raw, rawBase64: raw.toString('base64'), rawBase64url: raw.toString('base64url'), rawHex: raw.toString('hex') });
  }
  const unique = new Map();
  for (const [form, v] of Object.entries(forms)) {
    const bytes = Buffer.isBuffer(v) ? v : Buffer.from(v);
    if (!unique.has(bytes.toString('hex'))) unique.set(bytes.toString('hex'), { form, bytes });
  }
  return [...unique.values()];
}

function storedFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return storedFiles(full);
    return entry.isFile() ? [{ file: path.relative(worker.persistDir, full), bytes: fs.readFileSync(full) }] : [];
  });
}

test('the raw KV and D1 storage (WAL included) holds no secret in any encoding', () => {
  const files = storedFiles(worker.persistDir);
  const holding = (needle) => files.filter(({ bytes }) => bytes.includes(needle)).map(({ file }) => file);
  assert.ok(files.some(({ file }) => /\.sqlite(-wal)?$/.test(file)), `D1 files scanned: ${files.map((f) => f.file)}`);
  // Positive controls: the scan reads KV (the plain header) and D1 (the title).
  assert.ok(holding(Buffer.from(fx.team)).some((f) => /kv/i.test(f)), 'the plain header value is found in KV');
  assert.ok(holding(Buffer.from(fx.title)).length > 0, 'the incident title is found in D1');
  const leaks = [];
  for (const s of secrets) {
    for (const { form, bytes } of encodings(s.value)) {
      const where = holding(bytes);
      if (where.length > 0) leaks.push(`${s.kind} ${hint(s.value)} as ${form} in ${where.join(', ')}`);
    }
  }
  assert.deepEqual(leaks, []);
});
