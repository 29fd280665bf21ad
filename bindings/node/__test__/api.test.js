'use strict'
// The Node surface beyond the vectors: Dates, errors and codes, async batch work, the engine,
// the stores on SQLite and PostgreSQL (PG_TEST_URL), updateKpis.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const t = require('..')

const NOW = new Date('2025-11-05T18:00:00Z')
const T0 = new Date('2025-11-03T08:00:00Z')
const hours = (d, h) => new Date(d.getTime() + h * 3600e3)

test('exact values are strings, display values numbers rounded to 2 places', () => {
  assert.equal(t.achievement(1, 3, 'higher_better').slice(0, 12), '33.333333333')
  assert.equal(t.achievement('2', '3', 'lower_better', { cap: 120 }), '120')
  const report = t.ticketMetrics([
    { id: 1, agent_id: 1, created_at: T0, first_response_at: new Date(T0.getTime() + 1000) },
    { id: 2, agent_id: 1, created_at: T0, first_response_at: new Date(T0.getTime() + 2000) },
    { id: 3, agent_id: 1, created_at: T0, first_response_at: new Date(T0.getTime() + 2000) },
  ])
  const row = report.rows[0]
  assert.equal(row.avg_first_response_seconds, 1.67) // 5/3, rounded half away from zero
  assert.equal(typeof row.period_start, 'string')
  assert.equal(row.period_start, '2025-11-03')
  assert.equal(row.resolution_rate_percent.toFixed(2), '0.00')
})

test('Dates in and out; invalid Dates and NaN are errors', () => {
  const cal = new t.BusinessCalendar('America/New_York', { mon: [['09:00', '17:00']], tue: [['09:00', '17:00']] })
  const due = cal.addBusinessSeconds(new Date('2025-11-03T13:30:00Z'), 8 * 3600)
  assert.ok(due instanceof Date)
  // opens 09:00 New York (14:00Z), closes 17:00 (22:00Z): 8 business hours end at the close
  assert.equal(due.toISOString(), '2025-11-03T22:00:00.000Z')
  assert.equal(cal.businessSecondsBetween(new Date('2025-11-03T13:30:00Z'), due), 8 * 3600)
  assert.throws(() => cal.isOpen(new Date('nope')), { code: 'invalid_argument' })
  assert.throws(() => cal.isOpen('2025-11-03'), { code: 'invalid_type' })
  assert.throws(() => t.achievement(Number.NaN, 1, 'higher_better'), { code: 'invalid_number' })
  const snap = new t.Engine()
  snap.apply({ id: 'c', at: T0, type: 'ticket_created', ticket_id: 1, agent_id: 3 })
  assert.ok(snap.snapshots()[0].created_at instanceof Date)
})

test('every error is an Error with a stable code, the same list as Rust', () => {
  assert.ok(t.ERROR_CODES.includes('late_event') && t.ERROR_CODES.includes('storage'))
  const cases = [
    [() => new t.BusinessCalendar('Mars/Base', { mon: [['09:00', '17:00']] }), 'unknown_timezone'],
    [() => new t.BusinessCalendar('UTC', {}), 'calendar_never_open'],
    [() => t.performanceScore(2, 1, 1), 'rate_out_of_range'],
    [() => t.periods('day', '2025-11-05', '2025-11-01'), 'invalid_range'],
    [() => t.convertUnit(1, 'hours', 'percent'), 'unit_mismatch'],
    [() => new t.Assigner([]), 'empty_agent_list'],
    [() => new t.Assigner([{ id: 1, status: 'offline' }]).pick({ id: 1, created_at: T0 }, T0), 'no_eligible_agent'],
    [() => new t.Assigner([{ id: 1, status: 'online' }]).setStatus(2, 'online'), 'unknown_agent'],
    [() => new t.Engine('UTC', { strict: true }).apply({ id: 'x', at: T0, type: 'resolved', ticket_id: 9 }), 'unknown_ticket'],
    [() => new t.SqliteStore().insertAssignment({ agent_id: 1, definition: 'nope', target: 1, weight: 1, valid_from: '2025-11-01' }), 'unknown_definition'],
    [() => new t.SqliteStore().updateAssignment({ id: 7, agent_id: 1, definition: 'k', target: 1, weight: 1, valid_from: '2025-11-01', active: true, tenant: null }), 'unknown_assignment'],
  ]
  for (const [fn, code] of cases) {
    assert.throws(fn, (e) => {
      assert.ok(e instanceof Error && e instanceof t.TeamKpiError, String(e))
      assert.equal(e.code, code, e.message)
      return true
    })
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamkpi-'))
  const bad = path.join(dir, 'bad.db')
  fs.writeFileSync(bad, 'not a database'.repeat(100))
  assert.throws(() => new t.SqliteStore(bad), { code: 'storage' })
  try {
    new t.Assigner([{ id: 1, status: 'offline' }]).pick({ id: 1, created_at: T0 }, T0)
  } catch (e) {
    assert.equal(e.reason, 'nobody_available')
  }
})

test('batch work off the main thread', async () => {
  const tickets = []
  for (let i = 0; i < 20000; i++) {
    tickets.push({ id: i, agent_id: (i % 50) + 1, priority: 'high', created_at: hours(T0, i % 100), resolved_at: hours(T0, (i % 100) + 2) })
  }
  let ticks = 0
  const timer = setInterval(() => ticks++, 0)
  const [sync, asyncReport, perf] = await Promise.all([
    Promise.resolve(t.ticketMetrics(tickets, { quantiles: false })),
    t.ticketMetricsAsync(tickets, { quantiles: false }),
    t.analyticsAsync('performance', tickets, { now: new Date('2025-11-20T00:00:00Z'), days: 30 }),
  ])
  clearInterval(timer)
  assert.deepEqual(asyncReport, sync)
  assert.equal(perf.tickets_handled, 20000)
  await assert.rejects(t.ticketMetricsAsync(tickets, { period: 'fortnight' }), { code: 'invalid_choice' })
  assert.ok(ticks >= 0)
})

test('engine: the support desk transfer, duplicates, eviction and late events', () => {
  const e = new t.Engine('UTC')
  e.apply({ id: 1, at: T0, type: 'ticket_created', ticket_id: 1, agent_id: 1 })
  const applied = e.apply({ id: 2, at: hours(T0, 1), type: 'ticket_transferred', ticket_id: 1, from: 1, to: 2 })
  // the same {agent_id, day} entries as a batch report's (and Python's)
  assert.deepEqual(applied.touched.sort((a, b) => a.agent_id - b.agent_id), [{ agent_id: 1, day: '2025-11-03' }, { agent_id: 2, day: '2025-11-03' }])
  assert.equal(e.apply({ id: 2, at: hours(T0, 1), type: 'ticket_transferred', ticket_id: 1, to: 2 }).duplicate, true)
  e.apply({ id: 3, at: hours(T0, 2), type: 'closed', ticket_id: 1 })
  assert.equal(e.evictBefore(hours(T0, 24 * 30)), 1)
  const before = e.rows()
  assert.throws(() => e.apply({ id: 4, at: hours(T0, 3), type: 'reopened', ticket_id: 1 }), { code: 'late_event' })
  assert.deepEqual(e.rows(), before)
  const many = e.applyMany([{ id: 5, at: hours(T0, 3), type: 'reopened', ticket_id: 1 }])
  assert.deepEqual([many.applied, many.rejected[0].code], [0, 'late_event'])
  assert.equal(e.agentMetrics(2, '2025-11-03').transfers_in, 1)
})

test('engine: plain events (field by field) and the JSON path agree, errors included', () => {
  const stream = []
  for (let i = 0; i < 60; i++) {
    const at = hours(T0, i / 4)
    const ticket = i % 7
    const kinds = [
      { type: 'ticket_created', agent_id: (ticket % 3) + 1, priority: 'high', team: 'L1' },
      { type: 'agent_replied' },
      { type: 'customer_replied' },
      { type: 'ticket_transferred', to: (i % 4) + 1 },
      { type: 'status_changed', status: 'pending' },
      { type: 'resolved' },
      { type: 'reopened' },
      { type: 'ticket_assigned', agent_id: 3 },
      { type: 'closed' },
    ]
    stream.push({ id: `e${i % 50}`, at, ticket_id: ticket, ...kinds[(i * 5) % kinds.length] })
  }
  const fast = new t.Engine('UTC', { quantiles: false })
  const slow = new t.Engine('UTC', { quantiles: false })
  for (const e of stream) {
    let a, b
    try { a = fast.apply(e) } catch (err) { a = err.code }
    // `at` as ISO text sends the same event through JSON.
    try { b = slow.apply({ ...e, at: e.at.toISOString() }) } catch (err) { b = err.code }
    assert.deepEqual(a, b, JSON.stringify(e))
  }
  // Results that do not fit one number (ids from 2^30, days before 1970) come another way.
  for (const e of [
    { id: 'big1', at: hours(T0, 30), type: 'ticket_created', ticket_id: 100, agent_id: 2 ** 40 },
    { id: 'big2', at: hours(T0, 31), type: 'agent_replied', ticket_id: 100 },
    { id: 'old1', at: new Date('1969-12-31T12:00:00Z'), type: 'ticket_created', ticket_id: 101 },
  ]) {
    const a = fast.apply(e)
    assert.deepEqual(a, slow.apply({ ...e, at: e.at.toISOString() }), e.id)
    assert.equal(a.touched.length, 1, e.id)
  }
  assert.deepEqual(fast.rows('week'), slow.rows('week'))
  for (const bad of [
    { id: 'x1', at: T0, type: 'agent_replied', ticket_id: 1.5 },
    { id: 'x2', at: T0, type: 'ticket_transferred', ticket_id: 1 },
    { id: 'x3', at: T0, type: 'status_changed', ticket_id: 1 },
    { id: 'x4', at: new Date(NaN), type: 'resolved', ticket_id: 1 },
  ]) {
    const codes = [fast, slow].map((e, i) => {
      const viaJson = Number.isNaN(bad.at.getTime()) ? bad : { ...bad, at: bad.at.toISOString() }
      try { e.apply(i ? viaJson : bad) } catch (err) { return err.code }
      return 'ok'
    })
    assert.equal(codes[0], codes[1], JSON.stringify(bad))
    assert.notEqual(codes[0], 'ok')
  }
})

const DEFS = [
  { key: 'avg_resolution', name: 'Average Resolution Time', unit: 'hours', target_type: 'lower_better',
    aggregation_period: 'daily', source: { type: 'query', query_key: 'avg_resolution_time' } },
  { key: 'resolved', name: 'Resolved', unit: 'count', direction: 'higher_better', period: 'weekly',
    source: { type: 'metric', metric: 'tickets_resolved' } },
]

function storeCases(makeStore, label) {
  test(`store (${label}): KPIs on the call-center metrics read the store's calls`, () => {
    const { store, tenant } = makeStore()
    store.putAgents([{ tenant, id: 3, status: 'online' }])
    store.upsertDefinition({ tenant, key: 'connected', name: 'Connected calls', unit: 'count',
      target_type: 'higher_better', aggregation_period: 'daily',
      source: { type: 'metric', metric: 'calls_connected' } })
    const a = store.insertAssignment({ tenant, agent_id: 3, definition: 'connected', target: 4, weight: 1, valid_from: '2025-11-01' })
    const start = new Date('2025-11-05T09:00:00Z')
    store.putCalls([0, 1, 2, 3].map((i) => ({ tenant, id: i, agent_id: 3, started_at: new Date(start.getTime() + i * 60e3),
      duration_seconds: 60 * i, outcome: i ? 'completed' : 'no_answer' })))
    const report = t.updateKpis(store, { now: NOW, date: '2025-11-05', tenant, timezone: 'UTC' })
    assert.deepEqual([report.successes, report.failures], [1, 0])
    const m = store.latestMeasurement(a.id, { tenant })
    assert.deepEqual([m.actual, m.achievement], [3, 75])
  })

  test(`store (${label}): definitions with ids, assignments, updateKpis`, () => {
    const { store, tenant } = makeStore()
    for (const d of DEFS) store.upsertDefinition({ ...d, tenant })
    const defs = store.definitions({ tenant })
    assert.deepEqual(defs.map((d) => d.key), ['avg_resolution', 'resolved'])
    const byId = store.definition(defs[0].id, { tenant })
    assert.equal(byId.key, 'avg_resolution')
    const a = store.insertAssignment({ tenant, user_id: 7, kpi_definition_id: defs[0].id, target_value: 3, weight: 60, start_date: '2025-11-01' })
    store.insertAssignment({ tenant, agent_id: 7, definition: 'resolved', target: 4, weight: 40, valid_from: '2025-11-01' })
    assert.throws(() => store.insertAssignment({ tenant, agent_id: 7, definition: 'resolved', target: 4, weight: 40, valid_from: '2025-11-01' }), { code: 'duplicate_assignment' })
    const day = new Date('2025-11-05T08:00:00Z')
    store.putTickets([
      { tenant, id: 1, agent_id: 7, created_at: day, resolved_at: hours(day, 2) },
      { tenant, id: 2, agent_id: 7, created_at: hours(day, 1), resolved_at: hours(day, 5) },
    ])
    const report = t.updateKpis(store, { now: NOW, tenant, timezone: 'UTC' })
    assert.deepEqual([report.successes, report.skipped, report.failures], [2, 0, 0])
    const m = store.latestMeasurement(a.id, { tenant })
    assert.deepEqual([m.actual, m.achievement, m.period_start], [3, 100, '2025-11-05'])
    assert.ok(m.calculated_at instanceof Date)
    assert.equal(store.assignments({ tenant, agentId: 7 }).length, 2)
    // the same options and errors as Python: an unknown agent, date with days
    assert.throws(() => t.updateKpis(store, { now: NOW, tenant, agentId: 999 }), { code: 'unknown_agent' })
    // an engine's figures as the source, as Python's engine=: the same measurements
    const engine = new t.Engine('UTC', { tenant })
    engine.apply({ id: 'c1', at: day, type: 'ticket_created', ticket_id: 1, agent_id: 7, tenant })
    engine.apply({ id: 'r1', at: hours(day, 2), type: 'resolved', ticket_id: 1, tenant })
    engine.apply({ id: 'c2', at: hours(day, 1), type: 'ticket_created', ticket_id: 2, agent_id: 7, tenant })
    engine.apply({ id: 'r2', at: hours(day, 5), type: 'resolved', ticket_id: 2, tenant })
    const viaEngine = t.updateKpis(store, { now: NOW, tenant, timezone: 'UTC', engine })
    assert.deepEqual([viaEngine.successes, viaEngine.failures], [2, 0])
    assert.deepEqual(store.latestMeasurement(a.id, { tenant }).actual, 3)
    assert.throws(() => t.updateKpis(store, { now: NOW, tenant, engine, tickets: [] }), { code: 'invalid_argument' })
    assert.throws(() => t.updateKpis(store, { now: NOW, tenant, engine: {} }), { code: 'invalid_type' })
    // an external KPI's provider, as Python's external=: asked per KPI and period; a throw fails
    // that KPI only
    store.upsertDefinition({ key: 'csat', name: 'CSAT', unit: 'percent', direction: 'higher_better', period: 'daily', source: { type: 'api', provider_key: 'crm.csat' }, tenant })
    const csat = store.insertAssignment({ tenant, agent_id: 7, definition: 'csat', target: 90, weight: 0, valid_from: '2025-11-01' })
    const asked = []
    const viaProvider = t.updateKpis(store, {
      now: NOW, tenant, timezone: 'UTC',
      external: (d, a, p) => { asked.push([d.key, a.agent_id, p.kind, p.start]); return 99 },
    })
    assert.deepEqual(asked, [['csat', 7, 'daily', '2025-11-05']])
    assert.equal(viaProvider.failures, 0)
    assert.equal(store.latestMeasurement(csat.id, { tenant }).actual, 99)
    const failing = t.updateKpis(store, { now: NOW, tenant, timezone: 'UTC', external: () => { throw new Error('CRM down') } })
    assert.deepEqual(failing.outcomes.filter((x) => x.outcome === 'failed').map((x) => x.definition), ['csat'])
    assert.ok(failing.successes >= 2)
    assert.throws(() => t.updateKpis(store, { now: NOW, tenant, external: 42 }), { code: 'invalid_type' })
    assert.throws(() => t.updateKpis(store, { now: NOW, tenant, date: '2025-11-05', days: 2 }), { code: 'invalid_argument' })
    // one assignment over exactly the requested days, stored ad hoc (the KPI tables' calculate)
    const ranged = t.measureRange(store, a.id, '2025-11-04', '2025-11-05', { now: NOW, tenant, timezone: 'UTC' })
    assert.ok(ranged.measurement_id > 0)
    assert.equal(ranged.reason, null)
    assert.deepEqual(
      [ranged.measurement.period_start, ranged.measurement.period_end, ranged.measurement.actual, ranged.measurement.ad_hoc],
      ['2025-11-04', '2025-11-05', 3, true],
    )
    assert.equal(store.latestMeasurement(a.id, { tenant }).ad_hoc, false)
    const viaEngineRange = t.measureRange(store, a.id, '2025-11-04', '2025-11-05', { now: NOW, tenant, timezone: 'UTC', engine })
    assert.deepEqual(viaEngineRange, ranged)
    const quiet = t.measureRange(store, a.id, '2025-11-01', '2025-11-02', { now: NOW, tenant })
    assert.deepEqual([quiet.measurement, quiet.reason], [null, 'no activity in the period'])
    assert.throws(() => t.measureRange(store, 999999, '2025-11-04', '2025-11-05', { now: NOW, tenant }), { code: 'unknown_assignment' })
    assert.throws(() => t.measureRange(store, a.id, '2025-11-05', '2025-11-04', { now: NOW, tenant }), { code: 'invalid_range' })
    assert.throws(() => t.measureRange(store, a.id, '2025-11-04', '2025-11-05', { now: NOW, tenant, days: 2 }), { code: 'invalid_argument' })
    // call-center metrics from calls the caller supplies (the store holds none)
    store.upsertDefinition({ key: 'connected', name: 'Connected calls', unit: 'count', direction: 'higher_better', period: 'daily', source: { type: 'metric', metric: 'calls_connected' }, tenant })
    const connected = store.insertAssignment({ tenant, agent_id: 7, definition: 'connected', target: 4, weight: 0, valid_from: '2025-11-01' })
    const calls = [0, 60, 120].map((secs, i) => ({ tenant, id: i + 1, agent_id: 7, started_at: hours(day, i), duration_seconds: secs, outcome: secs ? 'completed' : 'no_answer' }))
    const withCalls = t.updateKpis(store, { now: NOW, date: '2025-11-05', tenant, timezone: 'UTC', calls })
    assert.equal(withCalls.failures, 0)
    assert.deepEqual([store.latestMeasurement(connected.id, { tenant }).actual, store.latestMeasurement(connected.id, { tenant }).achievement], [2, 50])
    assert.throws(() => t.updateKpis(store, { now: NOW, tenant, engine, calls }), { code: 'invalid_argument' })
    assert.throws(() => t.ticketMetrics([], { period: 'week', windows: { start: '2025-11-03', days: 7, count: 2 } }), { code: 'invalid_argument' })
  })
}

storeCases(() => ({ store: new t.SqliteStore(), tenant: null }), 'SQLite in memory')
storeCases(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamkpi-'))
  return { store: new t.SqliteStore(path.join(dir, 'kpi.db')), tenant: null }
}, 'SQLite file')

const PG = process.env.PG_TEST_URL
if (!PG && process.env.TEAMKPI_REQUIRE_PG === '1') {
  test('PostgreSQL is required', () => assert.fail('TEAMKPI_REQUIRE_PG=1 but PG_TEST_URL is not set'))
}
if (PG) {
  storeCases(() => ({ store: new t.PostgresStore(PG), tenant: `node-${process.pid}-${Date.now()}` }), 'PostgreSQL')
}
test('PostgresStore refuses a non-URL and a dead server', () => {
  assert.throws(() => new t.PostgresStore('kpi.db'), { code: 'invalid_argument' })
  assert.throws(() => new t.PostgresStore('postgres://nobody@127.0.0.1:1/none'), { code: 'storage' })
})
