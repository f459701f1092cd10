// Names and values people can trust (issue "Ready for production" §3), against the real
// worker: names refuse control, format and direction characters (Cc and Cf); action names
// are unique after NFKC normalization and case folding; header values are visible ASCII,
// spaces and tabs. Each refusal stores nothing.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { api } from './client.mjs';
import { assertApiError, createService, expectStatus, fieldErrors, unique, useWorld } from './harness.mjs';

const ENDPOINT = 'https://hooks.example.com/restart';

const { worker } = useWorld();

const createAction = (service, fields) =>
  api(worker).createAction(service.id, { endpoint_url: ENDPOINT, ...fields });
const actionNames = async (service) =>
  expectStatus(await api(worker).listActions(service.id), 200, 'actions').json.actions.map((a) => a.name);

// The characters the issue names, and a few of their kin.
const HIDDEN = ['\u0007', '\u007f', '\u00ad', '\u200b', '\u200c', '\u200d', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\ufeff', '\u0600'];

describe('names', () => {
  test('an action name with a control, format or direction character is refused, naming it', async () => {
    const service = await createService(worker);
    expectStatus(await createAction(service, { name: 'Rollback' }), 201, 'the plain name');
    for (const hidden of HIDDEN) {
      const res = await createAction(service, { name: `Rollback${hidden}` });
      const errors = fieldErrors(res, JSON.stringify(hidden));
      const code = `U+${hidden.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
      assert.ok(errors.name?.includes(code), `${code}: ${JSON.stringify(errors)}`);
    }
    assert.deepEqual(await actionNames(service), ['Rollback'], 'no look-alike button was made');
  });

  test('action names are one name after NFKC and case folding', async () => {
    const service = await createService(worker);
    expectStatus(await createAction(service, { name: 'Straße leeren' }), 201, 'first');
    for (const lookAlike of ['STRASSE LEEREN', 'ｓｔｒａßｅ leeren', 'strasse Leeren']) {
      assertApiError(await createAction(service, { name: lookAlike }), 409, 'name_taken', lookAlike);
    }
    const other = expectStatus(await createAction(service, { name: 'Restart' }), 201, 'other').json.action;
    assertApiError(
      await api(worker).updateAction(service.id, other.id, { name: 'ＳＴＲＡＳＳＥ LEEREN' }),
      409,
      'name_taken',
      'renaming onto a look-alike',
    );
    assert.deepEqual((await actionNames(service)).sort(), ['Restart', 'Straße leeren']);
  });

  test('service, user and token-label names and input labels refuse them too', async () => {
    const before = expectStatus(await api(worker).listServices(), 200, 'services').json.services.length;
    fieldErrors(await api(worker).createService({ name: `Payments\u202e` }), 'service');
    const after = expectStatus(await api(worker).listServices(), 200, 'services').json.services.length;
    assert.equal(after, before, 'no service was made');

    const email = `${unique('n').toLowerCase().replace(/\W+/g, '-')}@example.com`;
    fieldErrors(await api(worker).createUser({ name: 'Ada\u200b', email, role: 'observer' }), 'user');
    const user = expectStatus(await api(worker).createUser({ name: 'Ada', email, role: 'observer' }), 201, 'user').json.user;
    fieldErrors(await api(worker).createToken(user.id, { label: 'laptop\u0007' }), 'token');
    assert.deepEqual(expectStatus(await api(worker).listTokens(user.id), 200, 'tokens').json.tokens, []);

    const service = await createService(worker);
    const res = await createAction(service, {
      name: 'Scale',
      inputs: [{ key: 'replicas', label: 'Replicas\u200f', type: 'number', required: true }],
    });
    const errors = fieldErrors(res, 'input label');
    assert.ok(errors['inputs[0].label']?.includes('U+200F'), JSON.stringify(errors));
    assert.deepEqual(await actionNames(service), []);
  });
});

describe('header values', () => {
  test('visible ASCII, spaces and tabs are kept; anything else is 422 saying why', async () => {
    const service = await createService(worker);
    const ok = await createAction(service, {
      name: 'Kept',
      headers: [{ name: 'X-Note', value: 'tab\there ~!@#$%^&*()', secret: false }],
    });
    expectStatus(ok, 201, 'ascii');
    for (const [value, why] of [['café', /ASCII only/], ['line\u0085', /ASCII only/], ['bell\u0007', /control characters/], ['zero\u200bwidth', /ASCII only/]]) {
      const res = await createAction(service, { name: unique('Bad'), headers: [{ name: 'X-Note', value, secret: false }] });
      const errors = fieldErrors(res, JSON.stringify(value));
      assert.match(errors['headers[0].value'] ?? JSON.stringify(errors), why);
    }
    assert.deepEqual(await actionNames(service), ['Kept']);
  });
});
