'use strict'
// The fuzz suite: every entry point of the module (functions, constructors, methods — derived
// from the exports) called with generated values of every shape: numbers (NaN, ±Infinity,
// fractions, beyond 2^53), BigInts, odd strings, invalid and far Dates, symbols, nested objects.
// Each call must end in a result or a TeamKpiError with a code from the table. Every entry
// point runs in its own process, so a native abort is caught and reported, not fatal.

const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const path = require('node:path')
const os = require('node:os')
const t = require('..')
const { entryPoints } = require('./fuzz/entries.js')

const CASES = Number(process.env.TEAMKPI_FUZZ_CASES || 60)
const SEED = process.env.TEAMKPI_FUZZ_SEED || '20261202'
const WORKER = path.join(__dirname, 'fuzz', 'worker.js')

function run(entry, seed) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WORKER, entry, seed, String(CASES)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, out, err })
    })
  })
}

test('every entry point ends in a result or a coded TeamKpiError', async () => {
  const entries = [...entryPoints(t).keys()]
  assert.ok(entries.length > 50, `only ${entries.length} entry points found`)
  const results = []
  const parallel = Math.max(1, os.availableParallelism ? os.availableParallelism() : 2)
  for (let i = 0; i < entries.length; i += parallel) {
    const batch = entries.slice(i, i + parallel)
    results.push(...(await Promise.all(batch.map((e, j) => run(e, `${SEED}${i + j}`).then((r) => ({ e, ...r }))))))
  }
  const problems = []
  let calls = 0
  for (const r of results) {
    if (r.code !== 0 || r.signal !== null) {
      problems.push(`${r.e}: the process ended with ${r.signal || `exit ${r.code}`} ${r.err.slice(0, 400)}`)
      continue
    }
    const report = JSON.parse(r.out)
    calls += report.calls
    if (report.failed > 0) problems.push(`${r.e}: ${report.failed} uncoded errors, e.g. ${JSON.stringify(report.failures.slice(0, 2))}`)
  }
  console.log(`fuzz: ${calls} calls over ${entries.length} entry points, each a result or a TeamKpiError`)
  assert.deepEqual(problems, [])
})
