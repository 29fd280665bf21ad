'use strict'
// One fuzz worker: calls one entry point `count` times with generated arguments (seeded), and
// prints a JSON report. It runs in its own process, so an abort of Node is seen by the parent.
// Usage: node worker.js <entry> <seed> <count>

const t = require('../..')
const { entryPoints } = require('./entries.js')

const [entry, seedText, countText] = process.argv.slice(2)
let x = BigInt(seedText) | 1n
function next() {
  // xorshift64*: deterministic values from the seed.
  x ^= x >> 12n
  x ^= (x << 25n) & 0xffffffffffffffffn
  x ^= x >> 27n
  return Number(((x * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn) >> 11n) / 2 ** 53
}
const pick = (list) => list[Math.floor(next() * list.length)]

const NUMBERS = [0, 1, -1, 7, 1.5, -0.5, -0, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 64, 1e308, -1e308, 5e-324]
const STRINGS = ['', 'day', 'week', 'month', 'agent', 'team', 'UTC', 'Europe/Warsaw', 'Mars/Olympus', '(((', 'a + b', '2025-11-03', '2025-02-30', '2025-11-03T09:00:00Z', '9999-12-31', 'ticket', 'online', 'higher_better', '\u0000', 'ü'.repeat(50), 'x'.repeat(5000)]
const KEYS = ['id', 'agent_id', 'ticket_id', 'created_at', 'resolved_at', 'at', 'type', 'kind', 'status', 'days', 'start', 'end', 'target', 'weight', 'formula', 'priority', 'targets', 'timezone', 'tenant', 'now']
const DATES = [new Date('2025-11-03T09:00:00Z'), new Date('nope'), new Date(-8.64e15), new Date(8.64e15), new Date(0)]

function value(depth = 0) {
  const r = next()
  if (r < 0.08) return undefined
  if (r < 0.14) return null
  if (r < 0.2) return next() < 0.5
  if (r < 0.38) return pick(NUMBERS)
  if (r < 0.42) return BigInt(Math.floor(next() * 1000)) - 500n
  if (r < 0.6) return pick(STRINGS)
  if (r < 0.72) return pick(DATES)
  if (r < 0.74) return Symbol('s')
  if (r < 0.75) return () => 1
  if (depth > 2) return pick(NUMBERS)
  if (r < 0.86) return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1))
  const o = {}
  for (let i = Math.floor(next() * 5); i > 0; i--) o[pick(KEYS)] = value(depth + 1)
  return o
}

function check(e, failures, args) {
  // An `internal` error is a bug the guard caught: still a finding.
  if (e instanceof t.TeamKpiError && t.ERROR_CODES.includes(e.code) && e.code !== 'internal') return
  const show = (_k, v) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'symbol' ? 'Symbol' : v)
  failures.push({ args: args.map((a) => JSON.stringify(a, show)).join(', '), error: `${e && e.name}: ${e && e.message}`.slice(0, 300), code: e && e.code })
}

async function main() {
  const fn = entryPoints(t).get(entry)
  if (!fn) throw new Error(`no entry point ${entry}`)
  const failures = []
  const count = Number(countText)
  for (let i = 0; i < count; i++) {
    const n = Math.floor(next() * (fn.arity + 2))
    const args = Array.from({ length: n }, () => value())
    try {
      const r = fn.call(...args)
      if (r && typeof r.then === 'function') await r.catch((e) => check(e, failures, args))
    } catch (e) {
      check(e, failures, args)
    }
  }
  process.stdout.write(JSON.stringify({ entry, calls: count, failures: failures.slice(0, 5), failed: failures.length }))
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ entry, calls: 0, failures: [{ error: String(e && e.stack) }], failed: 1 }))
})
