'use strict'
// The golden vectors shared with Rust and Python (tests/vectors/*.json), through the Node API.
// Vector instants become `Date`s on the way in; results are compared after turning `Date`s back
// into the vectors' text; decimal text compares numerically.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const t = require('..')

const VECTORS = path.join(__dirname, '..', '..', '..', 'tests', 'vectors')

const isInstantKey = (k) =>
  k.endsWith('_at') || ['at', 'now', 'as_of', 'start', 'end'].includes(k)

// Vector JSON with instants as Dates (recursively), the way hosts pass them.
function natives(value, key = '') {
  if (Array.isArray(value)) return value.map((v) => natives(v, key))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, natives(v, k)]))
  }
  if (typeof value === 'string' && isInstantKey(key) && value.includes('T')) {
    const d = new Date(value)
    if (!Number.isNaN(d.getTime())) return d
  }
  return value
}

const iso = (d) => d.toISOString().replace('.000Z', 'Z')

function plain(value) {
  if (value instanceof Date) return iso(value)
  if (Array.isArray(value)) return value.map(plain)
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  }
  return value
}

// Decimal text → a scaled integer pair for exact comparison (no float rounding surprises).
function dec(x) {
  if (typeof x === 'number') x = String(x)
  if (typeof x !== 'string' || !/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(x)) return null
  const n = Number(x)
  return Number.isFinite(n) ? x : null
}

function round2(text) {
  // half away from zero on the decimal text
  const neg = text.startsWith('-')
  const [int, frac = ''] = (neg ? text.slice(1) : text).split('.')
  let cents = BigInt(int + (frac + '00').slice(0, 2))
  if ((frac[2] ?? '0') >= '5') cents += 1n
  return (neg && cents !== 0n ? -1 : 1) * Number(cents) / 100
}

function sameNumber(expected, actual, round) {
  if (round) return round2(String(actual)) === Number(expected)
  // exact: compare as decimals through BigInt-scaled strings
  const scale = (s) => {
    const str = Number(s).toString().includes('e') ? Number(s).toFixed(20) : String(s)
    const neg = str.startsWith('-')
    const [i, f = ''] = (neg ? str.slice(1) : str).split('.')
    const frac = f.padEnd(30, '0').slice(0, 30)
    return (neg ? -1n : 1n) * BigInt(i + frac)
  }
  return scale(expected) === scale(actual)
}

function same(expected, actual, round) {
  if (typeof expected === 'string' && (typeof actual === 'string' || typeof actual === 'number')) {
    const e = dec(expected)
    const a = dec(actual)
    if (e !== null && a !== null) {
      // Results are numbers rounded to 2 places (docs/semantics.md): compare at the same rounding.
      if (typeof actual === 'number' && !round) return round2(String(expected)) === actual || sameNumber(e, a, false)
      return sameNumber(e, a, round)
    }
    return expected === actual
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.length === actual.length &&
      expected.every((e, i) => same(e, actual[i], round))
  }
  if (expected && typeof expected === 'object') {
    return actual !== null && typeof actual === 'object' &&
      Object.entries(expected).every(([k, v]) => k in actual && same(v, actual[k], round))
  }
  return expected === actual
}

const policy = (inp) => ({
  ...(inp.cap != null ? { cap: String(inp.cap) } : {}),
  ...(inp.floor != null ? { floor: String(inp.floor) } : {}),
})

const RUNNERS = {
  achievement: (inp) =>
    t.achievement(String(inp.actual), String(inp.target), inp.direction, {
      ...policy(inp),
      ...(inp.zero_target ? { zeroTarget: inp.zero_target } : {}),
    }),
  overall_score: (inp) => t.overallScore(inp.items, policy(inp)),
  performance_score: (inp) => {
    const num = (k) => (inp[k] == null ? null : typeof inp[k] === 'string' ? Number(inp[k]) : inp[k])
    return t.performanceScore(num('resolution_rate'), num('avg_response_hours'), num('sla_compliance_rate'), {
      ...(inp.weights ? { weights: inp.weights } : {}),
      ...(inp.horizon_hours != null ? { horizonHours: inp.horizon_hours } : {}),
    })
  },
  period: (inp) => t.periodBounds(inp.kind, inp.date, inp.timezone),
  period_helper: (inp) =>
    inp.helper === 'periods'
      ? t.periods(inp.kind, inp.start, inp.end)
      : t.dateRange(inp.helper, new Date(inp.now), { timezone: inp.timezone, days: inp.days }),
  formula: (inp) => t.evaluateFormula(inp.expression, inp.values ?? {}),
  unit_convert: (inp) => t.convertUnit(String(inp.value), inp.from, inp.to),
  kpi_source: (inp) => t.kpiSource(inp.calculation_type, inp.config),
  definition_validate: (inp) => t.validateDefinition(inp),
  assignments: (inp) => {
    const store = new t.SqliteStore()
    for (const d of inp.definitions) store.upsertDefinition(d)
    return inp.inserts.map((a) => store.insertAssignment(a).id)
  },
  validate_weights: (inp) => t.validateWeights(inp.assignments, inp.on),
  band: (inp) => t.scoreBand(String(inp.score), inp.bands),
  calendar: (inp) => {
    const cal = t.BusinessCalendar.fromJSON(inp.calendar)
    switch (inp.op) {
      case 'is_open': return cal.isOpen(new Date(inp.at))
      case 'next_open': return cal.nextOpen(new Date(inp.at))
      case 'add': return cal.addBusinessSeconds(new Date(inp.start), inp.seconds)
      case 'between': return cal.businessSecondsBetween(new Date(inp.start), new Date(inp.end))
      default: throw new Error(`unknown calendar op ${inp.op}`)
    }
  },
  sla_evaluate: (inp) => {
    // A ticket record evaluates the timeline reconstructed from it.
    const timeline = inp.snapshot ? t.timelinesFromTickets([natives(inp.snapshot)])[0] : natives(inp.ticket)
    const ev = new t.SlaPolicy(inp.policy).evaluate(timeline, new Date(inp.now))
    return ev.targets.map((x) => ({
      target: x.target, cycle: x.cycle, state: x.state, due_at: x.due_at ?? null,
      used_seconds: x.used_seconds, remaining_seconds: x.remaining_seconds, late_seconds: x.late_seconds ?? null,
    }))
  },
  sla_scan: (inp) => {
    const scan = new t.SlaPolicy(inp.policy).scan(natives(inp.tickets), new Date(inp.now), inp.already_alerted)
    return {
      breaches: scan.breaches.map((a) => a.key),
      at_risk: scan.at_risk.map((a) => a.key),
      rejected: scan.rejected.map((r) => ({ ticket_id: r.ticket_id, code: r.code })),
    }
  },
  sla_analytics: (inp) =>
    t.slaAnalytics(inp.policy, natives(inp.tickets), {
      now: new Date(inp.now), start: new Date(inp.from), end: new Date(inp.to), groupBy: inp.group_by,
    }),
  ticket_metrics: (inp) => {
    const o = { timezone: inp.timezone, groupBy: inp.group_by }
    if (inp.windows) o.windows = inp.windows
    else o.period = inp.period
    if (inp.calendar) o.calendar = t.BusinessCalendar.fromJSON(inp.calendar)
    if (inp.sla) o.sla = new t.SlaPolicy(inp.sla)
    if (inp.as_of) o.asOf = new Date(inp.as_of)
    const report = t.ticketMetrics(natives(inp.tickets), o)
    return {
      rows: report.rows.map((r) => ({ agent_id: null, team: null, ...r })),
      rejected: report.rejected.map((r) => ({ id: r.id, index: r.index, code: r.code })),
    }
  },
  dashboard: (inp) =>
    t.callCenterDashboard(inp.agent_id, inp.date, {
      calls: natives(inp.calls), sessions: natives(inp.sessions), contacts: natives(inp.contacts),
      campaigns: inp.campaigns, now: new Date(inp.now), timezone: inp.timezone,
    }),
  kpi_update: (inp) => {
    const store = new t.SqliteStore()
    for (const d of inp.definitions) store.upsertDefinition(d)
    const ids = inp.assignments.map((a) => store.insertAssignment(a).id)
    const report = t.updateKpis(store, {
      now: new Date(inp.now), date: inp.date, timezone: inp.timezone,
      tickets: natives(inp.tickets), calls: natives(inp.calls), sessions: natives(inp.sessions),
      sla: inp.sla,
    })
    const keys = ['agent_id', 'definition', 'period_start', 'period_end', 'complete', 'actual', 'achievement']
    const stored = ids
      .flatMap((id) => store.measurements(id))
      .map((m) => Object.fromEntries(keys.map((k) => [k, m[k]])))
      .sort((a, b) => a.agent_id - b.agent_id || a.definition.localeCompare(b.definition))
    return { stored, skipped: report.skipped, failures: report.failures }
  },
  analytics: (inp) =>
    t.analytics(inp.result, natives(inp.tickets), {
      now: new Date(inp.now), days: inp.days, agentId: inp.agent_id, timezone: inp.timezone,
    }),
  assignment: (inp) => {
    const a = new t.Assigner(natives(inp.agents), inp.policy)
    const now = new Date(inp.now)
    const outcome = (fn) => {
      try {
        return { agent: fn() }
      } catch (e) {
        assert.equal(e.code, 'no_eligible_agent')
        return { reason: e.reason }
      }
    }
    const batch = (b) => ({
      events: b.events.map((e) => (e.from != null ? [e.item_id, e.from, e.to, e.reason] : [e.item_id, e.to])),
      unassigned: b.unassigned.map((u) => [u.item_id, u.reason]),
      rejected: b.rejected.map((r) => ({ item_id: r.item_id, code: r.code })),
    })
    return inp.ops.map((op) => {
      switch (op.op) {
        case 'pick': return outcome(() => a.pick(natives(op.item), now, { exclude: op.exclude }))
        case 'assign': return outcome(() => a.assign(natives(op.item), now).to)
        case 'auto_assign': return outcome(() => a.autoAssign(natives(op.item), op.settings, now).to)
        case 'set_status': a.setStatus(op.agent, op.status); return null
        case 'drain': return batch(a.drain(natives(op.items), now))
        case 'reassign':
          return batch(a.reassignStale(natives(op.items), op.settings, now, { inactiveHours: op.inactive_hours }))
        case 'load': { const x = a.agent(op.agent); return x === null ? null : x.open_load }
        default: throw new Error(`unknown op ${op.op}`)
      }
    })
  },
  engine: (inp) => {
    const e = new t.Engine(inp.timezone, { strict: inp.strict ?? false })
    for (const ev of natives(inp.events)) e.apply(ev)
    if (inp.evict_before) e.evictBefore(new Date(inp.evict_before))
    for (const ev of natives(inp.then ?? [])) e.apply(ev)
    return { day: e.rows('day') }
  },
  engine_batch: (inp) => {
    const e = new t.Engine(inp.timezone, { strict: inp.strict ?? false })
    const batches = inp.batches.map((b) => {
      try {
        return e.applyMany(natives(b))
      } catch (err) {
        if (err.code !== 'invalid_events') throw err
        return { code: err.code, errors: err.errors }
      }
    })
    return { batches, day: e.rows('day') }
  },
}

const files = fs.readdirSync(VECTORS).filter((f) => f.endsWith('.json')).sort()
let count = 0
for (const file of files) {
  const doc = JSON.parse(fs.readFileSync(path.join(VECTORS, file), 'utf8'))
  const run = RUNNERS[doc.function]
  test(`${doc.function} has a runner`, () => assert.ok(run, doc.function))
  for (const c of doc.cases) {
    count += 1
    test(`${doc.function}/${c.id}`, () => {
      if (c.error_code !== undefined) {
        assert.throws(() => run(c.input), (e) => {
          assert.ok(e instanceof Error)
          assert.equal(e.code, c.error_code, e.message)
          if (c.error_position !== undefined) assert.equal(e.position, c.error_position)
          return true
        })
        return
      }
      const got = plain(run(c.input))
      assert.ok(same(c.expected, got, c.round !== undefined), `expected ${JSON.stringify(c.expected)}, got ${JSON.stringify(got)}`)
    })
  }
}
test('the vectors are all there', () => assert.ok(count > 300, `${count} vectors`))
