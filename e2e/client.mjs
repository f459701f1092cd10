// The e2e tests' one client of the worker: a function per route, named after the route's
// `operationId` in camelCase (`CreateIncident` → `createIncident`), its path built from
// the route table, never written by hand in a test.
//
// The route table is declared once in Rust (shared/src/routes.rs) and written out to
// worker/openapi.json by `cargo test`; this module reads that file when imported, so a
// route the worker gains is a function here without an edit, and a renamed path moves
// every test with it. client.test.mjs checks that the functions and the routes of
// shared/fixtures/authorization.json are the same set.
//
//   api(worker).createService({ name })                       POST /api/services
//   api(member).getIncident(incident.id)                      GET  /api/incidents/{incident}
//   api(worker).runAction(incident.id, action.id, body, { headers: { 'idempotency-key': k } })
//   api(worker).listIncidents({ query: { service_id: service.id } })
//   api(worker).getSession({ token: null })                   anonymous: no Authorization
//   paths.getIncident('inc_missing')                          the path alone
//
// Path parameters come first, in the order the path names them; then the body, for a
// method that has one (POST, PUT, PATCH); then the options: `headers` (a header set to
// null is left out), `token` (a bearer token, or null to send none), `query` (an object,
// URLSearchParams or string; an array value repeats the name) and, for GET and DELETE,
// `body`. The answer is what harness.mjs's `request` returns: `{status, headers, text,
// json, ms}`.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OPENAPI = path.join(ROOT, 'worker/openapi.json');
const METHODS = ['get', 'put', 'post', 'patch', 'delete'];
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

const camel = (operationId) => operationId[0].toLowerCase() + operationId.slice(1);

/**
 * Every route of the worker, as worker/openapi.json lists it:
 * `{name, method, template, params}`, `params` being the `{...}` names in path order.
 */
export const routes = (() => {
  const spec = JSON.parse(fs.readFileSync(OPENAPI, 'utf8'));
  const out = [];
  for (const [template, operations] of Object.entries(spec.paths)) {
    for (const method of METHODS) {
      const operation = operations[method];
      if (!operation) continue;
      if (!operation.operationId) throw new Error(`${method.toUpperCase()} ${template} has no operationId in ${OPENAPI}`);
      const params = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      out.push({ name: camel(operation.operationId), method: method.toUpperCase(), template, params });
    }
  }
  const names = new Set();
  for (const route of out) {
    if (names.has(route.name)) throw new Error(`two routes are called ${route.name} in ${OPENAPI}`);
    names.add(route.name);
  }
  return out;
})();

/** A query string (with its `?`, or empty) from an object, URLSearchParams or string. */
function queryString(query) {
  if (query === undefined || query === null) return '';
  if (typeof query === 'string') return query ? `?${query.replace(/^\?/, '')}` : '';
  const search = query instanceof URLSearchParams ? query : new URLSearchParams();
  if (!(query instanceof URLSearchParams)) {
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined || value === null) continue;
      for (const one of Array.isArray(value) ? value : [value]) search.append(name, String(one));
    }
  }
  return search.size ? `?${search}` : '';
}

/**
 * Fills a route's template with `args`, put in as given: ids are URL-safe, and a test of
 * an odd id (a `/`, a `%`) means to send it as it is.
 */
function fill(route, args) {
  if (args.length < route.params.length) {
    throw new Error(`${route.name} needs ${route.params.join(', ')}; got ${args.length} argument(s)`);
  }
  let i = 0;
  return route.template.replace(/\{[^}]+\}/g, () => String(args[i++]));
}

/**
 * `paths.getIncident(id)` → `/api/incidents/{id}`; a last object argument `{query}` adds
 * a query string. For the tests that must send a path or method the client would not.
 */
export const paths = Object.fromEntries(
  routes.map((route) => [
    route.name,
    (...args) => {
      const options = args.length > route.params.length ? args[route.params.length] : {};
      return fill(route, args) + queryString(options?.query);
    },
  ]),
);

/**
 * The client of `target`: a worker from harness.mjs (calls as its ADMIN_TOKEN), a member
 * from `newMember` (as their token), anything else with `.api(method, path, body,
 * headers)`, or such a function itself. `defaults` are options every call starts from
 * (e.g. `{ token: null }` for an anonymous client, `{ headers: { cookie } }`); a header
 * of the call's own replaces the default's.
 */
export function api(target, defaults = {}) {
  // Looked up at each call, so a client of useWorld's stand-in can be made at the top of a file.
  const send = (...call) => {
    if (typeof target === 'function') return target(...call);
    if (typeof target?.api !== 'function') throw new Error('api(target): target needs an .api(method, path, body, headers)');
    return target.api(...call);
  };
  const client = {};
  for (const route of routes) {
    client[route.name] = (...args) => {
      const params = args.slice(0, route.params.length);
      const rest = args.slice(route.params.length);
      const body = WITH_BODY.has(route.method) ? rest.shift() : undefined;
      const options = rest.shift() ?? {};
      if (rest.length) throw new Error(`${route.name}: too many arguments`);
      const merged = { ...defaults, ...options, headers: { ...defaults.headers, ...options.headers } };
      const headers = {};
      if ('token' in merged) headers.authorization = merged.token === null ? null : `Bearer ${merged.token}`;
      Object.assign(headers, merged.headers);
      const urlPath = fill(route, params) + queryString(merged.query);
      return send(route.method, urlPath, body ?? merged.body, headers);
    };
  }
  return client;
}
