'use strict'
// The fuzz suite's entry points, derived from the module's exports: every function, every class
// constructor and every public method. A new class needs a factory here, or the suite fails.

const path = require('node:path')

// Exports that are not fuzzed, and why.
const NOT_FUZZED = new Map([
  ['TeamKpiError', 'the error class itself'],
  ['ERROR_CODES', 'a list'],
  // Opening a store takes a path or a URL: fuzzing it would create files or dial hosts. The
  // stores' methods are fuzzed on an in-memory store.
  ['SqliteStore', 'constructor opens files'],
  ['PostgresStore', 'constructor connects to servers'],
])

function factories(t) {
  return {
    BusinessCalendar: () => new t.BusinessCalendar('UTC', { mon: [['09:00', '17:00']] }),
    SlaPolicy: () => new t.SlaPolicy({ name: 'p', targets: { high: { first_response: 3600 } } }),
    Engine: () => new t.Engine('UTC'),
    Assigner: () => new t.Assigner([{ id: 1, status: 'online' }, { id: 2 }]),
    Store: () => new t.SqliteStore(':memory:'),
    LiveMetrics: () => new t.LiveMetrics(new t.SqliteStore(':memory:'), { timezone: 'UTC' }),
  }
}

const isClass = (v) => typeof v === 'function' && /^class\s/.test(Function.prototype.toString.call(v))

/** name → { arity, call(...args) } for every entry point. */
function entryPoints(t) {
  const make = factories(t)
  const out = new Map()
  for (const [name, v] of Object.entries(t)) {
    if (NOT_FUZZED.has(name) || typeof v !== 'function') continue
    if (!isClass(v)) {
      out.set(name, { arity: v.length, call: (...a) => v(...a) })
      continue
    }
    if (!make[name]) throw new Error(`${name}: a new class needs a factory in ${path.basename(__filename)}`)
    if (name !== 'Store') out.set(`new ${name}`, { arity: v.length, call: (...a) => new v(...a) })
    for (const m of Object.getOwnPropertyNames(v.prototype)) {
      if (m === 'constructor' || m.startsWith('_')) continue
      const d = Object.getOwnPropertyDescriptor(v.prototype, m)
      if (typeof d.value !== 'function') continue
      out.set(`${name}.${m}`, { arity: d.value.length, call: (...a) => make[name]()[m](...a) })
    }
  }
  return out
}

module.exports = { entryPoints, NOT_FUZZED }
