// Custom incident actions: creation and its validation boundaries, the three-per-service
// limit (also under concurrent creates), unique names, editing, secrets and deletion.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { api } from './client.mjs';
import { assertApiError, createAction, createService, fieldErrors, unique, useWorld } from './harness.mjs';

const { worker } = useWorld();

const ENDPOINT = 'https://hooks.example.com/restart';
const post = (service, body) => api(worker).createAction(service.id, body);
const list = async (service) => {
  const res = await api(worker).listActions(service.id);
  assert.equal(res.status, 200, res.text);
  return res.json.actions;
};
const headers = (n, value = 'v') => Array.from({ length: n }, (_, i) => ({ name: `X-Custom-${i}`, value }));

/** `whsec_` + base64 of 24..=64 random bytes. */
function assertSigningSecret(secret) {
  assert.match(secret, /^whsec_[A-Za-z0-9+/]+={0,2}$/);
  const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64');
  assert.ok(bytes.length >= 24 && bytes.length <= 64, `secret decodes to ${bytes.length} bytes`);
}

describe('creating an action', () => {
  test('returns every field, the signing secret once, and hides secret header values', async () => {
    const service = await createService(worker);
    const res = await post(service, {
      name: '  Restart web  ',
      description: 'Restarts the web tier',
      endpoint_url: ENDPOINT,
      headers: [
        { name: 'X-Team', value: 'sre' },
        { name: 'Authorization', value: 'Bearer hunter2', secret: true },
      ],
    });
    assert.equal(res.status, 201, res.text);
    const { action } = res.json;
    assert.match(action.id, /^act_/);
    assert.equal(action.service_id, service.id);
    assert.equal(action.name, 'Restart web');
    assert.equal(action.description, 'Restarts the web tier');
    assert.equal(action.endpoint_url, ENDPOINT);
    assert.equal(action.enabled, true, 'enabled by default');
    assert.deepEqual(action.headers, [
      { name: 'X-Team', value: 'sre', secret: false },
      { name: 'Authorization', value: null, secret: true },
    ]);
    assertSigningSecret(action.signing_secret);
    assert.ok(Date.parse(action.created_at) && Date.parse(action.updated_at));
    assert.ok(!res.text.includes('hunter2'), 'the secret header value is not echoed');

    const read = await api(worker).getAction(service.id, action.id);
    assert.equal(read.status, 200, read.text);
    assert.equal(read.json.action.signing_secret, undefined, 'no signing_secret after create');
    assert.ok(!read.text.includes(action.signing_secret));
    assert.ok(!read.text.includes('hunter2'));
    const { signing_secret: _, ...withoutSecret } = action;
    assert.deepEqual(read.json.action, withoutSecret);

    const listed = await api(worker).listActions(service.id);
    assert.deepEqual(listed.json.actions, [withoutSecret]);
    assert.ok(!listed.text.includes(action.signing_secret) && !listed.text.includes('hunter2'));
  });

  test('each action gets its own signing secret', async () => {
    const service = await createService(worker);
    const a = await createAction(worker, service.id, { endpoint_url: ENDPOINT });
    const b = await createAction(worker, service.id, { endpoint_url: ENDPOINT });
    assert.notEqual(a.signing_secret, b.signing_secret);
  });

  test('an action created disabled stays disabled', async () => {
    const service = await createService(worker);
    const action = await createAction(worker, service.id, { endpoint_url: ENDPOINT, enabled: false });
    assert.equal(action.enabled, false);
    assert.equal((await list(service))[0].enabled, false);
  });

  test('actions are listed in creation order', async () => {
    const service = await createService(worker);
    const names = ['First', 'Second', 'Third'];
    for (const name of names) await createAction(worker, service.id, { name, endpoint_url: ENDPOINT });
    assert.deepEqual((await list(service)).map((a) => a.name), names);
  });
});

describe('validation boundaries', () => {
  let service;
  before(async () => {
    service = await createService(worker);
  });

  async function refused(body, field, pattern, code = 'validation_failed') {
    const before = (await list(service)).length;
    const errors = fieldErrors(await post(service, { name: unique('A'), endpoint_url: ENDPOINT, ...body }), JSON.stringify(body).slice(0, 200), code);
    assert.ok(field in errors, `expected an error on ${field}, got ${JSON.stringify(errors)}`);
    if (pattern) assert.match(errors[field], pattern);
    assert.equal((await list(service)).length, before, 'a refused action is not stored');
    return errors;
  }

  async function accepted(body) {
    const res = await post(service, { name: unique('A'), endpoint_url: ENDPOINT, ...body });
    assert.equal(res.status, 201, res.text);
    // Free the slot for the next case: the limit is three per service.
    assert.equal((await api(worker).deleteAction(service.id, res.json.action.id)).status, 204);
    return res.json.action;
  }

  test('a name of 40 characters is accepted and 41 is refused', async () => {
    assert.equal((await accepted({ name: 'n'.repeat(40) })).name, 'n'.repeat(40));
    await refused({ name: 'n'.repeat(41) }, 'name', /40/);
  });

  test('a name of 40 multi-byte characters is accepted', async () => {
    assert.equal((await accepted({ name: 'é'.repeat(40) })).name, 'é'.repeat(40));
  });

  test('a blank name is refused', async () => {
    await refused({ name: '   ' }, 'name', /required/i);
  });

  test('ten headers are accepted and eleven are refused', async () => {
    assert.equal((await accepted({ headers: headers(10) })).headers.length, 10);
    await refused({ headers: headers(11) }, 'headers', /10/);
  });

  test('a header value of 4096 bytes is accepted and 4097 is refused', async () => {
    assert.equal((await accepted({ headers: [{ name: 'X-Long', value: 'v'.repeat(4096) }] })).headers[0].value.length, 4096);
    await refused({ headers: [{ name: 'X-Long', value: 'v'.repeat(4097) }] }, 'headers[0].value', /4096/);
    // Bytes, not characters: 2049 two-byte characters are 4098 bytes.
    await refused({ headers: [{ name: 'X-Long', value: 'é'.repeat(2049) }] }, 'headers[0].value', /4096/);
  });

  test('headers the system sets cannot be overridden', async () => {
    for (const name of ['Content-Type', 'content-length', 'Host', 'User-Agent', 'webhook-signature', 'Webhook-Id', 'Connection', 'Transfer-Encoding']) {
      await refused({ headers: [{ name, value: 'x' }] }, 'headers[0].name', /cannot be overridden/);
    }
  });

  test('header names must be tokens and values may not hold line breaks', async () => {
    await refused({ headers: [{ name: 'X Bad', value: 'x' }] }, 'headers[0].name');
    await refused({ headers: [{ name: 'X-Colon:', value: 'x' }] }, 'headers[0].name');
    await refused({ headers: [{ name: 'X-Ok', value: 'a\r\nX-Injected: 1' }] }, 'headers[0].value');
    await refused({ headers: [{ name: 'X-Ok', value: 'a\u0000b' }] }, 'headers[0].value');
  });

  test('duplicate header names are refused regardless of case', async () => {
    await refused({ headers: [{ name: 'X-Key', value: '1' }, { name: 'x-key', value: '2' }] }, 'headers[1].name');
  });

  test('the endpoint must be https unless its host is on the allowlist', async () => {
    // The endpoint guard's refusals have their own code; e2e/endpoint_guard.test.mjs has the full table.
    const guarded = 'endpoint_not_allowed';
    await refused({ endpoint_url: 'http://example.com/hook' }, 'endpoint_url', /https/, guarded);
    await refused({ endpoint_url: 'ftp://example.com/hook' }, 'endpoint_url', undefined, guarded);
    await refused({ endpoint_url: '/relative' }, 'endpoint_url');
    await refused({ endpoint_url: '' }, 'endpoint_url', /required/i);
    await refused({ endpoint_url: 'https://user:pw@example.com/' }, 'endpoint_url', undefined, guarded);
    await refused({ endpoint_url: 'http://localhost:9100/hook' }, 'endpoint_url', undefined, guarded);
    assert.equal((await accepted({ endpoint_url: 'http://127.0.0.1:9/x' })).endpoint_url, 'http://127.0.0.1:9/x');
    assert.equal((await accepted({ endpoint_url: 'https://example.com/x' })).endpoint_url, 'https://example.com/x');
  });

  test('a description of 500 characters is accepted and 501 is refused', async () => {
    await accepted({ description: 'd'.repeat(500) });
    await refused({ description: 'd'.repeat(501) }, 'description', /500/);
  });

  test('every invalid field is reported at once', async () => {
    // A guarded endpoint sets the code; the other fields are still all listed.
    const errors = await refused({ name: '', endpoint_url: 'http://example.com', headers: [{ name: 'Host', value: 'x' }] }, 'name', undefined, 'endpoint_not_allowed');
    assert.ok('endpoint_url' in errors && 'headers[0].name' in errors, JSON.stringify(errors));
  });
});

describe('names are unique within a service', () => {
  test('a duplicate name, in any case, is 409 name_taken; another service may reuse it', async () => {
    const service = await createService(worker);
    await createAction(worker, service.id, { name: 'Restart', endpoint_url: ENDPOINT });
    assertApiError(await post(service, { name: 'restart', endpoint_url: ENDPOINT }), 409, 'name_taken');
    assertApiError(await post(service, { name: ' RESTART ', endpoint_url: ENDPOINT }), 409, 'name_taken');
    assert.equal((await list(service)).length, 1);
    const other = await createService(worker);
    await createAction(worker, other.id, { name: 'Restart', endpoint_url: ENDPOINT });
  });

  test('renaming onto another action’s name is 409 name_taken; renaming to itself in another case is fine', async () => {
    const service = await createService(worker);
    await createAction(worker, service.id, { name: 'Alpha', endpoint_url: ENDPOINT });
    const beta = await createAction(worker, service.id, { name: 'Beta', endpoint_url: ENDPOINT });
    assertApiError(await api(worker).updateAction(service.id, beta.id, { name: 'ALPHA' }), 409, 'name_taken');
    const same = await api(worker).updateAction(service.id, beta.id, { name: 'BETA' });
    assert.equal(same.status, 200, same.text);
    assert.equal(same.json.action.name, 'BETA');
    assert.deepEqual((await list(service)).map((a) => a.name), ['Alpha', 'BETA']);
  });

  test('a deleted action’s name can be used again', async () => {
    const service = await createService(worker);
    const action = await createAction(worker, service.id, { name: 'Reuse', endpoint_url: ENDPOINT });
    assert.equal((await api(worker).deleteAction(service.id, action.id)).status, 204);
    await createAction(worker, service.id, { name: 'reuse', endpoint_url: ENDPOINT });
  });
});

describe('three actions per service', () => {
  test('the fourth action is 409 action_limit with a message naming the limit', async () => {
    const service = await createService(worker);
    for (let i = 0; i < 3; i += 1) await createAction(worker, service.id, { endpoint_url: ENDPOINT });
    const error = assertApiError(await post(service, { name: 'Fourth', endpoint_url: ENDPOINT }), 409, 'action_limit');
    assert.match(error.message, /\b(three|3)\b/i);
    assert.match(error.message, /service/i);
    assert.equal((await list(service)).length, 3);
  });

  test('deleting one frees a slot', async () => {
    const service = await createService(worker);
    const first = await createAction(worker, service.id, { endpoint_url: ENDPOINT });
    for (let i = 0; i < 2; i += 1) await createAction(worker, service.id, { endpoint_url: ENDPOINT });
    assert.equal((await api(worker).deleteAction(service.id, first.id)).status, 204);
    await createAction(worker, service.id, { name: 'Replacement', endpoint_url: ENDPOINT });
    assert.equal((await list(service)).length, 3);
  });

  test('five concurrent creates leave exactly three actions', async () => {
    const service = await createService(worker);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => post(service, { name: `Concurrent ${i}`, endpoint_url: ENDPOINT })),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 201, 201, 409, 409], results.map((r) => `${r.status} ${r.text.slice(0, 200)}`).join('\n'));
    for (const r of results.filter((r) => r.status === 409)) assert.equal(r.json.error.code, 'action_limit');
    const stored = await list(service);
    assert.equal(stored.length, 3);
    const created = results.filter((r) => r.status === 201).map((r) => r.json.action.id).sort();
    assert.deepEqual(stored.map((a) => a.id).sort(), created);
  });

  test('concurrent creates with the same name leave one action', async () => {
    const service = await createService(worker);
    const results = await Promise.all(
      Array.from({ length: 3 }, () => post(service, { name: 'Same name', endpoint_url: ENDPOINT })),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409]);
    for (const r of results.filter((r) => r.status === 409)) assert.equal(r.json.error.code, 'name_taken');
    assert.equal((await list(service)).length, 1);
  });
});

describe('editing', () => {
  test('a PATCH changes only the fields sent and never returns the signing secret', async () => {
    const service = await createService(worker);
    const action = await createAction(worker, service.id, {
      name: 'Diagnose',
      endpoint_url: ENDPOINT,
      description: 'Collects diagnostics',
      headers: [{ name: 'X-Team', value: 'sre' }],
    });
    const res = await api(worker).updateAction(service.id, action.id, { enabled: false });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.action.enabled, false);
    assert.equal(res.json.action.name, 'Diagnose');
    assert.equal(res.json.action.description, 'Collects diagnostics');
    assert.deepEqual(res.json.action.headers, [{ name: 'X-Team', value: 'sre', secret: false }]);
    assert.equal(res.json.action.signing_secret, undefined);
    assert.ok(!res.text.includes(action.signing_secret));
    assert.ok(Date.parse(res.json.action.updated_at) >= Date.parse(action.updated_at));

    const edited = await api(worker).updateAction(service.id, action.id, {
      endpoint_url: 'https://other.example.com/x',
      description: '',
      headers: [],
    });
    assert.equal(edited.status, 200, edited.text);
    assert.equal(edited.json.action.endpoint_url, 'https://other.example.com/x');
    assert.equal(edited.json.action.description, null);
    assert.deepEqual(edited.json.action.headers, []);
    assert.equal(edited.json.action.enabled, false);

    const read = await api(worker).getAction(service.id, action.id);
    assert.deepEqual(read.json.action, edited.json.action);
  });

  test('an invalid PATCH is refused and changes nothing', async () => {
    const service = await createService(worker);
    const action = await createAction(worker, service.id, { name: 'Keep me', endpoint_url: ENDPOINT });
    const errors = fieldErrors(await api(worker).updateAction(service.id, action.id, { name: 'x'.repeat(41), endpoint_url: 'http://example.com' }), '', 'endpoint_not_allowed');
    assert.ok('name' in errors && 'endpoint_url' in errors);
    const read = await api(worker).getAction(service.id, action.id);
    assert.equal(read.json.action.name, 'Keep me');
    assert.equal(read.json.action.endpoint_url, ENDPOINT);
  });

  test('a secret header keeps its hidden value when edited without one', async () => {
    const service = await createService(worker);
    const action = await createAction(worker, service.id, {
      endpoint_url: ENDPOINT,
      headers: [{ name: 'Authorization', value: 'Bearer keep-me-secret', secret: true }],
    });
    const res = await api(worker).updateAction(service.id, action.id, {
      headers: [{ name: 'Authorization', value: null, secret: true }, { name: 'X-New', value: 'n' }],
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.action.headers, [
      { name: 'Authorization', value: null, secret: true },
      { name: 'X-New', value: 'n', secret: false },
    ]);
    assert.ok(!res.text.includes('keep-me-secret'));
  });

  test('a new secret header must have a value', async () => {
    const service = await createService(worker);
    const errors = fieldErrors(await post(service, { name: 'S', endpoint_url: ENDPOINT, headers: [{ name: 'X-Secret', value: null, secret: true }] }));
    assert.ok('headers[0].value' in errors, JSON.stringify(errors));
  });
});

describe('signing secret rotation', () => {
  test('rotate_secret returns a new secret once; reads never show it', async () => {
    const service = await createService(worker);
    const action = await createAction(worker, service.id, { endpoint_url: ENDPOINT });
    const res = await api(worker).rotateSecret(service.id, action.id);
    assert.equal(res.status, 200, res.text);
    assertSigningSecret(res.json.signing_secret);
    assert.notEqual(res.json.signing_secret, action.signing_secret);
    const read = await api(worker).getAction(service.id, action.id);
    assert.ok(!read.text.includes(res.json.signing_secret));
    assert.ok(!read.text.includes(action.signing_secret));
    const again = await api(worker).rotateSecret(service.id, action.id);
    assert.notEqual(again.json.signing_secret, res.json.signing_secret);
  });
});

describe('unknown and foreign ids', () => {
  test('an unknown action, or one of another service, is 404', async () => {
    const service = await createService(worker);
    const other = await createService(worker);
    const action = await createAction(worker, other.id, { endpoint_url: ENDPOINT });
    for (const id of ['act_missing', action.id]) {
      const client = api(worker);
      assertApiError(await client.getAction(service.id, id), 404, 'not_found', `GET ${id}`);
      assertApiError(await client.updateAction(service.id, id, { name: 'x' }), 404, 'not_found', `PATCH ${id}`);
      assertApiError(await client.deleteAction(service.id, id), 404, 'not_found', `DELETE ${id}`);
      assertApiError(await client.rotateSecret(service.id, id), 404, 'not_found', `rotate ${id}`);
    }
    const read = await api(worker).getAction(other.id, action.id);
    assert.equal(read.status, 200, 'the foreign action was left alone');
    assert.equal(read.json.action.name, action.name);
  });

  test('deleting an action removes it and a second delete is 404', async () => {
    const service = await createService(worker);
    const action = await createAction(worker, service.id, { endpoint_url: ENDPOINT });
    const del = await api(worker).deleteAction(service.id, action.id);
    assert.equal(del.status, 204, del.text);
    assert.deepEqual(await list(service), []);
    assertApiError(await api(worker).deleteAction(service.id, action.id), 404, 'not_found');
  });
});

describe('without PRIVATE_ENDPOINT_ALLOWLIST (as in production)', () => {
  const { worker: production } = useWorld({ vars: { PRIVATE_ENDPOINT_ALLOWLIST: '' }, receiver: false });

  test('a loopback http endpoint is refused and https is accepted', async () => {
    const service = await createService(production);
    const res = await api(production).createAction(service.id, { name: 'Local', endpoint_url: 'http://127.0.0.1:9100/hook' });
    assert.match(fieldErrors(res, '', 'endpoint_not_allowed').endpoint_url, /https/);
    const session = await api(production).getSession();
    assert.equal(session.json.settings.private_endpoint_allowlist, '');
    await createAction(production, service.id, { endpoint_url: 'https://hooks.example.com/x' });
  });
});
