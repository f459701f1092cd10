// A small webhook receiver for Incident Actions: the endpoint the demo's action points at,
// and the real process the integration tests and the benchmark deliver to.
//
// Every delivery is checked with the independent `standardwebhooks` package against each
// signing secret the receiver knows, so a signature bug in the worker shows up here exactly
// as it would at a customer. The path chooses how it answers, so one receiver can play every
// endpoint the tests need (failing, redirecting, hanging, slow, huge, HTML, echoing), and
// the replies of the reply contract: `/diagnostics` answers as an "Add diagnostics" endpoint
// would (a note, a link, a summary); `/reply?json=<JSON>&type=<content type>` answers
// exactly the JSON given, as `application/json` unless `type` says otherwise. `/flaky` is an
// endpoint that is briefly down: it answers 503 to the first delivery of each webhook-id and
// 200 to a redelivery of it.
//
//   node sample-receiver/receiver.mjs --port 9100 [--host 127.0.0.1] [--secret whsec_...]...
//
// Secrets also come from WEBHOOK_SECRETS (comma-separated) and from
// `POST /_control/secrets {"secret"}` at run time. `GET /_control/deliveries` lists what
// arrived; `DELETE /_control/deliveries` forgets it. `--port 0` picks a free port; the
// first line printed is always `listening on http://HOST:PORT`.

import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';

/** How long `/hang` keeps the socket open without answering (longer than the 16 s deadline). */
const HANG_MS = 30_000;
/** Size of the `/big` answer: far more than the 64 KiB the worker reads. */
const BIG_BYTES = 2 * 1024 * 1024;
/** The `/html` answer: must reach a responder as text, never run. */
export const HTML_BODY = '<script>alert("x")</script><b>bold</b>';
/** Upper bound on one request body the receiver buffers. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

const BIG_BODY = (() => {
  const line = 'Incident Actions sample receiver: a deliberately large answer.\n';
  return Buffer.from(line.repeat(Math.ceil(BIG_BYTES / line.length)).slice(0, BIG_BYTES));
})();

/**
 * Starts a receiver in this process.
 *
 * @param {object} [options]
 * @param {number} [options.port] 0 (default) picks a free port.
 * @param {string} [options.host] Defaults to 127.0.0.1: loopback only.
 * @param {string[]} [options.secrets] Signing secrets (`whsec_…`) to verify against.
 * @param {(line: string) => void} [options.log] Where the per-delivery lines go.
 * @returns {Promise<{url: string, port: number, host: string, addSecret: (s: string) => void,
 *   deliveries: () => object[], close: () => Promise<void>}>}
 */
export async function startReceiver({ port = 0, host = '127.0.0.1', secrets = [], log = console.log } = {}) {
  /** @type {{secret: string, webhook: Webhook}[]} */
  const known = [];
  const deliveries = [];
  // The webhook-ids /flaky has answered, so that it fails only the first delivery of each.
  const flakySeen = new Set();
  const sockets = new Set();
  const timers = new Set();

  function addSecret(secret) {
    const value = String(secret ?? '').trim();
    // Construction decodes the base64 key, so a malformed secret fails here, not per delivery.
    const webhook = new Webhook(value);
    if (!known.some((entry) => entry.secret === value)) known.push({ secret: value, webhook });
  }
  for (const secret of secrets) addSecret(secret);

  function verify(body, headers) {
    if (!headers['webhook-id'] || !headers['webhook-signature'] || !headers['webhook-timestamp']) {
      return { verified: false, reason: 'no Standard Webhooks headers' };
    }
    if (known.length === 0) return { verified: false, reason: 'no signing secret known' };
    let reason = 'no matching signature';
    for (const { webhook } of known) {
      try {
        webhook.verify(body, headers, { jsonParse: false });
        return { verified: true, reason: null };
      } catch (error) {
        // A timestamp problem is more telling than "no match" when every secret fails.
        if (/timestamp/i.test(error.message)) reason = error.message;
      }
    }
    return { verified: false, reason };
  }

  function later(ms, fn) {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  }

  function sendJson(res, status, value) {
    const body = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  function sendText(res, status, text, type = 'text/plain; charset=utf-8') {
    const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
    res.writeHead(status, noBody ? {} : { 'content-type': type, 'content-length': Buffer.byteLength(text) });
    res.end(noBody ? undefined : text);
  }

  function describe(body) {
    try {
      const parsed = JSON.parse(body);
      const event = parsed?.event;
      if (!event) {
        // An action with a body template decides its own body.
        return { type: 'templated body', title: parsed?.title ?? parsed?.incident?.name ?? '-', action: '-' };
      }
      return {
        type: event.event_type ?? '-',
        title: event.data?.title ?? '-',
        action: event.action?.name ?? '-',
      };
    } catch {
      return { type: '(not JSON)', title: '-', action: '-' };
    }
  }

  function control(req, res, url, body) {
    if (url.pathname === '/_control/deliveries' && req.method === 'GET') {
      return sendJson(res, 200, deliveries);
    }
    if (url.pathname === '/_control/deliveries' && req.method === 'DELETE') {
      deliveries.length = 0;
      return sendText(res, 204, '');
    }
    if (url.pathname === '/_control/secrets' && req.method === 'POST') {
      try {
        addSecret(JSON.parse(body).secret);
      } catch (error) {
        return sendJson(res, 400, { error: `not a usable signing secret: ${error.message}` });
      }
      return sendJson(res, 200, { secrets: known.length });
    }
    if (url.pathname === '/_control/health') return sendJson(res, 200, { ok: true });
    return sendJson(res, 404, { error: 'unknown control route' });
  }

  function answer(req, res, url, info) {
    const path = url.pathname;
    let match;
    if ((match = /^\/status\/(\d{3})$/.exec(path))) {
      const code = Number(match[1]);
      if (code < 200 || code > 599) return sendText(res, 400, 'status must be 200-599');
      return sendText(res, code, `receiver answered ${code}`);
    }
    if (path === '/flaky') {
      // An endpoint that is briefly down: the first delivery of each webhook-id gets 503,
      // a redelivery of it (same webhook-id) gets through.
      const id = req.headers['webhook-id'] ?? '';
      const seen = flakySeen.has(id);
      flakySeen.add(id);
      if (!seen) return sendText(res, 503, 'receiver is briefly down (503); redeliver this webhook');
      return sendJson(res, 200, { ok: true, message: `Received ${info.type} on redelivery` });
    }
    if (path === '/redirect') {
      res.writeHead(302, { location: '/ok', 'content-type': 'text/plain', 'content-length': 11 });
      return res.end('see /ok now');
    }
    if (path === '/hang') {
      // Never answer; drop the connection once the worker has certainly given up.
      return later(HANG_MS, () => res.destroy());
    }
    if ((match = /^\/slow\/(\d+)$/.exec(path))) {
      const ms = Math.min(Number(match[1]), 60_000);
      return later(ms, () => sendJson(res, 200, { ok: true, message: `answered after ${ms} ms` }));
    }
    if (path === '/big') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': BIG_BODY.length });
      return res.end(BIG_BODY);
    }
    if (path === '/html') return sendText(res, 200, HTML_BODY, 'text/html; charset=utf-8');
    if (path === '/diagnostics') {
      // What a diagnostics endpoint would gather for the incident, written back as a reply.
      return sendJson(res, 200, {
        note:
          `Diagnostics for "${info.title}": load average 7.9 / 6.1 / 4.2; disk /var 91% full; ` +
          'top process java (412% CPU); last deploy 40 min ago.',
        links: [{ href: 'https://grafana.example.com/d/checkout-latency', text: 'Checkout latency dashboard' }],
        summary: 'Diagnostics attached to the incident',
      });
    }
    if (path === '/reply') {
      const type = url.searchParams.get('type') ?? 'application/json';
      return sendText(res, 200, url.searchParams.get('json') ?? '{}', type);
    }
    if (path === '/echo') {
      // An endpoint that reflects what it was sent, as many debugging endpoints do: the
      // request headers, and with `?signing_secrets=1` also the signing secrets this
      // receiver knows (an endpoint that prints its own configuration). Tests use it to
      // check the worker keeps no secret of an action in the excerpt it stores.
      const echoed = { method: req.method, path: url.pathname, headers: { ...req.headers } };
      if (url.searchParams.get('signing_secrets') === '1') echoed.signing_secrets = known.map((k) => k.secret);
      return sendJson(res, 200, echoed);
    }
    const message = info.verified
      ? `Received ${info.type} for "${info.title}"`
      : 'Received, but the signature did not verify';
    return sendJson(res, 200, { ok: true, message });
  }

  const server = http.createServer((req, res) => {
    // The worker may hang up mid-answer (deadline, 64 KiB read limit): that is expected.
    res.on('error', () => {});
    req.on('error', () => {});
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url, 'http://receiver');
      if (url.pathname.startsWith('/_control/')) return control(req, res, url, body);

      const { verified, reason } = verify(body, req.headers);
      const info = { ...describe(body), verified };
      deliveries.push({
        path: url.pathname + url.search,
        method: req.method,
        headers: { ...req.headers },
        body,
        verified,
        received_at: new Date().toISOString(),
      });
      const mark = verified ? 'verified    ' : `NOT VERIFIED (${reason})`;
      log(
        `[receiver] ${mark} ${req.method} ${url.pathname} id=${req.headers['webhook-id'] ?? '-'} ` +
          `type=${info.type} incident="${info.title}" action="${info.action}"`,
      );
      answer(req, res, url, info);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 5_000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  const shownHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${shownHost}:${actualPort}`,
    port: actualPort,
    host,
    addSecret,
    deliveries: () => deliveries,
    close: () =>
      new Promise((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '9100' },
      host: { type: 'string', default: '127.0.0.1' },
      secret: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: node sample-receiver/receiver.mjs [--port 9100] [--host 127.0.0.1] [--secret whsec_...]...');
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port} is not a port`);
  const secrets = [
    ...values.secret,
    ...(process.env.WEBHOOK_SECRETS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
  ];
  const receiver = await startReceiver({ port, host: values.host, secrets });
  console.log(`listening on ${receiver.url}`);
  console.log(
    `[receiver] ${secrets.length} signing secret(s) known; add more with ` +
      `curl -X POST ${receiver.url}/_control/secrets -H 'content-type: application/json' -d '{"secret":"whsec_..."}'`,
  );
  const stop = async () => {
    await receiver.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(`receiver: ${error.message}`);
    process.exit(1);
  });
}
