// Rate limits: failed sign-ins per client address and runs per user, each refused past
// the limit with 429, `Retry-After` and the JSON error body. The worker runs with small
// limits (SIGN_IN_FAILURES_PER_MINUTE=3, RUNS_PER_MINUTE_PER_USER=2) so the boundary is
// quick to reach; the client address is the `CF-Connecting-IP` header, which the test
// sets to a different documentation address per case.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { api } from './client.mjs';
import {
  assertApiError,
  createAction,
  createService,
  expectStatus,
  newMember,
  sleep,
  timelineOf,
  triggerIncident,
  useWorld,
} from './harness.mjs';

const SIGN_IN_LIMIT = 3;
const RUN_LIMIT = 2;

const { worker, receiver } = useWorld({
  vars: { SIGN_IN_FAILURES_PER_MINUTE: String(SIGN_IN_LIMIT), RUNS_PER_MINUTE_PER_USER: String(RUN_LIMIT) },
});

/**
 * The limits count in fixed one-minute windows: a case that started just before a window
 * ends would see its count reset half-way, so it waits for the next window instead.
 */
async function freshWindow(budgetMs = 20_000) {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < budgetMs) await sleep(left + 250);
}

let nextAddress = 1;
/** A client address no other case uses. */
const newAddress = () => `198.51.100.${nextAddress++}`;

/** A sign-in through the API from `ip` with `token`. */
const attemptSignIn = (ip, token) => api(worker).signIn({ token }, { token: null, headers: { 'cf-connecting-ip': ip } });

/** Asserts a 429 `rate_limited` answer and returns its `Retry-After` in seconds. */
function assertRateLimited(res, what) {
  assertApiError(res, 429, 'rate_limited', what);
  const retryAfter = res.headers.get('retry-after');
  assert.match(retryAfter ?? '', /^\d+$/, `${what}: Retry-After is whole seconds, got ${retryAfter}`);
  const seconds = Number(retryAfter);
  assert.ok(seconds >= 1 && seconds <= 60, `${what}: Retry-After ${seconds} within the one-minute window`);
  assert.match(res.json.error.message, new RegExp(`try again in ${seconds} seconds?`), res.json.error.message);
  return seconds;
}

const noSessionCookie = (res) =>
  assert.deepEqual(res.headers.getSetCookie().filter((c) => c.startsWith('ia_session=') && !/Max-Age=0/i.test(c)), []);

describe('failed sign-ins per client address', () => {
  test(`the ${SIGN_IN_LIMIT}th failure is a 401, then every sign-in from that address is 429 until the window ends`, async () => {
    await freshWindow();
    const ip = newAddress();
    for (let i = 1; i <= SIGN_IN_LIMIT; i++) {
      assertApiError(await attemptSignIn(ip, `wrong-${i}`), 401, 'unauthorized', `failure ${i}`);
    }
    assertRateLimited(await attemptSignIn(ip, 'wrong-again'), 'the failure past the limit');
    // The right token too: otherwise the answers would still tell a guesser when they hit.
    const right = await attemptSignIn(ip, worker.token);
    assertRateLimited(right, 'the right token from a limited address');
    noSessionCookie(right);
  });

  test('another address is not affected by a limited one', async () => {
    await freshWindow();
    const limited = newAddress();
    for (let i = 0; i <= SIGN_IN_LIMIT; i++) await attemptSignIn(limited, 'wrong');
    assertRateLimited(await attemptSignIn(limited, 'wrong'), 'the limited address');
    const other = newAddress();
    assertApiError(await attemptSignIn(other, 'wrong'), 401, 'unauthorized', 'a failure from another address');
    expectStatus(await attemptSignIn(other, worker.token), 200, 'a sign-in from another address');
  });

  test('successful sign-ins are not counted', async () => {
    await freshWindow();
    const ip = newAddress();
    for (let i = 0; i < SIGN_IN_LIMIT + 2; i++) expectStatus(await attemptSignIn(ip, worker.token), 200, `success ${i + 1}`);
    for (let i = 1; i <= SIGN_IN_LIMIT; i++) {
      assertApiError(await attemptSignIn(ip, 'wrong'), 401, 'unauthorized', `failure ${i} after the successes`);
    }
    assertRateLimited(await attemptSignIn(ip, 'wrong'), 'the failure past the limit');
  });

  test('a wrong bearer token is not a failed sign-in', async () => {
    await freshWindow();
    const ip = newAddress();
    for (let i = 0; i < SIGN_IN_LIMIT + 2; i++) {
      const res = await api(worker).listServices({ headers: { authorization: 'Bearer wrong', 'cf-connecting-ip': ip } });
      assertApiError(res, 401, 'unauthorized', `bearer ${i + 1}`);
    }
    assertApiError(await attemptSignIn(ip, 'wrong'), 401, 'unauthorized', 'the first failed sign-in');
  });
});

describe('runs per user', () => {
  /** A responder with an API token (`api(responder)` calls as them). */
  const newResponder = () => newMember(worker, 'responder');

  test(`the ${RUN_LIMIT}th run is sent, the next is 429 and sends and records nothing; another user is unaffected`, async () => {
    const service = await createService(worker);
    const action = await createAction(worker, service.id, { endpoint_url: `${receiver.url}/ok` });
    await receiver.addSecret(action.signing_secret);
    const incident = await triggerIncident(worker, service);
    const [first, second] = [await newResponder(), await newResponder()];
    const press = (who, headers) => api(who).runAction(incident.id, action.id, undefined, { headers });
    await freshWindow(30_000);

    const keyed = { 'idempotency-key': `rl-first-${Date.now()}` };
    const firstRun = expectStatus(await press(first, keyed), 201, 'run 1');
    for (let i = 2; i <= RUN_LIMIT; i++) expectStatus(await press(first), 201, `run ${i}`);
    assertRateLimited(await press(first), 'the run past the limit');
    // A replay of an earlier run is answered before the limit: it sends nothing new.
    const replay = expectStatus(await press(first, keyed), 200, 'a replay past the limit');
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.json.run.id, firstRun.json.run.id);
    // An Idempotency-Key does not get a refused run through either.
    assertRateLimited(await press(first, { 'idempotency-key': `rl-${Date.now()}` }), 'a keyed run past the limit');

    const other = await press(second);
    expectStatus(other, 201, "another user's run");

    const runs = expectStatus(await api(worker).listRuns(incident.id), 200, 'runs').json.runs;
    assert.equal(runs.filter((r) => r.requested_by === first.user.id).length, RUN_LIMIT, 'only the allowed runs are recorded');
    assert.equal(runs.length, RUN_LIMIT + 1);
    const log = await timelineOf(worker, incident.id);
    assert.equal(log.filter((e) => e.type === 'action_run').length, RUN_LIMIT + 1, 'only the allowed runs are on the timeline');
    const hits = (await receiver.deliveries()).filter((d) => JSON.parse(d.body).event?.data?.id === incident.id);
    assert.equal(hits.length, RUN_LIMIT + 1, 'the endpoint received only the allowed runs');
  });

  test('refused presses (disabled, asked to confirm, past the limit) use none of the quota: only sent runs count', async () => {
    const service = await createService(worker);
    const action = await createAction(worker, service.id, { endpoint_url: `${receiver.url}/ok` });
    const disabled = await createAction(worker, service.id, { endpoint_url: `${receiver.url}/ok`, enabled: false });
    const confirmed = await createAction(worker, service.id, {
      endpoint_url: `${receiver.url}/ok`,
      confirm: { message: 'Sure?', type_to_confirm: false },
    });
    await receiver.addSecret(action.signing_secret);
    const incident = await triggerIncident(worker, service);
    const responder = await newResponder();
    const press = (a) => api(responder).runAction(incident.id, a.id, {});
    await freshWindow(30_000);

    for (let i = 0; i < RUN_LIMIT + 1; i++) {
      assertApiError(await press(disabled), 409, 'action_disabled', `disabled press ${i + 1}`);
      assertApiError(await press(confirmed), 428, 'confirmation_required', `unconfirmed ${i + 1}`);
    }
    for (let i = 1; i <= RUN_LIMIT; i++) expectStatus(await press(action), 201, `run ${i}`);
    for (let i = 0; i < 3; i++) assertRateLimited(await press(action), `past the limit ${i + 1}`);
    const [counted] = await worker.query(
      `SELECT SUM(count) AS n FROM rate_limits WHERE bucket LIKE '%${responder.user.id}'`,
    );
    assert.equal(counted.n, RUN_LIMIT, 'the window counts the sent runs only');
  });
});
