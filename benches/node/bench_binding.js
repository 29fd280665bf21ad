'use strict'
// Benchmarks of the Node binding (docs/semantics.md), run on demand after a release build:
//   cd bindings/node && npx napi build --platform --release --js native.js --dts native.d.ts
//   node benches/node/bench_binding.js [rows]
// One engine event per call (target ≤ 3 µs), `ticketMetrics` over 1 M plain objects with Dates
// (and its async twin), `addBusinessSeconds` per call.

const t = require('../../bindings/node')

const rows = Number(process.argv[2] ?? 1_000_000)
const START = Date.UTC(2025, 9, 1)
const PRIORITIES = ['low', 'normal', 'high', 'urgent']

// A seeded generator (mulberry32), so every run sees the same data.
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

function w1(n) {
  const r = rng(1)
  const out = new Array(n)
  for (let i = 0; i < n; i++) {
    const created = START + Math.floor(r() * 30 * 86400) * 1000
    out[i] = {
      id: i + 1,
      agent_id: 1 + Math.floor(r() * 1000),
      priority: PRIORITIES[Math.floor(r() * 4)],
      created_at: new Date(created),
      first_response_at: r() < 0.9 ? new Date(created + Math.floor(r() * 8 * 3600) * 1000) : null,
      resolved_at: r() < 0.8 ? new Date(created + Math.floor(r() * 3 * 86400) * 1000) : null,
    }
  }
  return out
}

function time(label, n, fn) {
  const t0 = process.hrtime.bigint()
  fn()
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  return { label, seconds: s, perSecond: n / s }
}

async function main() {
  console.log(`# Node ${process.version}, ${require('node:os').cpus().length} cores`)
  const tickets = w1(rows)
  const sla = {
    name: 'w1',
    calendar: { timezone: 'UTC', always_open: true },
    targets: { low: { first_response: 86400 }, normal: { first_response: 14400 }, high: { first_response: 3600 }, urgent: { first_response: 900 } },
  }
  const m = time('ticketMetrics', rows, () => t.ticketMetrics(tickets, { sla, quantiles: false }))
  console.log(`W1 ${rows} objects, ticketMetrics:            ${(m.perSecond / 1e6).toFixed(2)} M rows/s (${m.seconds.toFixed(2)} s)`)
  const q = time('ticketMetrics', rows, () => t.ticketMetrics(tickets, { sla }))
  console.log(`W1 ${rows} objects, ticketMetrics, quantiles: ${(q.perSecond / 1e6).toFixed(2)} M rows/s (the default: median and p90 too)`)
  const t0 = process.hrtime.bigint()
  await t.ticketMetricsAsync(tickets, { sla, quantiles: false })
  const sa = Number(process.hrtime.bigint() - t0) / 1e9
  console.log(`W1 ${rows} objects, ticketMetricsAsync:       ${(rows / sa / 1e6).toFixed(2)} M rows/s`)

  const engine = new t.Engine('UTC')
  const events = []
  for (let i = 0; i < 100000; i++) {
    const at = new Date(START + i * 20000)
    events.push({ id: `c${i}`, at, type: 'ticket_created', ticket_id: i, agent_id: (i % 1000) + 1, priority: PRIORITIES[i % 4] })
    events.push({ id: `r${i}`, at: new Date(at.getTime() + 300000), type: 'agent_replied', ticket_id: i })
  }
  const e = time('apply', events.length, () => { for (const ev of events) engine.apply(ev) })
  console.log(`Engine.apply, creation + first reply:      ${(1e6 / e.perSecond).toFixed(2)} µs mean`)

  // W2's shape (benches/src/lib.rs `w2`): 10 000 tickets for 100 agents, then 200 000 events on
  // them one second apart — half agent replies, a quarter customer messages, a quarter transfers.
  let seed = 2 // mulberry32: seeded, so every run sees the same stream
  const rand = (n) => {
    seed = (seed + 0x6d2b79f5) | 0
    let z = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    z = (z + Math.imul(z ^ (z >>> 7), 61 | z)) ^ z
    return ((z ^ (z >>> 14)) >>> 0) % n
  }
  const w2Start = Date.UTC(2025, 10, 3, 8)
  const w2 = new t.Engine('UTC')
  for (let i = 0; i < 10000; i++) {
    w2.apply({ id: `c${i}`, at: new Date(w2Start + rand(86400) * 1000), type: 'ticket_created', ticket_id: i, agent_id: 1 + rand(100), priority: 'normal' })
  }
  const stream = []
  for (let n = 0; n < 200000; n++) {
    const ticket = rand(10000)
    const k = rand(4)
    const kind = k === 0 ? { type: 'ticket_transferred', to: 1 + rand(100) } : k === 1 ? { type: 'customer_replied' } : { type: 'agent_replied' }
    stream.push({ id: `s${n}`, at: new Date(w2Start + 86400e3 + n * 1000), ticket_id: ticket, ...kind })
  }
  const times = new Float64Array(stream.length)
  for (let i = 0; i < stream.length; i++) {
    const s0 = process.hrtime.bigint()
    w2.apply(stream[i])
    times[i] = Number(process.hrtime.bigint() - s0)
  }
  const mean = times.reduce((a, b) => a + b, 0) / times.length
  times.sort()
  console.log(`Engine.apply, W2 stream:                   median ${(times[times.length >> 1] / 1e3).toFixed(2)} µs, mean ${(mean / 1e3).toFixed(2)} µs`)

  const cal = new t.BusinessCalendar(
    'Europe/Warsaw',
    Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [['09:00', '13:00'], ['14:00', '18:00']]])),
    ['2025-12-25', '2025-12-26'],
  )
  const r = rng(3)
  const starts = Array.from({ length: 100000 }, () => new Date(START + Math.floor(r() * 90 * 86400) * 1000))
  const c = time('add', starts.length, () => { for (const s of starts) cal.addBusinessSeconds(s, 5 * 3600) })
  console.log(`BusinessCalendar.addBusinessSeconds:       ${(1e9 / c.perSecond).toFixed(0)} ns/call`)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
