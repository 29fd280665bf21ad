'use strict'
// Live metrics from Node: the batch rules and their codes, live rows = the in-memory engine,
// analytics from live rows = analytics over snapshots, the async forms off the main thread, on
// a SQLite file and on PostgreSQL (PG_TEST_URL).

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const t = require('..')

const T0 = new Date('2025-11-03T08:00:00Z')
const minutes = (d, m) => new Date(d.getTime() + m * 60e3)
const SLA = {
  name: 'desk',
  targets: { low: { first_response: 7200, resolution: 172800 }, high: { first_response: 1800 } },
}
const MONTH = ['2025-11-01', '2025-11-30']

// A deterministic stream of ticket lifecycles (create, reply, transfer, resolve).
function stream(tickets, seed) {
  let x = seed
  const rnd = (n) => {
    x = (x * 1103515245 + 12345) % 2147483648
    return x % n
  }
  const events = []
  for (let id = 1; id <= tickets; id++) {
    let at = minutes(T0, rnd(7 * 24 * 60))
    const agent = 1 + rnd(4)
    events.push({ id: `${id}-c`, at, type: 'ticket_created', ticket_id: id, agent_id: agent, priority: rnd(2) ? 'low' : 'high' })
    if (rnd(10) < 8) {
      at = minutes(at, 1 + rnd(600))
      events.push({ id: `${id}-r`, at, type: 'agent_replied', ticket_id: id })
    }
    if (rnd(10) < 2) {
      at = minutes(at, 1 + rnd(600))
      events.push({ id: `${id}-x`, at, type: 'ticket_transferred', ticket_id: id, from: agent, to: (agent % 4) + 1 })
    }
    if (rnd(10) < 6) {
      at = minutes(at, 1 + rnd(3000))
      events.push({ id: `${id}-s`, at, type: 'resolved', ticket_id: id })
    }
  }
  return events
}

function stores() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamkpi-live-'))
  const list = [['sqlite', () => new t.SqliteStore(path.join(dir, `live-${Math.random()}.sqlite`))]]
  if (process.env.PG_TEST_URL) {
    list.push([
      'postgres',
      () => {
        const s = new t.PostgresStore(process.env.PG_TEST_URL)
        new t.LiveMetrics(s, { timezone: 'Europe/Warsaw', sla: SLA }).reset()
        return s
      },
    ])
  } else if (process.env.TEAMKPI_REQUIRE_PG === '1') {
    test('PostgreSQL is required', () => assert.fail('TEAMKPI_REQUIRE_PG=1 but PG_TEST_URL is not set'))
  }
  return list
}

const live = (store) => new t.LiveMetrics(store, { timezone: 'Europe/Warsaw', sla: SLA })

function engineOf(events) {
  const engine = new t.Engine('Europe/Warsaw', { sla: SLA })
  engine.applyMany(events)
  return engine
}

for (const [name, open] of stores()) {
  test(`${name}: live rows equal the in-memory engine in any order, duplicates counted once`, () => {
    const l = live(open())
    const events = stream(200, 3)
    const shuffled = [...events, ...events.slice(0, 40)].sort((a, b) => (a.id < b.id ? -1 : 1))
    let applied = 0
    let duplicates = 0
    for (let i = 0; i < shuffled.length; i += 57) {
      const r = l.apply(shuffled.slice(i, i + 57))
      assert.deepEqual(r.rejected, [])
      applied += r.applied
      duplicates += r.duplicates
    }
    assert.deepEqual([applied, duplicates], [events.length, 40])
    const engine = engineOf(events)
    for (const period of ['day', 'week', 'month']) {
      assert.deepEqual(l.rows(...MONTH, { period }), engine.rows(period))
    }
    assert.deepEqual(new Set(l.rows(...MONTH, { agentId: 2 }).map((r) => r.agent_id)), new Set([2]))
    assert.equal(l.metrics(2, '2020-01-01'), null)
  })

  test(`${name}: a bad event refuses the call with each index and code; context refusals are listed`, () => {
    const l = live(open())
    const good = { id: 'c1', at: T0, type: 'ticket_created', ticket_id: 1, agent_id: 1 }
    assert.throws(
      () => l.apply([good, { id: 'u', at: T0, type: 'no_such_type', ticket_id: 1 }, { id: 'm', at: T0, type: 'resolved' }]),
      (e) => e instanceof t.TeamKpiError && e.code === 'invalid_events' && /#1/.test(e.message) && /#2/.test(e.message),
    )
    assert.deepEqual(l.rows(...MONTH), [])
    const r = l.apply([good, { id: 'early', at: minutes(T0, -60), type: 'agent_replied', ticket_id: 1 }, good])
    assert.deepEqual([r.applied, r.duplicates], [1, 1])
    assert.deepEqual(r.rejected.map((x) => [x.index, x.code]), [[1, 'events_out_of_order']])
    assert.deepEqual(r.touched, [{ agent_id: 1, day: '2025-11-03' }])
    // The in-memory engine follows the same rules.
    const engine = new t.Engine('Europe/Warsaw', { sla: SLA })
    assert.throws(() => engine.applyMany([good, { id: 'm', at: T0, type: 'resolved' }]), { code: 'invalid_events' })
    assert.deepEqual(engine.rows(), [])
    const other = new t.LiveMetrics(open(), { timezone: 'UTC' })
    assert.equal(other.settings.timezone, 'UTC')
    assert.throws(() => new t.LiveMetrics({}, {}), { code: 'invalid_argument' })
  })

  test(`${name}: analytics from live rows equal analytics over snapshots`, async () => {
    const store = open()
    const l = live(store)
    const events = stream(150, 9)
    await l.applyAsync(events)
    const tickets = engineOf(events).snapshots()
    const now = minutes(new Date(Math.max(...events.map((e) => e.at.getTime()))), 60)
    for (const [result, agentId] of [['performance', undefined], ['performance', 2], ['trends', undefined], ['comparison', undefined], ['workload', undefined], ['performance_metrics', 3], ['performance_trends', 1]]) {
      const want = t.analytics(result, tickets, { now, days: 30, agentId, timezone: 'Europe/Warsaw', sla: SLA })
      assert.deepEqual(l.analytics(result, { now, days: 30, agentId }), want, result)
      assert.deepEqual(await l.analyticsAsync(result, { now, days: 30, agentId }), want, result)
    }
    const start = minutes(now, -10 * 24 * 60)
    const timelines = t.timelinesFromTickets(tickets)
    assert.deepEqual(l.slaAnalytics(start, now, { now }), t.slaAnalytics(SLA, timelines, { now, start, end: now }))
    const openTimelines = t.timelinesFromTickets(tickets.filter((x) => !x.resolved_at && !x.closed_at))
    const breaches = new t.SlaPolicy(SLA).breaches(openTimelines, now)
    assert.ok(breaches.count > 0)
    assert.deepEqual(await l.slaBreachesAsync({ now }), breaches)
    // A backfill from snapshots, twice: the second applies nothing.
    const fresh = live(open())
    assert.ok(fresh.applyTickets(tickets, { batch: 100 }).applied > tickets.length)
    assert.equal((await fresh.applyTicketsAsync(tickets)).applied, 0)
    assert.deepEqual(fresh.rows(...MONTH), t.ticketMetrics(tickets, { timezone: 'Europe/Warsaw', sla: SLA }).rows)
    await assert.rejects(l.analyticsAsync('nope', { now }), { code: 'invalid_choice' })
  })

  test(`${name}: a requested range from live day rows equals the range from snapshots`, async () => {
    const store = open()
    const l = live(store)
    const events = stream(150, 11)
    await l.applyAsync(events)
    const tickets = engineOf(events).snapshots()
    const now = minutes(new Date(Math.max(...events.map((e) => e.at.getTime()))), 60)
    const other = new t.SqliteStore()
    for (const s of [store, other]) {
      s.upsertDefinition({ key: 'resolved', name: 'Resolved', unit: 'count', direction: 'higher_better', period: 'weekly', source: { type: 'metric', metric: 'tickets_resolved' } })
      s.insertAssignment({ agent_id: 2, definition: 'resolved', target: 4, weight: 1, valid_from: '2025-10-01' })
    }
    const [a] = store.assignments({ agentId: 2 })
    const got = await l.measureRangeAsync(a.id, '2025-11-04', '2025-11-06', { now })
    const want = t.measureRange(other, other.assignments()[0].id, '2025-11-04', '2025-11-06', { now, tickets, timezone: 'Europe/Warsaw', sla: SLA })
    assert.ok(got.measurement && got.measurement.ad_hoc)
    assert.deepEqual(got.measurement, { ...want.measurement, assignment_id: a.id })
  })
}

test('the async form does not block the event loop', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamkpi-live-async-'))
  const l = live(new t.SqliteStore(path.join(dir, 'a.sqlite')))
  const pending = l.applyAsync(stream(3000, 5))
  let ticks = 0
  const timer = setInterval(() => ticks++, 1)
  const r = await pending
  clearInterval(timer)
  assert.ok(r.applied > 3000)
  // The loop ran while the batch was applied on the thread pool.
  assert.ok(ticks > 0, `${ticks} timer ticks during the apply`)
  assert.equal(t.ticketEvents({ id: 5, created_at: T0, agent_id: 1 })[0].id, 'ticket:5:created')
})

for (const [name, open] of stores()) {
  test(`${name}: company settings are written, and fixed under live state`, () => {
    const store = open()
    const tenant = `c-${Math.random().toString(36).slice(2, 10)}`
    store.putSettings({ timezone: 'Europe/Warsaw', sla: SLA, tenant })
    store.putSettings({
      assignment: { auto_assign_enabled: false, re_assign_enabled: true, re_assign_hours: 6 },
      tenant,
    })
    const got = store.settings({ tenant })
    assert.equal(got.timezone, 'Europe/Warsaw')
    assert.equal(got.assignment.re_assign_hours, 6)
    assert.equal(got.sla.name, SLA.name)
    assert.throws(() => store.putSettings({ timezone: 'Mars/Base', tenant }), { code: 'unknown_timezone' })
    const l = new t.LiveMetrics(store, { timezone: 'Europe/Warsaw', sla: SLA, tenant })
    l.apply({ id: 'c1', at: T0, type: 'ticket_created', ticket_id: 1, agent_id: 1, tenant })
    assert.throws(() => store.putSettings({ timezone: 'UTC', tenant }), { code: 'incompatible_state' })
    assert.throws(() => store.putSettings({ clearSla: true, tenant }), { code: 'incompatible_state' })
    const calendar = { timezone: 'Europe/Warsaw', hours: { mon: [['09:00', '17:00']] } }
    assert.throws(() => store.putSettings({ calendar, tenant }), { code: 'incompatible_state' })
    l.reset()
    store.putSettings({ timezone: 'UTC', clearSla: true, tenant })
    assert.equal(store.settings({ tenant }).sla, null)
    const saved = store.putSettings({ calendar, tenant })
    assert.equal(saved.calendar.timezone, 'Europe/Warsaw')
    assert.throws(() => store.putSettings({ calendar, clearCalendar: true, tenant }), { code: 'invalid_argument' })
    assert.throws(() => store.putSettings({ timeZone: 'UTC', tenant }), { code: 'invalid_argument' })
    assert.equal(store.putSettings({ clearCalendar: true, tenant }).calendar, null)
  })
}
