// Templated requests and the preview, against the real worker and a real receiver:
// - the receiver gets exactly the rendered body, and the Standard Webhooks signature
//   verifies over it;
// - a secret placed in the body or in a templated header reaches the receiver and
//   appears in no answer, preview, run record, timeline or worker log;
// - a template that fails on save is 422 invalid_template with its line, and nothing is
//   created; one that fails only at run time records a failed `template_error` run and
//   sends nothing;
// - a preview equals what is then sent, except the run id, timestamp and signature.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { api } from './client.mjs';
import {
  assertApiError,
  createService,
  expectStatus,
  newMember,
  timelineOf,
  triggerIncident,
  unique,
  useWorld,
} from './harness.mjs';

const { worker, receiver } = useWorld();

const STATUS_PAGE_TEMPLATE = `{
  "component": "{{ inputs.component }}",
  "status": "{{ inputs.state }}",
  "message": "{{ incident.title }} ({{ incident.custom_details.region }})",
  "notify": {{ inputs.notify }},
  "api_key": "{{ secrets["X-Api-Key"] }}",
  "by": "{{ agent.name }}"
}`;

/** A service, an incident and a templated "Update status page" action with a secret. */
async function statusPage({ template = STATUS_PAGE_TEMPLATE, incidentDetails = { region: 'eu-west-1' } } = {}) {
  const secretValue = `sk-${crypto.randomUUID()}`;
  const service = await createService(worker);
  const path = `/templates/${unique('p').replace(/\W+/g, '-')}`;
  const created = await api(worker).createAction(service.id, {
    name: 'Update status page',
    endpoint_url: `${receiver.url}${path}`,
    headers: [
      { name: 'X-Api-Key', value: secretValue, secret: true },
      { name: 'Authorization', value: 'Bearer {{ secrets["X-Api-Key"] }}' },
      { name: 'X-Incident', value: '#{{ incident.number }} {{ incident.status }}' },
    ],
    inputs: [
      { key: 'component', label: 'Component', type: 'string', required: true },
      { key: 'state', label: 'State', type: 'select', options: ['operational', 'degraded', 'major_outage'], default: 'degraded' },
      { key: 'notify', label: 'Notify subscribers', type: 'boolean', default: false },
    ],
    body_template: template,
  });
  const action = expectStatus(created, 201, 'create templated action').json.action;
  await receiver.addSecret(action.signing_secret);
  const incident = await triggerIncident(worker, service, { custom_details: incidentDetails });
  return { service, action, incident, path, secretValue, createdText: created.text };
}

const deliveriesTo = async (path) => (await receiver.deliveries()).filter((d) => d.path === path);

describe('a templated action', () => {
  test('sends exactly the rendered body, signed over it, with its templated headers', async () => {
    const { action, incident, path, secretValue } = await statusPage();
    const res = await api(worker).runAction(incident.id, action.id, { inputs: { component: 'API', notify: true } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.run.status, 'succeeded', res.text);
    const [delivery] = await deliveriesTo(path);
    assert.equal(delivery.verified, true, 'the signature verifies over the body received');
    assert.deepEqual(JSON.parse(delivery.body), {
      component: 'API',
      status: 'degraded',
      message: `${incident.title} (eu-west-1)`,
      notify: true,
      api_key: secretValue,
      by: 'Administrator',
    });
    assert.equal(delivery.headers['authorization'], `Bearer ${secretValue}`, 'a templated header carries the secret');
    assert.equal(delivery.headers['x-incident'], `#${incident.number} triggered`);
    assert.equal(delivery.headers['webhook-id'], res.json.run.id);
  });

  test('a preview equals what is then sent, except the run id, timestamp and signature', async () => {
    const { service, action, incident, path, secretValue } = await statusPage();
    const inputs = { component: 'Checkout', state: 'major_outage' };
    const preview = expectStatus(
      await api(worker).previewAction(service.id, action.id, { incident_id: incident.id, inputs }),
      200,
      'preview',
    ).json;
    assert.deepEqual(preview.incident, { id: incident.id, number: incident.number, title: incident.title });
    assert.equal(preview.request.method, 'POST');
    assert.equal(preview.request.url, `${receiver.url}${path}`);
    assert.equal(await deliveriesTo(path).then((d) => d.length), 0, 'a preview sends nothing');
    assert.deepEqual(
      expectStatus(await api(worker).listRuns(incident.id), 200, 'runs').json.runs,
      [],
      'and records nothing',
    );

    const run = await api(worker).runAction(incident.id, action.id, { inputs });
    assert.equal(run.status, 201, run.text);
    const [delivery] = await deliveriesTo(path);
    assert.equal(preview.request.body.replaceAll('[redacted]', secretValue), delivery.body, 'the same body, secret aside');
    const sent = Object.fromEntries(Object.entries(delivery.headers));
    const varying = new Set(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
    for (const { name, value } of preview.request.headers) {
      const key = name.toLowerCase();
      if (varying.has(key)) continue;
      if (value === '[redacted]') {
        // A secret, or a value made from one, reads [redacted] as a whole.
        assert.ok(sent[key].includes(secretValue), `header ${name} carries the secret when sent`);
        continue;
      }
      assert.equal(value.replaceAll('[redacted]', secretValue), sent[key], `header ${name}`);
    }
    const shown = (name) => preview.request.headers.find((h) => h.name === name)?.value;
    assert.equal(shown('webhook-id'), 'run_preview');
    assert.equal(shown('webhook-signature'), 'v1,<computed when sent>');
    assert.equal(shown('X-Api-Key'), '[redacted]');
    assert.equal(shown('Authorization'), '[redacted]', 'a value made from a secret reads [redacted] whole');
  });

  test('a secret placed in the body appears in no answer, preview, run record, timeline or log', async () => {
    const { service, action, incident, secretValue, createdText } = await statusPage();
    const answers = [createdText];
    const keep = (res) => {
      answers.push(res.text, JSON.stringify([...res.headers]));
      return res;
    };
    keep(await api(worker).previewAction(service.id, action.id, { incident_id: incident.id, inputs: { component: 'DB' } }));
    keep(await api(worker).previewDraft(service.id, {
      draft: { name: 'Draft', endpoint_url: `${receiver.url}/x`, headers: [{ name: 'X-Api-Key', value: secretValue, secret: true }],
        body_template: '{"k": "{{ secrets["X-Api-Key"] }}"}' },
    }));
    keep(await api(worker).runAction(incident.id, action.id, { inputs: { component: 'DB' } }));
    // An endpoint that echoes the request back: the excerpt must not carry the secret either.
    const echoing = expectStatus(
      await api(worker).updateAction(service.id, action.id, { endpoint_url: `${receiver.url}/echo` }),
      200,
      'point at the echo route',
    );
    keep(echoing);
    const echoed = keep(await api(worker).runAction(incident.id, action.id, { inputs: { component: 'DB' } }));
    assert.equal(echoed.status, 201, echoed.text);
    keep(await api(worker).listRuns(incident.id));
    keep(await api(worker).getLog(incident.id));
    keep(await api(worker).getRun(echoed.json.run.id));
    keep(await api(worker).listActions(service.id));
    keep(await api(worker).listAudit());
    for (const [index, text] of answers.entries()) {
      assert.ok(!text.includes(secretValue), `answer ${index} carries the secret: ${text.slice(0, 500)}`);
    }
    const stored = await worker.query(`SELECT * FROM action_runs WHERE incident_id = '${incident.id}'`);
    assert.ok(!JSON.stringify(stored).includes(secretValue), 'no run row holds the secret');
    assert.ok(!worker.logs().includes(secretValue), 'the worker never logs it');
  });

  test('a template that fails on save is 422 invalid_template with its line, and nothing is created', async () => {
    const service = await createService(worker);
    const res = await api(worker).createAction(service.id, {
      name: 'Broken',
      endpoint_url: `${receiver.url}/broken`,
      headers: [{ name: 'X-Bad', value: "{{ 'a' ~ '\\n' ~ 'b' }}" }],
      body_template: '{\n  "title": "{{ incident.title }}",\n  "oops": {% if %}\n}',
    });
    const error = assertApiError(res, 422, 'invalid_template', 'broken template');
    const fields = Object.fromEntries(error.fields.map((f) => [f.field, f.message]));
    assert.match(fields.body_template, /^Line 3: syntax error/);
    assert.match(fields['headers[0].value'], /^Header X-Bad: the rendered value is refused/);
    const notJson = await api(worker).createAction(service.id, {
      name: 'Not JSON',
      endpoint_url: `${receiver.url}/broken`,
      body_template: '{"title": {{ incident.title }}}',
    });
    assert.match(assertApiError(notJson, 422, 'invalid_template', 'not json').message, /not valid JSON/);
    const listed = expectStatus(await api(worker).listActions(service.id), 200, 'list').json.actions;
    assert.deepEqual(listed, []);
  });

  test('a template that fails only at run time records a failed template_error run and sends nothing', async () => {
    // The sample incident's custom_details.free_percent is a number; this incident's is text.
    const { action, incident, path } = await statusPage({
      template: '{"free": {{ incident.custom_details.free_percent + 1 }}}',
      incidentDetails: { free_percent: 'low' },
    });
    const res = await api(worker).runAction(incident.id, action.id, { inputs: { component: 'DB' } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.run.status, 'failed');
    assert.equal(res.json.run.outcome, 'template_error');
    assert.match(res.json.run.response_excerpt, /^Line 1: /);
    assert.equal(res.json.run.request_headers, null, 'nothing was sent');
    assert.equal((await deliveriesTo(path)).length, 0, 'the receiver got nothing');
    const log = await timelineOf(worker, incident.id);
    const line = log.find((e) => e.type === 'action_run');
    assert.match(line.summary, /template failed, nothing was sent/);
  });

  test('without a template the payload is the default one', async () => {
    const service = await createService(worker);
    const path = `/templates/${unique('plain').replace(/\W+/g, '-')}`;
    const action = expectStatus(
      await api(worker).createAction(service.id, { name: 'Plain', endpoint_url: `${receiver.url}${path}` }),
      201,
      'plain action',
    ).json.action;
    await receiver.addSecret(action.signing_secret);
    const incident = await triggerIncident(worker, service);
    const preview = expectStatus(await api(worker).previewAction(service.id, action.id, {}), 200, 'preview').json;
    const previewed = JSON.parse(preview.request.body);
    assert.equal(previewed.event.event_type, 'incident.custom_action');
    assert.equal(previewed.event.data.id, incident.id, 'the latest incident of the service by default');
    expectStatus(await api(worker).runAction(incident.id, action.id), 201, 'run');
    const [delivery] = await deliveriesTo(path);
    const sent = JSON.parse(delivery.body);
    assert.deepEqual(Object.keys(sent.event).sort(), ['action', 'agent', 'data', 'event_type', 'id', 'inputs', 'occurred_at']);
    assert.deepEqual({ ...sent.event, id: 'x', occurred_at: 'x' }, { ...previewed.event, id: 'x', occurred_at: 'x' });
  });
});

describe('the preview', () => {
  test('of a service with no incident uses a sample, and of an unsaved draft needs a manager', async () => {
    const service = await createService(worker);
    const draft = { name: 'New', endpoint_url: `${receiver.url}/new`, body_template: '{"t": "{{ incident.title }}"}' };
    const sample = expectStatus(
      await api(worker).previewDraft(service.id, { draft }),
      200,
      'draft preview',
    ).json;
    assert.equal(sample.incident, null, 'no incident yet: a sample');
    assert.match(JSON.parse(sample.request.body).t, /^Sample: /);
    assertApiError(await api(worker).previewDraft(service.id, {}), 400, 'draft_required', 'no draft');
    const badInputs = await api(worker).previewDraft(service.id, {
      draft: { ...draft, inputs: [{ key: 'n', label: 'N', type: 'number', max: 3 }] },
      inputs: { n: 4 },
    });
    assert.equal(assertApiError(badInputs, 422, 'invalid_inputs', 'bad values').fields[0].field, 'inputs.n');

    const { service: other, action, incident } = await statusPage();
    const responder = await newMember(worker, 'responder');
    const theirs = expectStatus(
      await api(responder).previewAction(other.id, action.id, { incident_id: incident.id, inputs: { component: 'X' } }),
      200,
      'responder preview',
    ).json;
    assert.equal(theirs.request.url, null, 'the endpoint is for managers, as on the action');
    assert.equal(JSON.parse(theirs.request.body).component, 'X');
    assertApiError(await api(responder).previewAction(other.id, action.id, { draft }), 403, 'forbidden', 'responder draft');
    const stakeholder = await newMember(worker, 'stakeholder');
    assertApiError(await api(stakeholder).previewAction(other.id, action.id, {}), 403, 'forbidden', 'stakeholder');
    assertApiError(
      await api(worker).previewAction(service.id, action.id, { incident_id: incident.id }),
      404,
      'not_found',
      'an action of another service',
    );
  });
});
