// Nothing leaks (issue "Nothing leaks, nothing piles up" §2–§4), against the real worker
// and real receivers on loopback:
// - a header value made from a secret, through any filter, is recorded as `[redacted]` as
//   a whole, and an echo of it is not kept either;
// - a template error of a template that uses secrets quotes nothing it rendered;
// - a kept body is redelivered only to the origin it was sent to and with the secrets it
//   was made with (409 `redelivery_target_changed`), and only while `available_when`
//   allows it (409 `action_not_available`);
// - a press refused by the cross-site or content-type rules (403, 415) leaves no run, no
//   timeline line and no bound Idempotency-Key;
// - a template that would build more than its budget is refused on save and preview with
//   the limit named, and the worker keeps answering.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { api } from './client.mjs';
import {
  assertApiError,
  expectStatus,
  request,
  serviceWithAction,
  signInSession,
  startReceiver,
  timelineOf,
  unique,
  useWorld,
} from './harness.mjs';

const world = useWorld();
let elsewhere;
before(async () => {
  elsewhere = await startReceiver();
});
after(async () => {
  await elsewhere?.stop();
});

const SECRET = 'gh-t0ken-8d1c5e27a4f0';
const reversed = (text) => [...text].reverse().join('');
const secretHeader = (value = SECRET) => ({ name: 'X-Git-Token', value, secret: true });

const press = (incident, action, body = {}, headers = {}) =>
  api(world.worker).runAction(incident.id, action.id, body, { headers });
const redeliver = (run) => api(world.worker).redeliver(run.id, {});

async function deliveriesTo(receiver, path) {
  return (await receiver.deliveries()).filter((d) => d.path === path);
}

describe('secrets never leave', () => {
  test('a header made from a secret by a filter is recorded as [redacted], and its echo is not kept', async () => {
    const path = `/echo`;
    const { incident, action } = await serviceWithAction(world.worker, world.receiver, path, {
      name: unique('Echo'),
      headers: [
        secretHeader(),
        { name: 'X-Dbg', value: '{{ secrets["X-Git-Token"] | reverse }}', secret: false },
        { name: 'X-Auth', value: 'token {{ secrets["X-Git-Token"] }}', secret: false },
      ],
    });
    const res = expectStatus(await press(incident, action), 201, 'run');
    const sent = (await deliveriesTo(world.receiver, path)).at(-1);
    assert.equal(sent.headers['x-dbg'], reversed(SECRET), 'the endpoint got the value');
    const recorded = Object.fromEntries(res.json.run.request_headers.map((h) => [h.name, h.value]));
    assert.equal(recorded['X-Dbg'], '[redacted]');
    assert.equal(recorded['X-Auth'], '[redacted]');
    const stored = expectStatus(await api(world.worker).getRun(res.json.run.id), 200, 'run').text;
    for (const text of [res.text, stored, JSON.stringify(await timelineOf(world.worker, incident.id))]) {
      assert.ok(!text.includes(SECRET), 'the secret is in no answer');
      assert.ok(!text.includes(reversed(SECRET)), 'nor reversed, in the headers or the echoed excerpt');
    }
  });

  test('a template error of a template that uses secrets quotes nothing it rendered', async () => {
    // Valid when checked on save (the secret reads "[redacted]" there), broken JSON at run
    // time, right where the reversed secret is printed.
    const template =
      '{"k": {% if secrets["X-Git-Token"] == "[redacted]" %}"x"{% else %}{{ secrets["X-Git-Token"] | reverse }}{% endif %}}';
    const { incident, action } = await serviceWithAction(world.worker, world.receiver, '/never', {
      headers: [secretHeader()],
      body_template: template,
    });
    const res = expectStatus(await press(incident, action), 201, 'run');
    assert.equal(res.json.run.outcome, 'template_error');
    assert.match(res.json.run.response_excerpt, /not valid JSON/);
    assert.doesNotMatch(res.json.run.response_excerpt, /near/);
    for (const text of [res.text, JSON.stringify(await timelineOf(world.worker, incident.id))]) {
      assert.ok(!text.includes(reversed(SECRET)) && !text.includes(reversed(SECRET).slice(0, 10)), text);
    }
    assert.equal((await deliveriesTo(world.receiver, '/never')).length, 0, 'nothing sent');
  });
});

describe('a kept body goes only where it went, with what it was made with', () => {
  const WITH_SECRET = '{"token": "{{ secrets["X-Git-Token"] }}", "title": "{{ incident.title }}"}';

  async function failedRunWithSecret() {
    const path = `/flaky`;
    const world_ = await serviceWithAction(world.worker, world.receiver, path, {
      headers: [secretHeader()],
      body_template: WITH_SECRET,
    });
    const run = expectStatus(await press(world_.incident, world_.action), 201, 'run').json.run;
    assert.equal(run.http_status, 503);
    assert.equal(run.redeliverable, true);
    return { ...world_, run };
  }

  test('moved to another origin with the secret dropped, an old body is not redelivered (409)', async () => {
    const { service, action, run } = await failedRunWithSecret();
    await elsewhere.addSecret(action.signing_secret);
    expectStatus(
      await api(world.worker).updateAction(service.id, action.id, {
        endpoint_url: `${elsewhere.url}/collect`,
        headers: [],
      }),
      200,
      'move the endpoint, dropping the secret',
    );
    const res = await redeliver(run);
    const error = assertApiError(res, 409, 'redelivery_target_changed', 'redelivery elsewhere');
    assert.match(error.message, /another origin/);
    assert.deepEqual(await deliveriesTo(elsewhere, '/collect'), [], 'nothing reached the new origin');
  });

  test('after its secret changed, an old body is not redelivered, even to the same origin (409)', async () => {
    const { service, action, run } = await failedRunWithSecret();
    expectStatus(
      await api(world.worker).updateAction(service.id, action.id, { headers: [secretHeader('rotated-value')] }),
      200,
      'change the secret',
    );
    const error = assertApiError(await redeliver(run), 409, 'redelivery_target_changed', 'after a new secret');
    assert.match(error.message, /secret/);
    assert.equal(
      (await deliveriesTo(world.receiver, '/flaky')).filter((d) => d.headers['webhook-id'] === run.id).length,
      1,
      'sent once, never again',
    );
  });

  test('with the same origin and secrets, on another path, it is redelivered', async () => {
    const { service, action, run } = await failedRunWithSecret();
    expectStatus(
      await api(world.worker).updateAction(service.id, action.id, { endpoint_url: `${world.receiver.url}/ok` }),
      200,
      'another path',
    );
    const again = expectStatus(await redeliver(run), 201, 'redeliver').json.run;
    assert.equal(again.status, 'succeeded');
  });

  test('a redelivery obeys available_when as a press does (409 action_not_available)', async () => {
    const { incident, action, run } = await (async () => {
      const made = await serviceWithAction(world.worker, world.receiver, '/flaky', {
        available_when: { statuses: ['triggered'] },
      });
      const first = expectStatus(await press(made.incident, made.action), 201, 'run').json.run;
      return { ...made, run: first };
    })();
    expectStatus(await api(world.worker).acknowledge(incident.id), 200, 'acknowledge');
    assertApiError(await redeliver(run), 409, 'action_not_available', 'redelivery on an acknowledged incident');
    const sent = (await deliveriesTo(world.receiver, '/flaky')).filter((d) => d.headers['webhook-id'] === run.id);
    assert.equal(sent.length, 1, `only the first press was sent (${action.name})`);
  });
});

describe('a refused press leaves no trace', () => {
  const cookie = async () => (await signInSession(world.worker)).pair;

  // A bodiless press needs no body parsed, so only the cookie rules can refuse the second.
  for (const [what, body, headers, status, code] of [
    ['from another site (403)', '{}', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' }, 403, 'cross_site_request'],
    ['without a JSON content type (415)', undefined, {}, 415, 'unsupported_media_type'],
  ]) {
    test(`a press ${what} leaves no run, no timeline line and no bound Idempotency-Key`, async () => {
      const path = `/ok/${unique('p').replace(/\W+/g, '-')}`;
      const { incident, action } = await serviceWithAction(world.worker, world.receiver, path);
      const key = `key-${unique('k').replace(/\W+/g, '-')}`;
      const res = await api(world.worker).runAction(incident.id, action.id, body, {
        token: null,
        headers: { cookie: await cookie(), 'idempotency-key': key, ...headers },
      });
      assertApiError(res, status, code, what);
      const runs = expectStatus(await api(world.worker).listRuns(incident.id), 200, 'runs').json.runs;
      assert.deepEqual(runs, [], 'no run');
      const log = await timelineOf(world.worker, incident.id);
      assert.equal(log.filter((e) => e.type === 'action_run').length, 0, 'no timeline line');
      // The key is free: the same key from a proper client starts a run of its own.
      const fresh = expectStatus(await press(incident, action, {}, { 'idempotency-key': key }), 201, 'the same key');
      assert.equal(fresh.headers.get('idempotent-replayed'), null);
      assert.equal((await deliveriesTo(world.receiver, path)).length, 1, 'sent once, by the proper press');
    });
  }
});

describe('templates bounded in memory', () => {
  test('a template building more than its budget is refused on save and preview, naming the limit; the worker keeps answering', async () => {
    const { service, action } = await serviceWithAction(world.worker, world.receiver, '/ok');
    const doubling = `{% set s = 'a' %}${'{% set s = s ~ s %}'.repeat(30)}{"n": {{ s | length }}}`;
    for (const template of ["{\"a\": \"{{ 'a' * 100000000 }}\"}", doubling]) {
      const [saved, previewed, alive] = await Promise.all([
        api(world.worker).updateAction(service.id, action.id, { body_template: template }),
        api(world.worker).previewAction(service.id, action.id, {
          draft: { name: 'Draft', endpoint_url: `${world.receiver.url}/ok`, body_template: template },
        }),
        api(world.worker).listServices(),
      ]);
      for (const [res, what] of [
        [saved, 'save'],
        [previewed, 'preview'],
      ]) {
        const error = assertApiError(res, 422, 'invalid_template', `${what} of ${template.slice(0, 40)}`);
        assert.match(JSON.stringify(error), /1048576 bytes/, `${what}: the limit is named`);
      }
      expectStatus(alive, 200, 'another request meanwhile');
    }
    expectStatus(await api(world.worker).listServices(), 200, 'the worker still answers');
  });

  test('a header value rendering past 4 KiB is refused with the limit named', async () => {
    const { service, action } = await serviceWithAction(world.worker, world.receiver, '/ok');
    const res = await api(world.worker).updateAction(service.id, action.id, {
      headers: [{ name: 'X-Big', value: "{{ 'v' * 4097 }}", secret: false }],
    });
    const error = assertApiError(res, 422, 'invalid_template', 'a 4097-byte header');
    assert.match(JSON.stringify(error), /larger than 4096 bytes/);
  });
});
