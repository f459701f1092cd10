// Load and crash: nothing accepted is lost or stored twice (issue "Ready for production"
// §6). The test command runs it (`node scripts/load-crash.mjs`); it is bounded in count
// and time and prints its counts.
//
// Eight clients for 60 s (--seconds) send, mixed: Events API triggers (a small pool of
// dedup keys, so many merge), acknowledges and resolves; runs of actions whose endpoints
// answer at once, slowly (1.5 s), with 503, or fail on first delivery; action edits; and
// notes. Midway the worker's whole process group is killed with SIGKILL and restarted on
// the same data; the clients carry on against the new one. Afterwards runs left
// `running` by the crash are aged and swept, and everything is accounted for:
//   - every 202 event is counted once in its incident (event_count) and once on its
//     timeline (a trigger or alert entry); acknowledges and resolves likewise;
//   - every 201 run has exactly one record, finished (succeeded, failed, or unknown after
//     the sweep), and every delivery the receiver got belongs to exactly one record;
//   - every 201 note is on its timeline exactly once;
//   - every action is listed and whole (no ghost), and shows the highest revision any
//     edit was answered with (no lost edit); the audit log has one record per answered
//     edit;
// Requests that got no answer (in flight at the crash) may or may not have happened: they
// are counted apart, and the checks allow exactly that many either way.

import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';

import { createService, expectStatus, sleep, startReceiver, startWorker, unique } from '../e2e/harness.mjs';

const { values: opts } = parseArgs({
  options: { seconds: { type: 'string', default: '60' }, clients: { type: 'string', default: '8' } },
});
const SECONDS = Number(opts.seconds);
const CLIENTS = Number(opts.clients);
const KEYS_PER_SERVICE = 6;

const counts = {
  events: { accepted: 0, unanswered: 0, refused: 0 },
  runs: { accepted: 0, unanswered: 0, refused: 0 },
  notes: { accepted: 0, unanswered: 0, refused: 0 },
  edits: { accepted: 0, unanswered: 0, conflicts: 0, refused: 0 },
};
const accepted = { triggers: new Map(), runs: [], notes: [], edits: new Map() };
const problems = [];
const check = (ok, message) => {
  if (!ok) problems.push(message);
};

let worker = await startWorker({ vars: { EVENTS_PER_MINUTE: '1000000', EVENT_BURST: '1000000' } });
const receiver = await startReceiver();
let restarting = null;

try {
  // Two services, each with three actions on endpoints that behave differently.
  const services = [];
  for (const [index, paths] of [['/ok', '/slow/1500', '/status/503'], ['/flaky', '/ok', '/slow/300']].entries()) {
    const service = await createService(worker, `Load ${index}`);
    const actions = [];
    for (const path of paths) {
      const res = await worker.api('POST', `/api/services/${service.id}/actions`, {
        name: `Load ${path.replace(/\W+/g, ' ').trim()}`,
        endpoint_url: `${receiver.url}${path}`,
      });
      const action = expectStatus(res, 201, 'create action').json.action;
      await receiver.addSecret(action.signing_secret);
      actions.push(action);
    }
    services.push({ ...service, actions });
  }

  /** Sends through the worker running now; a request cut by the crash is `null`. */
  async function send(fn) {
    if (restarting) await restarting;
    try {
      return await fn(worker);
    } catch {
      return null;
    }
  }
  const pick = (list) => list[Math.floor(Math.random() * list.length)];

  async function eventStep(client) {
    const service = pick(services);
    const key = `load-${service.id}-${Math.floor(Math.random() * KEYS_PER_SERVICE)}`;
    const action = pick(['trigger', 'trigger', 'trigger', 'acknowledge', 'resolve']);
    const event = { routing_key: service.routing_key, event_action: action, dedup_key: key };
    if (action === 'trigger') event.payload = { summary: `Load ${key}`, source: `client-${client}`, severity: 'critical' };
    const res = await send((w) => w.enqueue(event));
    if (!res || res.status >= 500) return void (counts.events.unanswered += 1);
    if (res.status !== 202) return void (counts.events.refused += 1, problems.push(`event ${res.status} ${res.text.slice(0, 200)}`));
    counts.events.accepted += 1;
    if (action === 'trigger') accepted.triggers.set(key, (accepted.triggers.get(key) ?? 0) + 1);
  }

  async function anIncident() {
    const res = await send((w) => w.api('GET', '/api/incidents?limit=20'));
    const incidents = res?.json?.incidents ?? [];
    return incidents.length ? pick(incidents) : null;
  }

  async function runStep() {
    const incident = await anIncident();
    if (!incident) return;
    const service = services.find((s) => s.id === incident.service.id);
    const action = pick(service.actions);
    const res = await send((w) => w.api('POST', `/api/incidents/${incident.id}/actions/${action.id}/runs`));
    if (!res || res.status >= 500) return void (counts.runs.unanswered += 1);
    if (res.status !== 201) return void (counts.runs.refused += 1);
    counts.runs.accepted += 1;
    accepted.runs.push(res.json.run.id);
  }

  async function noteStep(client) {
    const incident = await anIncident();
    if (!incident) return;
    const content = unique(`note from client ${client}`);
    const res = await send((w) => w.api('POST', `/api/incidents/${incident.id}/notes`, { content }));
    if (!res || res.status >= 500) return void (counts.notes.unanswered += 1);
    if (res.status !== 201) return void (counts.notes.refused += 1);
    counts.notes.accepted += 1;
    accepted.notes.push({ incident: incident.id, content });
  }

  async function editStep(client) {
    const service = pick(services);
    const action = pick(service.actions);
    const description = unique(`edited by client ${client}`);
    const res = await send((w) => w.api('PATCH', `/api/services/${service.id}/actions/${action.id}`, { description }));
    if (!res || res.status >= 500) return void (counts.edits.unanswered += 1);
    if (res.status === 409) return void (counts.edits.conflicts += 1);
    if (res.status !== 200) return void (counts.edits.refused += 1, problems.push(`edit ${res.status} ${res.text.slice(0, 200)}`));
    counts.edits.accepted += 1;
    const { revision } = res.json.action;
    const best = accepted.edits.get(action.id);
    if (!best || revision > best.revision) accepted.edits.set(action.id, { revision, description });
  }

  const deadline = Date.now() + SECONDS * 1000;
  async function client(index) {
    while (Date.now() < deadline) {
      const roll = Math.random();
      if (roll < 0.5) await eventStep(index);
      else if (roll < 0.75) await runStep();
      else if (roll < 0.9) await noteStep(index);
      else await editStep(index);
    }
  }
  async function crashMidway() {
    await sleep((SECONDS * 1000) / 2);
    const options = worker.restartOptions();
    let done;
    restarting = new Promise((resolve) => (done = resolve));
    console.log(`load-crash: SIGKILL to the worker's process group after ${SECONDS / 2} s`);
    await worker.kill();
    worker = await startWorker(options);
    restarting = null;
    done();
    console.log('load-crash: restarted on the same data');
  }
  console.log(`load-crash: ${CLIENTS} clients for ${SECONDS} s`);
  await Promise.all([...Array.from({ length: CLIENTS }, (_, i) => client(i)), crashMidway()]);
  await sleep(2000); // the last slow endpoints answer

  // Runs the crash left `running` are settled by the sweep once past deadline + grace:
  // age them instead of waiting 76 s.
  await worker.sql(`UPDATE action_runs SET started_at = started_at - 120000 WHERE status = 'running'`);
  await worker.scheduled();

  // --- accounting ------------------------------------------------------------------
  const all = async (path, key) => {
    const items = [];
    let cursor = null;
    do {
      const joint = path.includes('?') ? '&' : '?';
      const res = expectStatus(await worker.api('GET', `${path}${joint}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`), 200, path);
      items.push(...res.json[key]);
      cursor = res.json.next_cursor;
    } while (cursor);
    return items;
  };
  const incidents = await all('/api/incidents', 'incidents');
  // Merged triggers share one timeline row a minute, which counts them (`merged_events`,
  // not on the wire: the row's summary says it in words); so the rows' counts, read from
  // D1, must add up to each incident's `event_count`.
  const timelineCounts = new Map(
    (await worker.query(
      `SELECT incident_id, SUM(CASE WHEN type = 'trigger' THEN 1 ELSE COALESCE(merged_events, 1) END) AS n
       FROM log_entries WHERE type IN ('trigger', 'alert') GROUP BY incident_id`,
    )).map((row) => [row.incident_id, row.n]),
  );
  let triggerEntries = 0;
  let eventCountSum = 0;
  const noteContents = new Map();
  for (const incident of incidents) {
    eventCountSum += incident.event_count;
    const log = await all(`/api/incidents/${incident.id}/log`, 'log_entries');
    const triggers = timelineCounts.get(incident.id) ?? 0;
    triggerEntries += triggers;
    check(triggers === incident.event_count || incident.dedup_key.startsWith('load-') === false,
      `incident ${incident.id}: ${incident.event_count} events but its trigger and alert rows count ${triggers}`);
    for (const entry of log.filter((e) => e.type === 'note')) noteContents.set(entry.summary, (noteContents.get(entry.summary) ?? 0) + 1);
  }
  const acceptedTriggers = [...accepted.triggers.values()].reduce((a, b) => a + b, 0);
  const slack = counts.events.unanswered;
  check(eventCountSum >= acceptedTriggers && eventCountSum <= acceptedTriggers + slack,
    `${acceptedTriggers} triggers answered 202 (+${slack} unanswered) but incidents count ${eventCountSum}`);
  for (const [key, sent] of accepted.triggers) {
    const stored = incidents.filter((i) => i.dedup_key === key).reduce((sum, i) => sum + i.event_count, 0);
    check(stored >= sent && stored <= sent + slack, `key ${key}: ${sent} triggers accepted, ${stored} counted`);
  }

  // Runs: one record each, finished; each delivery belongs to one record.
  const outcomes = {};
  for (const id of accepted.runs) {
    const res = await worker.api('GET', `/api/runs/${id}`);
    check(res.status === 200, `run ${id} answered 201 but reads ${res.status}`);
    const run = res.json?.run;
    if (run) {
      const label = run.outcome === 'unknown' ? 'unknown' : run.status;
      outcomes[label] = (outcomes[label] ?? 0) + 1;
      check(['succeeded', 'failed'].includes(run.status), `run ${id} is still ${run.status}`);
    }
  }
  const deliveries = await receiver.deliveries();
  const deliveredIds = new Map();
  for (const d of deliveries) deliveredIds.set(d.headers['webhook-id'], (deliveredIds.get(d.headers['webhook-id']) ?? 0) + 1);
  const knownRuns = new Set(accepted.runs);
  let orphanDeliveries = 0;
  for (const [id] of deliveredIds) {
    if (knownRuns.has(id)) continue;
    // A run claimed just before the crash, its 201 lost: it must still have its record.
    const res = await worker.api('GET', `/api/runs/${id}`);
    if (res.status !== 200) orphanDeliveries += 1;
    else check(['succeeded', 'failed'].includes(res.json.run.status), `run ${id} (answer lost) is ${res.json.run.status}`);
  }
  check(orphanDeliveries === 0, `${orphanDeliveries} deliveries reached the receiver with no run record`);

  // Notes: each exactly once.
  for (const note of accepted.notes) {
    check(noteContents.get(note.content) === 1, `note "${note.content}" is on its timeline ${noteContents.get(note.content) ?? 0} times`);
  }

  // Actions: all listed, whole, and showing the newest answered edit.
  let auditedEdits = 0;
  for (const service of services) {
    const listed = expectStatus(await worker.api('GET', `/api/services/${service.id}/actions`), 200, 'actions').json.actions;
    check(listed.length === service.actions.length, `service ${service.id} lists ${listed.length} actions, not ${service.actions.length}`);
    for (const action of service.actions) {
      const now = listed.find((a) => a.id === action.id);
      check(now && !now.config_problem, `action ${action.id} is a ghost or unreadable: ${JSON.stringify(now)}`);
      const best = accepted.edits.get(action.id);
      if (now && best) {
        check(now.revision >= best.revision, `action ${action.id}: revision ${now.revision} is older than the answered ${best.revision}`);
        if (now.revision === best.revision) check(now.description === best.description, `action ${action.id}: the edit of revision ${best.revision} was lost`);
      }
    }
  }
  const audit = await all('/api/audit', 'audit_entries');
  auditedEdits = audit.filter((e) => e.event === 'action.updated').length;
  check(auditedEdits >= counts.edits.accepted && auditedEdits <= counts.edits.accepted + counts.edits.unanswered,
    `${counts.edits.accepted} edits answered 200 (+${counts.edits.unanswered} unanswered) but ${auditedEdits} audit records`);

  console.log('\nload-crash counts (answered / unanswered at the crash / refused):');
  console.log(`  events  ${counts.events.accepted} / ${counts.events.unanswered} / ${counts.events.refused}   triggers answered ${acceptedTriggers}, counted in incidents ${eventCountSum} (counted by timeline trigger and alert rows ${triggerEntries}), incidents ${incidents.length}`);
  console.log(`  runs    ${counts.runs.accepted} / ${counts.runs.unanswered} / ${counts.runs.refused}   records: ${JSON.stringify(outcomes)}   deliveries ${deliveries.length} (distinct webhook-ids ${deliveredIds.size})`);
  console.log(`  notes   ${counts.notes.accepted} / ${counts.notes.unanswered} / ${counts.notes.refused}   on timelines once each: ${accepted.notes.filter((n) => noteContents.get(n.content) === 1).length}`);
  console.log(`  edits   ${counts.edits.accepted} / ${counts.edits.unanswered} / ${counts.edits.refused} (409 conflicts ${counts.edits.conflicts})   audit records ${auditedEdits}`);
  if (problems.length) {
    console.log(`\nload-crash: ${problems.length} problem(s):`);
    for (const problem of problems.slice(0, 30)) console.log(`  - ${problem}`);
    process.exitCode = 1;
  } else {
    console.log('\nload-crash: everything accounted for');
  }
  assert.ok(counts.events.accepted > 0 && counts.runs.accepted > 0 && counts.notes.accepted > 0 && counts.edits.accepted > 0, 'every kind of request got through');
} finally {
  await Promise.all([worker.stop(), receiver.stop()]);
}
