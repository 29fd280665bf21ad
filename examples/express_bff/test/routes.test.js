'use strict'
// The KPI tables' admin-bff routes over HTTP on a loopback port.

const test = require('node:test')
const assert = require('node:assert/strict')
const teamkpi = require('teamkpi')
const { createApp, backfill } = require('../src/app')

const NOW = new Date('2025-10-10T12:00:00Z')
const DEFINITION = {
  key: 'avg_resolution',
  name: 'Average Resolution Time',
  description: 'Average time taken to resolve customer support cases',
  category: 'customer_support',
  unit: 'hours',
  target_type: 'lower_better',
  aggregation_period: 'weekly',
  source: { type: 'query', query_key: 'avg_resolution_time' },
}

async function serve(t, options = {}) {
  const store = new teamkpi.SqliteStore()
  store.upsertDefinition(DEFINITION)
  store.putAgents([{ id: 1, status: 'online', name: 'Ana' }])
  store.putTickets([
    { id: 1, agent_id: 1, created_at: new Date('2025-10-06T08:00:00Z'), resolved_at: new Date('2025-10-06T10:00:00Z') },
    { id: 2, agent_id: 1, created_at: new Date('2025-10-07T08:00:00Z'), resolved_at: new Date('2025-10-07T12:00:00Z') },
    // the same ISO week, after the range the curl session asks for
    { id: 3, agent_id: 1, created_at: new Date('2025-10-09T08:00:00Z'), resolved_at: new Date('2025-10-09T18:00:00Z') },
  ])
  const app = createApp({ store, now: () => NOW, ...options })
  await backfill(app, new Date('2025-09-01T00:00:00Z'), NOW)
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  t.after(() => new Promise((resolve) => server.close(resolve)))
  const base = `http://127.0.0.1:${server.address().port}/api/admin/kpis`
  const request = async (method, path, body, headers = {}) => {
    const r = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    })
    return { status: r.status, body: await r.json() }
  }
  return { store, request, live: app.locals.live }
}

test("the KPI tables' curl session: definitions, assign, calculate, user KPIs", async (t) => {
  const { store, request, live } = await serve(t)
  const defs = await request('GET', '/definitions')
  assert.equal(defs.status, 200)
  const [d] = defs.body.definitions
  assert.deepEqual([d.name, d.target_type, d.aggregation_period, d.calculation_type], [
    'Average Resolution Time', 'lower_better', 'weekly', 'metric'])

  const assigned = await request('POST', '/users/1/kpis/assign', { kpi_definition_id: d.id, target_value: 3, weight: 100, start_date: '2025-10-01' })
  assert.equal(assigned.status, 201)
  assert.equal(assigned.body.success, true)
  const userKpiId = assigned.body.user_kpi_id

  const before = await request('GET', '/users/1/kpis')
  assert.equal(before.status, 200)
  assert.equal(before.body.user_id, 1)
  assert.equal(before.body.kpis[0].latest_measurement, null)
  assert.equal(before.body.kpis[0].target_value.toFixed(2), '3.00')

  const calc = await request('POST', `/calculate/${userKpiId}`, { period_start: '2025-10-01', period_end: '2025-10-07' })
  assert.equal(calc.status, 200)
  assert.ok(calc.body.measurement_id > 0)
  // exactly the requested days: (2 h + 4 h) / 2 = 3 h against 3 h, lower better → 100 % (the
  // 10 h of Oct 9 is outside the range)
  const got = calc.body.measurement
  assert.deepEqual(
    [got.actual_value, got.achievement_percentage, got.period_start, got.period_end, got.ad_hoc],
    [3, 100, '2025-10-01', '2025-10-07', true],
  )
  const again = await request('POST', `/calculate/${userKpiId}`, { period_start: '2025-10-01', period_end: '2025-10-07' })
  assert.equal(again.body.measurement_id, calc.body.measurement_id)

  // ad hoc: never the scorecard's latest
  const after = await request('GET', '/users/1/kpis')
  assert.equal(after.body.kpis[0].latest_measurement, null)
  // the nightly job's natural week: (2 + 4 + 10) / 3 h → 56.25 %, the latest
  await live.updateKpisAsync({ now: NOW, date: '2025-10-09' })
  const nightly = await request('GET', '/users/1/kpis')
  const m = nightly.body.kpis[0].latest_measurement
  assert.deepEqual([m.period_start, m.achievement_percentage, m.ad_hoc], ['2025-10-06', 56.25, false])
  assert.equal(typeof m.calculated_at, 'string')
  assert.deepEqual(store.measurements(userKpiId).map((x) => [x.period_start, x.ad_hoc]), [['2025-10-01', true], ['2025-10-06', false]])
})

test('validation: 400 with a code, 404 for unknown ids, 409 for a duplicate', async (t) => {
  const { request } = await serve(t)
  const cases = [
    ['POST', '/users/1/kpis/assign', { target_value: 3 }, 400, 'invalid_argument'],
    ['POST', '/users/x/kpis/assign', { kpi_definition_id: 1, target_value: 3 }, 400, 'invalid_argument'],
    ['POST', '/users/1/kpis/assign', { kpi_definition_id: 99, target_value: 3 }, 404, 'unknown_definition'],
    ['POST', '/users/1/kpis/assign', { kpi_definition_id: 1, target_value: -1 }, 400, 'negative_target'],
    ['POST', '/users/1/kpis/assign', { kpi_definition_id: 1, target_value: 3, weight: 250 }, 400, 'weight_out_of_range'],
    ['POST', '/users/1/kpis/assign', { kpi_definition_id: 1, target_value: 3, start_date: '2025-02-30' }, 400, 'invalid_date'],
    ['POST', '/users/1/kpis/assign', '{not json', 400, 'invalid_argument'],
    ['POST', '/calculate/1', { period_start: '2025-10-07', period_end: '2025-10-01' }, 400, 'invalid_range'],
    ['POST', '/calculate/1', { period_start: 'today' }, 400, 'invalid_date'],
    ['POST', '/calculate/77', { period_start: '2025-10-01', period_end: '2025-10-07' }, 404, 'unknown_assignment'],
    ['GET', '/nothing-here', undefined, 404, 'not_found'],
  ]
  for (const [method, path, body, status, code] of cases) {
    const r = await request(method, path, body)
    assert.deepEqual([r.status, r.body.code], [status, code], `${method} ${path} ${JSON.stringify(body)}`)
    assert.equal(r.body.success, false)
  }
  assert.equal((await request('POST', '/users/1/kpis/assign', { kpi_definition_id: 1, target_value: 3, start_date: '2025-10-01' })).status, 201)
  const dup = await request('POST', '/users/1/kpis/assign', { kpi_definition_id: 1, target_value: 4, start_date: '2025-10-01' })
  assert.deepEqual([dup.status, dup.body.code], [409, 'duplicate_assignment'])
  // from a later day it overlaps the first (this app's rule); an unknown agent is 404
  const overlap = await request('POST', '/users/1/kpis/assign', { kpi_definition_id: 1, target_value: 4, start_date: '2025-10-15' })
  assert.deepEqual([overlap.status, overlap.body.code], [409, 'overlapping_assignment'])
  const stranger = await request('POST', '/users/999/kpis/assign', { kpi_definition_id: 1, target_value: 4 })
  assert.deepEqual([stranger.status, stranger.body.code], [404, 'unknown_agent'])
  // a week without activity: no measurement instead of the KPI tables' COALESCE(AVG, 0)
  const quiet = await request('POST', '/calculate/1', { period_start: '2025-09-01', period_end: '2025-09-02' })
  assert.deepEqual([quiet.status, quiet.body.measurement, quiet.body.reason], [200, null, 'no_data'])
})

test("the admin back end's auth middleware guards the routes", async (t) => {
  const auth = (req, res, next) =>
    req.get('authorization') === 'Bearer admin' ? next() : res.status(401).json({ success: false, error: 'unauthorized', code: 'unauthenticated' })
  const { request } = await serve(t, { auth })
  assert.equal((await request('GET', '/definitions')).status, 401)
  assert.equal((await request('GET', '/definitions', undefined, { authorization: 'Bearer admin' })).status, 200)
})

test('a long calculation through the async API does not block a second request', async (t) => {
  const { store, request, live } = await serve(t)
  // A year of the agent's tickets through the real-time feed, and several KPIs to recompute for
  // every day of it.
  const events = []
  for (let i = 0; i < 365 * 4; i++) {
    const at = new Date(Date.UTC(2024, 9, 11) + i * 6 * 3600e3)
    events.push({ id: `y${i}:c`, at, type: 'ticket_created', ticket_id: 1000 + i, agent_id: 7 })
    events.push({ id: `y${i}:v`, at: new Date(at.getTime() + 3600e3), type: 'resolved', ticket_id: 1000 + i })
  }
  const fed = await request('POST', '/events', events)
  assert.equal(fed.status, 200)
  assert.equal(fed.body.applied, events.length)
  assert.equal((await request('POST', '/events', events.slice(0, 10))).body.duplicates, 10)
  const bad = await request('POST', '/events', [{ id: 'b', at: NOW, type: 'resolved' }])
  assert.deepEqual([bad.status, bad.body.code], [400, 'invalid_events'])
  let userKpiId
  for (const metric of ['tickets_resolved', 'tickets_created', 'tickets_assigned', 'resolution_rate', 'avg_resolution_time', 'avg_first_response_time']) {
    for (const period of ['daily', 'weekly', 'monthly']) {
      const key = `${metric}_${period}`
      store.upsertDefinition({ key, name: key, unit: { avg_resolution_time: 'hours', avg_first_response_time: 'hours', resolution_rate: 'percent' }[metric] ?? 'count', direction: 'higher_better', period, source: { type: 'metric', metric } })
      const made = store.insertAssignment({ agent_id: 7, definition: key, target: 2, weight: 10, valid_from: '2024-10-01' })
      userKpiId = userKpiId ?? made.id
    }
  }
  // The nightly recompute of a year for every KPI, off the main thread.
  const started = Date.now()
  let longDone = false
  const long = live.updateKpisAsync({ now: NOW, days: 365, agentId: 7 }).then((r) => {
    longDone = true
    return r
  })
  // While it is pending, other requests are answered.
  for (let i = 0; i < 3; i++) {
    const quick = await request('GET', '/definitions')
    assert.equal(quick.status, 200)
  }
  assert.equal(longDone, false, 'the quick requests waited for the recompute')
  const report = await long
  assert.equal(report.failures, 0)
  t.diagnostic(`recompute of a year: ${Date.now() - started} ms`)
  // The calculate route over the same year: one ad-hoc measurement of exactly that range.
  const r = await request('POST', `/calculate/${userKpiId}`, { period_start: '2024-10-11', period_end: '2025-10-10' })
  assert.equal(r.status, 200)
  assert.ok(r.body.measurement_id > 0)
  // four tickets a day, all resolved within the year's range, the last at 2025-10-10 19:00
  assert.deepEqual([r.body.measurement.period_start, r.body.measurement.actual_value], ['2024-10-11', 365 * 4])
})
