// The sample receiver on its own: the tests of the worker rely on it telling a correctly
// signed delivery from a forged one, and on each path answering as documented.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';

import { request, startReceiver } from './harness.mjs';

const secret = `whsec_${crypto.randomBytes(32).toString('base64')}`;
const otherSecret = `whsec_${crypto.randomBytes(32).toString('base64')}`;

function signedDelivery(withSecret, body, { id = `run_${crypto.randomUUID()}`, at = new Date() } = {}) {
  const signature = new Webhook(withSecret).sign(id, at, body);
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

const event = JSON.stringify({
  event: {
    id: 'run_1',
    event_type: 'incident.custom_action',
    action: { id: 'act_1', name: 'Restart web' },
    data: { title: 'Disk full on db-1' },
  },
});

describe('sample receiver', () => {
  let receiver;
  before(async () => {
    receiver = await startReceiver({ secrets: [secret] });
  });
  after(async () => {
    await receiver?.stop();
  });

  test('a delivery signed with a known secret is verified and printed', async () => {
    const headers = signedDelivery(secret, event);
    const res = await request('POST', `${receiver.url}/hooks/restart`, event, headers);
    assert.equal(res.status, 200);
    assert.equal(res.json.ok, true);
    const delivery = (await receiver.deliveries()).find((d) => d.headers['webhook-id'] === headers['webhook-id']);
    assert.ok(delivery, 'delivery recorded');
    assert.equal(delivery.verified, true);
    assert.equal(delivery.body, event);
    assert.equal(delivery.path, '/hooks/restart');
    assert.equal(delivery.method, 'POST');
    assert.match(receiver.logs(), new RegExp(`verified .*id=${headers['webhook-id']}.*incident="Disk full on db-1" action="Restart web"`));
  });

  test('a delivery signed with an unknown secret is not verified', async () => {
    const headers = signedDelivery(otherSecret, event);
    await request('POST', `${receiver.url}/x`, event, headers);
    const delivery = (await receiver.deliveries()).find((d) => d.headers['webhook-id'] === headers['webhook-id']);
    assert.equal(delivery.verified, false);
    assert.match(receiver.logs(), new RegExp(`NOT VERIFIED .*id=${headers['webhook-id']}`));
  });

  test('a body changed after signing is not verified', async () => {
    const headers = signedDelivery(secret, event);
    await request('POST', `${receiver.url}/x`, event.replace('Restart', 'Rebootz'), headers);
    const delivery = (await receiver.deliveries()).find((d) => d.headers['webhook-id'] === headers['webhook-id']);
    assert.equal(delivery.verified, false);
  });

  test('a stale timestamp is not verified', async () => {
    const headers = signedDelivery(secret, event, { at: new Date(Date.now() - 10 * 60_000) });
    await request('POST', `${receiver.url}/x`, event, headers);
    const delivery = (await receiver.deliveries()).find((d) => d.headers['webhook-id'] === headers['webhook-id']);
    assert.equal(delivery.verified, false);
  });

  test('a secret added at run time verifies later deliveries', async () => {
    const headers = signedDelivery(otherSecret, event);
    await receiver.addSecret(otherSecret);
    await request('POST', `${receiver.url}/x`, event, headers);
    const delivery = (await receiver.deliveries()).find((d) => d.headers['webhook-id'] === headers['webhook-id']);
    assert.equal(delivery.verified, true);
  });

  test('a malformed secret is refused by the control route', async () => {
    const res = await request('POST', `${receiver.url}/_control/secrets`, { secret: 'whsec_' });
    assert.equal(res.status, 400);
  });

  test('the path chooses the answer', async () => {
    const s500 = await request('POST', `${receiver.url}/status/500`, '{}');
    assert.equal(s500.status, 500);
    assert.match(s500.text, /500/);

    const redirect = await request('POST', `${receiver.url}/redirect`, '{}');
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get('location'), '/ok');

    const html = await request('POST', `${receiver.url}/html`, '{}');
    assert.equal(html.text, '<script>alert("x")</script><b>bold</b>');
    assert.match(html.headers.get('content-type'), /^text\/html/);

    const big = await request('POST', `${receiver.url}/big`, '{}');
    assert.ok(big.text.length >= 2_000_000, `big answer is ${big.text.length} bytes`);

    const slow = await request('POST', `${receiver.url}/slow/300`, '{}');
    assert.equal(slow.status, 200);
    assert.ok(slow.ms >= 290, `slow answered after ${slow.ms} ms`);
  });

  test('/hang does not answer', async () => {
    await assert.rejects(
      fetch(`${receiver.url}/hang`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1500) }),
      { name: 'TimeoutError' },
    );
  });

  test('control routes are not recorded as deliveries', async () => {
    await receiver.clearDeliveries();
    await receiver.deliveries();
    await receiver.addSecret(secret);
    assert.deepEqual(await receiver.deliveries(), []);
  });
});
