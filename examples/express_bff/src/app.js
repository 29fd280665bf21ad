'use strict'
// The KPI tables' admin-bff routes, answered by teamkpi instead of proxying to a Python service:
//
//   GET  /api/admin/kpis/users/:userId/kpis          the user's KPIs with their latest measurement
//   POST /api/admin/kpis/users/:userId/kpis/assign   { kpi_definition_id, target_value, weight?, start_date? }
//   GET  /api/admin/kpis/definitions                 the active KPI definitions
//   POST /api/admin/kpis/calculate/:userKpiId        { period_start, period_end }
//   POST /api/admin/kpis/events                      [event, …]: the real-time feed into live state
//
// KPI values are computed from teamkpi's live metrics (state in the store, shared by every
// process) through the async API: each step runs on the thread pool, so a long calculation never
// blocks the event loop. `backfill(start, end)` loads the store's existing activity.
//
// Bad input answers 400 with a stable code, unknown ids (agents included) 404, a second active
// assignment of a KPI from the same day or an overlapping one 409:
// { "success": false, "error": "...", "code": "..." }. Numbers in the JSON are numbers (the
// admin front end calls .toFixed on them).

const express = require('express')
const teamkpi = require('teamkpi')

class HttpError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

const DAY = /^\d{4}-\d{2}-\d{2}$/

function day(name, raw) {
  // the KPI tables sends ISO dates, sometimes with a time part
  const text = typeof raw === 'string' ? raw.slice(0, 10) : ''
  const parsed = new Date(`${text}T00:00:00Z`)
  if (!DAY.test(text) || Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== text) {
    throw new HttpError(400, 'invalid_date', `${name} must be a YYYY-MM-DD date`)
  }
  return text
}

function id(name, raw) {
  const n = typeof raw === 'number' ? raw : /^\d+$/.test(String(raw)) ? Number(raw) : NaN
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new HttpError(400, 'invalid_argument', `${name} must be a positive integer`)
  }
  return n
}

function nextDay(d) {
  const t = new Date(`${d}T00:00:00Z`)
  t.setUTCDate(t.getUTCDate() + 1)
  return t.toISOString().slice(0, 10)
}

/**
 * The app. `store` is a teamkpi store (SQLite by default), `now` the clock (tests pin it),
 * `auth` the middleware guarding the routes (the admin back end's authMiddleware).
 */
// A measurement in the KPI tables' column names.
function measurementRow(m) {
  return {
    actual_value: m.actual,
    achievement_percentage: m.achievement,
    period_start: m.period_start,
    period_end: m.period_end,
    calculated_at: m.calculated_at,
    complete: m.complete,
    ad_hoc: m.ad_hoc,
  }
}

function createApp({ store = new teamkpi.SqliteStore('kpis.sqlite'), now = () => new Date(), timezone = 'UTC', auth } = {}) {
  const app = express()
  app.use(express.json({ limit: '20mb' }))
  const router = express.Router()
  const live = new teamkpi.LiveMetrics(store, { timezone })
  app.locals.live = live

  const today = () => teamkpi.dateRange('today', now(), { timezone }).start

  router.get('/users/:userId/kpis', (req, res) => {
    const userId = id('userId', req.params.userId)
    const defs = new Map(store.definitions().map((d) => [d.key, d]))
    const kpis = []
    for (const a of store.assignments({ agentId: userId })) {
      const d = defs.get(a.definition)
      if (!d || !d.active) continue
      const m = store.latestMeasurement(a.id)
      kpis.push({
        id: a.id,
        target_value: a.target,
        weight: a.weight,
        start_date: a.valid_from,
        kpi_definition_id: d.id,
        name: d.name,
        description: d.description ?? null,
        unit: d.unit,
        target_type: d.direction,
        category: d.category ?? null,
        latest_measurement: m && measurementRow(m),
      })
    }
    res.json({ user_id: userId, kpis })
  })

  router.post('/users/:userId/kpis/assign', (req, res) => {
    const userId = id('userId', req.params.userId)
    const body = req.body ?? {}
    const definitionId = id('kpi_definition_id', body.kpi_definition_id)
    if (body.target_value === undefined || body.target_value === null) {
      throw new HttpError(400, 'invalid_argument', 'target_value is required')
    }
    if (!store.agents().some((a) => a.id === userId)) {
      throw new HttpError(404, 'unknown_agent', `unknown agent ${userId}`)
    }
    const validFrom = body.start_date ? day('start_date', body.start_date) : today()
    // This app's own rule, on top of the store's one active assignment per (agent, KPI, start):
    // no two active assignments of a KPI cover the same day (the scorecard would count it twice).
    const definition = store.definition(definitionId)
    if (definition) {
      const covering = store.assignments({ agentId: userId, definition: definition.key, start: validFrom })
      if (covering.some((a) => a.valid_from !== validFrom)) {
        throw new HttpError(409, 'overlapping_assignment', `agent ${userId} already has ${definition.key} from a date this overlaps`)
      }
    }
    const made = store.insertAssignment({
      agent_id: userId,
      kpi_definition_id: definitionId,
      target: body.target_value,
      weight: body.weight ?? 100,
      valid_from: validFrom,
      assigned_by: body.assigned_by ?? null,
    })
    res.status(201).json({ success: true, user_kpi_id: made.id })
  })

  router.get('/definitions', (req, res) => {
    const definitions = store
      .definitions()
      .filter((d) => d.active)
      .map((d) => ({
        id: d.id,
        key: d.key,
        name: d.name,
        description: d.description ?? null,
        category: d.category ?? null,
        unit: d.unit,
        target_type: d.direction,
        aggregation_period: d.period,
        calculation_type: d.source.type,
        is_active: d.active,
      }))
      .sort((a, b) => (a.category ?? '').localeCompare(b.category ?? '') || a.name.localeCompare(b.name))
    res.json({ definitions })
  })

  router.post('/calculate/:userKpiId', async (req, res) => {
    const userKpiId = id('userKpiId', req.params.userKpiId)
    const body = req.body ?? {}
    const start = day('period_start', body.period_start)
    const end = day('period_end', body.period_end)
    if (end < start) throw new HttpError(400, 'invalid_range', 'period_end is before period_start')
    const a = store.assignment(userKpiId)
    if (!a) throw new HttpError(404, 'unknown_assignment', `unknown user KPI ${userKpiId}`)
    if ((Date.parse(end) - Date.parse(start)) / 86400000 > 366) {
      throw new HttpError(400, 'invalid_argument', 'at most a year at a time')
    }
    // Exactly the requested days, from the live day rows, off the main thread; stored as an
    // ad-hoc measurement that never becomes the scorecard's latest (the KPI's natural periods
    // stay the nightly job's). A range without data gets no measurement rather than a 0.
    let done
    try {
      done = await live.measureRangeAsync(userKpiId, start, end, { now: now() })
    } catch (e) {
      if (e instanceof teamkpi.TeamKpiError && !e.code.startsWith('unknown_')) {
        throw new HttpError(422, 'calculation_failed', `${e.code}: ${e.message}`)
      }
      throw e
    }
    if (!done.measurement) {
      return res.json({ success: true, measurement_id: null, measurement: null, reason: 'no_data' })
    }
    res.json({
      success: true,
      measurement_id: done.measurement_id,
      measurement: { user_kpi_id: userKpiId, ...measurementRow(done.measurement) },
    })
  })

  // The real-time feed: a batch of lifecycle events, one transaction (the batch rules: a bad
  // event refuses the batch with each index and code; duplicates count once).
  router.post('/events', async (req, res) => {
    if (!Array.isArray(req.body)) throw new HttpError(400, 'invalid_argument', 'expected an array of events')
    const events = req.body.map((e) => ({ ...e, at: new Date(e.at) }))
    res.json({ success: true, ...(await live.applyAsync(events)) })
  })

  app.use('/api/admin/kpis', ...(auth ? [auth] : []), router)

  app.use((req, res) => {
    res.status(404).json({ success: false, error: 'not found', code: 'not_found' })
  })

  // Express 5 passes thrown errors (and rejected promises) here.
  app.use((err, req, res, next) => {
    if (res.headersSent) return next(err)
    if (err instanceof HttpError) {
      return res.status(err.status).json({ success: false, error: err.message, code: err.code })
    }
    if (err instanceof teamkpi.TeamKpiError) {
      const status = err.code.startsWith('unknown_') ? 404 : err.code === 'duplicate_assignment' ? 409 : err.code === 'storage' ? 500 : 400
      return res.status(status).json({ success: false, error: err.message, code: err.code })
    }
    if (err && err.type === 'entity.parse.failed') {
      return res.status(400).json({ success: false, error: 'the body is not JSON', code: 'invalid_argument' })
    }
    res.status(500).json({ success: false, error: 'internal error', code: 'internal' })
  })
  return app
}

/** Loads the store's activity of `[start, end)` (tickets, calls, sessions) into live state. */
function backfill(app, start, end) {
  return app.locals.live.backfillAsync(start, end)
}

module.exports = { createApp, backfill, HttpError }
