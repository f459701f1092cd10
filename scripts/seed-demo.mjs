// Seeds the demo into a running worker, idempotently: one service with three actions
// pointing at the sample receiver (a plain one, one that asks first, one with a body
// template), a deploy reported through the Change Events API, and one open incident,
// which then lists that deploy among its recent changes; and a second service whose "Add
// diagnostics" action accepts replies (the receiver's /diagnostics answers with a note, a
// link and a summary), with an incident of its own. Prints where to sign in.
//
//   node scripts/seed-demo.mjs BASE_URL ADMIN_TOKEN RECEIVER_URL

const [baseUrl, token, receiverUrl] = process.argv.slice(2);
if (!baseUrl || !token || !receiverUrl) {
  console.error('usage: node scripts/seed-demo.mjs BASE_URL ADMIN_TOKEN RECEIVER_URL');
  process.exit(2);
}

const SERVICE_NAME = 'Checkout API (demo)';
const ACTION_NAME = 'Restart web tier';
const ROLL_BACK_NAME = 'Roll back deploy';
/** The second demo action asks first: typed inputs, a typed confirmation, open incidents only. */
const ROLL_BACK = {
  name: ROLL_BACK_NAME,
  description: 'Asks which region and version, and to type its name, before it POSTs.',
  inputs: [
    { key: 'region', label: 'Region', type: 'select', required: true, options: ['eu-west', 'us-east', 'ap-south'], default: 'eu-west' },
    { key: 'version', label: 'Version to roll back to', type: 'string', required: true, help: 'A release tag, e.g. v2026.11.3' },
    { key: 'dry_run', label: 'Dry run', type: 'boolean', default: false },
  ],
  confirm: { message: 'This rolls production back in the chosen region.', type_to_confirm: true },
  available_when: { statuses: ['triggered', 'acknowledged'] },
};

const STATUS_PAGE_NAME = 'Update status page';
/** The third demo action builds its own body from a template, with the clicker's choices. */
const STATUS_PAGE = {
  name: STATUS_PAGE_NAME,
  description: 'Posts a status page update with the component state you pick; the body is a template. Waits at most 5 s for the answer.',
  // A status page answers fast or not at all: this action's deadline is 5 s, not 16.
  timeout_ms: 5000,
  headers: [{ name: 'X-Statuspage-Key', value: 'demo-statuspage-key', secret: true }],
  inputs: [
    { key: 'component', label: 'Component', type: 'select', required: true, options: ['Checkout', 'Payments', 'Search'], default: 'Checkout' },
    {
      key: 'state',
      label: 'Component state',
      type: 'select',
      required: true,
      options: ['operational', 'degraded_performance', 'partial_outage', 'major_outage'],
      default: 'degraded_performance',
    },
    { key: 'notify', label: 'Notify subscribers', type: 'boolean', default: false },
  ],
  body_template: `{"incident": {"name": "{{ incident.title }}",
  "status": "{% if incident.status == 'resolved' %}resolved{% else %}investigating{% endif %}",
  "components": {"{{ inputs.component }}": "{{ inputs.state }}"},
  "deliver_notifications": {{ inputs.notify }},
  "api_key": "{{ secrets["X-Statuspage-Key"] }}"}}`,
};

async function api(method, path, body) {
  const response = await fetch(baseUrl + path, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function waitForWorker() {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${baseUrl}/api/session`);
      if (response.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the worker did not answer at ${baseUrl} within 3 minutes`);
}

await waitForWorker();

const { services } = await api('GET', '/api/services');

/** The service named `name`, created with `description` the first time. */
async function seededService(name, description) {
  return services.find((s) => s.name === name) ?? (await api('POST', '/api/services', { name, description })).service;
}

/**
 * A fresh signing secret for the action `body.name` of `service`: the secret is shown
 * once, so an action seeded by an earlier run has its secret rotated for the receiver.
 */
async function seededActionSecret(service, body) {
  const { actions } = await api('GET', `/api/services/${service.id}/actions`);
  const existing = actions.find((a) => a.name === body.name);
  return existing
    ? (await api('POST', `/api/services/${service.id}/actions/${existing.id}/rotate_secret`)).signing_secret
    : (await api('POST', `/api/services/${service.id}/actions`, body)).action.signing_secret;
}

const service = await seededService(SERVICE_NAME, 'Seeded by scripts/dev: a service whose incidents carry a demo action.');
const signingSecret = await seededActionSecret(service, {
  name: ACTION_NAME,
  description: 'POSTs the incident to the sample receiver, which verifies the signature.',
  endpoint_url: `${receiverUrl}/restart`,
  headers: [
    { name: 'X-Team', value: 'checkout-sre' },
    { name: 'Authorization', value: 'Bearer demo-receiver-token', secret: true },
  ],
});
const rollBackSecret = await seededActionSecret(service, { ...ROLL_BACK, endpoint_url: `${receiverUrl}/rollback` });
const statusPageSecret = await seededActionSecret(service, { ...STATUS_PAGE, endpoint_url: `${receiverUrl}/statuspage` });

// The second service: an action whose endpoint's answer writes back (the reply contract).
const DIAGNOSTICS_SERVICE = 'Payments API (demo)';
const DIAGNOSTICS_NAME = 'Add diagnostics';
const payments = await seededService(
  DIAGNOSTICS_SERVICE,
  'Seeded by scripts/dev: its action writes diagnostics back onto the incident.',
);
const diagnosticsSecret = await seededActionSecret(payments, {
  name: DIAGNOSTICS_NAME,
  description: "Collects diagnostics; the endpoint's answer adds them to the timeline as a note, with a dashboard link.",
  endpoint_url: `${receiverUrl}/diagnostics`,
  accept_reply: true,
});

// An endpoint that is briefly down: the receiver's /flaky answers 503 to the first
// delivery of each webhook-id, so a run fails and Redeliver on its result gets through.
const PURGE_NAME = 'Purge CDN cache';
const purgeSecret = await seededActionSecret(payments, {
  name: PURGE_NAME,
  description: 'Purges the CDN cache. Its endpoint is flaky: when a run fails, press Redeliver.',
  endpoint_url: `${receiverUrl}/flaky`,
});

for (const secret of [signingSecret, rollBackSecret, statusPageSecret, diagnosticsSecret, purgeSecret]) {
  const registered = await fetch(`${receiverUrl}/_control/secrets`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ secret }),
  });
  if (!registered.ok) throw new Error(`the receiver refused a signing secret: ${registered.status}`);
}

// The deploy before the incident, once: an incident page lists the service's changes of
// the 24 hours before it, and action payloads carry them as `recent_changes`.
const { changes } = await api('GET', `/api/services/${service.id}/changes?limit=1`);
if (changes.length === 0) {
  const changed = await fetch(`${baseUrl}/v2/change/enqueue`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      routing_key: service.routing_key,
      payload: {
        summary: 'Deployed checkout v2026.11.4',
        source: 'github.com/acme/checkout',
        timestamp: new Date(Date.now() - 40 * 60_000).toISOString(),
        custom_details: { commit: '9f2c1ab', author: 'ada', pull_request: 4182 },
      },
      links: [{ href: 'https://github.com/acme/checkout/commit/9f2c1ab', text: 'Commit 9f2c1ab' }],
    }),
  });
  if (changed.status !== 202) throw new Error(`/v2/change/enqueue answered ${changed.status}`);
}

/** Sends an Events API trigger for `service`, as a monitor would. */
async function trigger(service, dedupKey, payload) {
  const res = await fetch(`${baseUrl}/v2/enqueue`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ routing_key: service.routing_key, event_action: 'trigger', dedup_key: dedupKey, payload }),
  });
  if (res.status !== 202) throw new Error(`/v2/enqueue answered ${res.status}`);
}

await trigger(service, 'demo-checkout-latency', {
  summary: 'Checkout p99 latency above 2 s for 10 minutes',
  source: 'checkout-web-3',
  severity: 'critical',
  component: 'web',
  group: 'checkout',
  class: 'latency',
  custom_details: { p99_ms: 2310, threshold_ms: 2000, region: 'eu-west' },
});
await trigger(payments, 'demo-payments-auth-failures', {
  summary: 'Payment authorizations failing for 3% of requests',
  source: 'payments-api-2',
  severity: 'error',
  custom_details: { failure_rate: 0.031, provider: 'acquirer-eu' },
});

console.log(`
  Incident Actions is running with a demo.

    Open        ${baseUrl}
    Sign in     ${token}

  The incident "Checkout p99 latency above 2 s" on "${SERVICE_NAME}" has a
  "${ACTION_NAME}" button. Click it: the receiver on ${receiverUrl} prints the
  delivery and whether its signature verified. "${ROLL_BACK_NAME}" asks for a region and
  a version and to type its name first, and is offered only while the incident is open.
  "${STATUS_PAGE_NAME}" builds its body from a template: open it on the service's Custom
  Incident Actions page to edit the template and watch the request preview change.
  On "${DIAGNOSTICS_SERVICE}", the incident "Payment authorizations failing" has an
  "${DIAGNOSTICS_NAME}" button whose endpoint answers with a note, a dashboard link and a
  one-line result, all written back onto the incident, and a "${PURGE_NAME}" button
  whose endpoint fails the first delivery: press Redeliver on its result (a redelivery
  goes only to the origin the run went to, with the secrets it was made with). Each
  action card on a service's Custom Incident Actions page lists its recent runs, and
  warns when its last 3 runs failed. Add a user with the role stakeholder or observer on
  the Users page and sign in with their token to see what each role is shown.
  The incident page lists the deploy made 40 minutes before it ("Changes in the 24 h
  before this incident"). Open an incident yourself with "New incident" on the Incidents
  page, or send a test event from the service's card on the Services page.
  A leaked routing key? "Rotate routing key" on the service's card gives a new one and
  keeps the old one for 24 h, or stops it at once. Each routing key may send 120 events
  a minute (bursts to 240); past that the Events API answers 429 and clients retry.
  To put it on your own Cloudflare account: npx wrangler login, then scripts/deploy.
  PagerDuty's REST API is served at ${baseUrl}/pagerduty (e.g. GET /pagerduty/incidents
  with "Authorization: Token token=${token}"). The whole API is described (OpenAPI 3.1)
  at ${baseUrl}/api/openapi.json: load it into any OpenAPI viewer or client generator.
  Send more incidents:  curl -H 'Content-Type: application/json' ${baseUrl}/v2/enqueue \\
    -d '{"routing_key":"${service.routing_key}","event_action":"trigger","payload":{"summary":"Hello","source":"me","severity":"warning"}}'
`);
