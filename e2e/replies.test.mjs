// The reply contract against the real worker and a real receiver: an action with
// `accept_reply` writes its endpoint's note onto the timeline, its links onto the incident
// and its summary onto the run, exactly once; a field that breaks a rule is ignored and
// named in `reply_error`; an answer that is not JSON, or an action without
// `accept_reply`, writes nothing back.
//
// The worker runs with FAULT_INJECTION=run_record_answer_lost: the first write of every
// run's final record lands but reports failure, so the worker writes it again. (wrangler
// dev offers no way to make D1 lose an answer; the fault is the only stand-in, and it sits
// after the real write.) Every run here therefore also proves the reply is applied once.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { api } from './client.mjs';
import { expectStatus, serviceWithAction, useWorld, timelineOf } from './harness.mjs';

const world = useWorld({ vars: { FAULT_INJECTION: 'run_record_answer_lost' } });

/** A service, an incident and an "Add diagnostics" action (accepting replies) POSTing to `path`. */
const setUp = (path, fields = {}) =>
  serviceWithAction(world.worker, world.receiver, path, { name: 'Add diagnostics', accept_reply: true, ...fields });

async function runIt(incident, action) {
  const res = await api(world.worker).runAction(incident.id, action.id, {});
  // 201: recorded (after the retry the fault forces).
  assert.equal(res.status, 201, res.text);
  return res.json.run;
}

const timeline = async (incident) =>
  await timelineOf(world.worker, incident.id);
const incidentNow = async (incident) =>
  expectStatus(await api(world.worker).getIncident(incident.id), 200, 'incident').json.incident;
const replyPath = (body, type) =>
  `/reply?json=${encodeURIComponent(JSON.stringify(body))}${type ? `&type=${encodeURIComponent(type)}` : ''}`;

describe('the reply contract', () => {
  test('accept_reply is stored and shown, and can be turned off', async () => {
    const { service, action } = await setUp('/diagnostics');
    assert.equal(action.accept_reply, true);
    const patched = await api(world.worker).updateAction(service.id, action.id, { accept_reply: false });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.action.accept_reply, false);
    const listed = expectStatus(await api(world.worker).listActions(service.id), 200, 'list').json.actions;
    assert.equal(listed[0].accept_reply, false);
  });

  test('a diagnostics reply writes its note, link and summary exactly once, though the final write is retried', async () => {
    const { action, incident } = await setUp('/diagnostics');
    const run = await runIt(incident, action);
    assert.equal(run.status, 'succeeded');
    assert.equal(run.summary, 'Diagnostics attached to the incident');
    assert.equal(run.reply_error, undefined);

    const stored = expectStatus(await api(world.worker).getRun(run.id), 200, 'run').json.run;
    assert.equal(stored.summary, 'Diagnostics attached to the incident');

    const entries = await timeline(incident);
    const notes = entries.filter((e) => e.type === 'note');
    assert.equal(notes.length, 1, `one note: ${JSON.stringify(entries)}`);
    assert.match(notes[0].summary, /^Diagnostics for ".*": load average/);
    assert.match(notes[0].agent, /^via Add diagnostics, run by \S/);
    const line = entries.find((e) => e.type === 'action_run');
    assert.match(line.summary, /^Ran "Add diagnostics": Diagnostics attached to the incident \(\d+ ms\)$/);

    const links = (await incidentNow(incident)).links;
    assert.deepEqual(links, [{ href: 'https://grafana.example.com/d/checkout-latency', text: 'Checkout latency dashboard' }]);
  });

  test('every field that breaks a rule is ignored, named in reply_error, and the run still succeeds', async () => {
    const { action, incident } = await setUp(
      replyPath({
        note: '',
        links: [{ href: 'http://plain.example/x', text: 'Plain http' }],
        summary: 's'.repeat(141),
      }),
    );
    const run = await runIt(incident, action);
    assert.equal(run.status, 'succeeded');
    assert.equal(run.summary, undefined);
    assert.match(run.reply_error, /note ignored: it must be 1–2000 characters, not 0/);
    assert.match(run.reply_error, /links ignored: link 1: href must be an absolute https URL/);
    assert.match(run.reply_error, /summary ignored: it must be at most 140 characters, not 141/);
    assert.equal((await timeline(incident)).filter((e) => e.type === 'note').length, 0);
    assert.deepEqual((await incidentNow(incident)).links, []);
  });

  test('HTML in a note is kept as the text it is', async () => {
    const note = '<script>alert(1)</script><b>disk</b> & "quotes"';
    const { action, incident } = await setUp(replyPath({ note }));
    await runIt(incident, action);
    const notes = (await timeline(incident)).filter((e) => e.type === 'note');
    assert.deepEqual(notes.map((e) => e.summary), [note]);
  });

  test('an answer that is not JSON by its content type, or an action without accept_reply, writes nothing back', async () => {
    const asText = await setUp(replyPath({ note: 'read me', summary: 'done' }, 'text/plain'));
    const textRun = await runIt(asText.incident, asText.action);
    assert.equal(textRun.summary, undefined);
    assert.equal((await timeline(asText.incident)).filter((e) => e.type === 'note').length, 0);

    const off = await setUp('/diagnostics', { accept_reply: false });
    const offRun = await runIt(off.incident, off.action);
    assert.equal(offRun.status, 'succeeded');
    assert.equal(offRun.summary, undefined);
    assert.equal((await timeline(off.incident)).filter((e) => e.type === 'note').length, 0);
    assert.deepEqual((await incidentNow(off.incident)).links, []);
    // The answer is still shown as the run's excerpt, as for any action.
    assert.match(offRun.response_excerpt, /Diagnostics for/);
  });
});
