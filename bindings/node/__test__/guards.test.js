'use strict'
// Nothing crosses into JS but results and coded errors: a panic in the library is an error with
// code `internal` (never an abort of the process), the object stays usable, and bad numbers and
// types are coded instead of truncated or thrown as bare TypeErrors.

const test = require('node:test')
const assert = require('node:assert/strict')
const t = require('..')
const native = require('../native.js')

const T0 = new Date('2025-11-03T09:00:00Z')
const codeOf = (e) => JSON.parse(e.message).code

test('a panic is an error with code internal, and the engine stays usable', () => {
  assert.throws(() => native.panicForTests(), (e) => codeOf(e) === 'internal')
  const engine = new t.Engine('UTC')
  assert.throws(() => engine._native.panicForTests(), (e) => codeOf(e) === 'internal')
  engine.apply({ id: 'c1', at: T0, type: 'ticket_created', ticket_id: 1, agent_id: 7 })
  engine.apply({ id: 'r1', at: new Date(T0.getTime() + 60e3), type: 'agent_replied', ticket_id: 1, agent_id: 7 })
  assert.equal(engine.rows('day')[0].tickets_assigned, 1)
})

test('whole seconds: NaN, infinities and fractions are invalid_number, never truncated', () => {
  const cal = new t.BusinessCalendar('UTC', { mon: [['09:00', '17:00']] })
  for (const bad of [Number.NaN, Infinity, -Infinity, -0.5, 1.5]) {
    assert.throws(() => cal.addBusinessSeconds(T0, bad), { code: 'invalid_number' }, String(bad))
  }
  assert.throws(() => cal.addBusinessSeconds(T0, 2 ** 60), { code: 'out_of_range' })
  assert.throws(() => cal.addBusinessSeconds(T0, '60'), { code: 'invalid_type' })
  assert.throws(() => cal.addBusinessSeconds(T0, 60n), { code: 'invalid_type' })
  assert.equal(cal.addBusinessSeconds(T0, 60).getTime(), T0.getTime() + 60e3)
})

test('ids: fractions are invalid_number, negative ones out_of_range', () => {
  const engine = new t.Engine('UTC')
  const ev = (ticketId) => ({ id: `c${ticketId}`, at: T0, type: 'ticket_created', ticket_id: ticketId })
  assert.throws(() => engine.apply(ev(1.5)), { code: 'invalid_number' })
  assert.throws(() => engine.apply(ev(-1)), { code: 'out_of_range' })
  assert.throws(() => engine.apply(ev(2 ** 60)), { code: 'out_of_range' })
  assert.equal(engine.apply(ev(1)).duplicate, false)
})

test('wrong types are invalid_type TeamKpiErrors', () => {
  assert.throws(() => t.achievement(10n, 100, 'higher_better'), (e) => e instanceof t.TeamKpiError && e.code === 'invalid_type')
  assert.throws(() => t.updateKpis({}), { code: 'invalid_type' })
  assert.throws(() => t.updateKpis(null), { code: 'invalid_type' })
  assert.throws(() => new t.BusinessCalendar('UTC', { mon: [['09:00', '17:00']] }).isOpen(5), { code: 'invalid_type' })
  assert.throws(() => t.ticketMetrics(42), (e) => e instanceof t.TeamKpiError)
})

test('the inputs that once aborted Node are coded errors', () => {
  const now = new Date('2025-11-03T09:00:00Z')
  assert.throws(() => t.ticketMetrics([], { windows: { start: '2025-11-01', days: 1e9, count: 1e9 } }), { code: 'out_of_range' })
  assert.throws(() => t.ticketMetrics([], { windows: { start: '2025-11-01', days: 2 ** 32 - 1, count: 1 } }), { code: 'out_of_range' })
  assert.throws(
    () => new t.Assigner([{ id: 1, status: 'online', open_load: { ticket: 2 ** 52, call: 2 ** 52 }, capacity: 5 }]),
    { code: 'out_of_range' },
  )
  assert.throws(() => t.periods('day', '0001-01-01', '9999-12-31'), { code: 'out_of_range' })
  assert.throws(() => t.dateRange('last_n_days', now, { days: 1e7 }), { code: 'out_of_range' })
  const a = new t.Assigner([{ id: 1, status: 'online' }, { id: 2, status: 'online' }])
  assert.throws(() => a.setLoad(1, 'ticket', 2 ** 53 - 1), { code: 'out_of_range' })
  assert.equal(a.assign({ id: 1, kind: 'ticket', created_at: now }, now).to, 1)
  const item = { id: 5, kind: 'ticket', created_at: now, agent_id: 1, assigned_at: now }
  const settings = { auto_assign_enabled: true, re_assign_enabled: true, re_assign_hours: 2562047788015216 }
  assert.throws(() => a.reassignStale([item], settings, now), { code: 'out_of_range' })
})

test('a huge batch size is refused, not allocated', () => {
  const live = new t.LiveMetrics(new t.SqliteStore(':memory:'), { timezone: 'UTC' })
  assert.throws(() => live.applyRecords({ tickets: [] }, { batch: 2 ** 40 }), { code: 'out_of_range' })
})
