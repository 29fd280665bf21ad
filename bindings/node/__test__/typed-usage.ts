// A typed tour of the public API: `tsc --noEmit` checks it against index.d.ts (never run).
import * as teamkpi from '..'
import { BusinessCalendar, Engine, SqliteStore, TeamKpiError } from '..'

const now = new Date('2025-11-05T15:00:00Z')
const a: string = teamkpi.achievement(2, '3', 'lower_better', { cap: 120 })
const score: string | null = teamkpi.overallScore([{ weight: 50, achievement: a }])
const perf: string | null = teamkpi.performanceScore(0.9, 2, 0.95, { horizonHours: 24 })

const cal = new BusinessCalendar('Europe/Warsaw', { mon: [['09:00', '17:00']] }, ['2025-12-25'], {
  deadlineAtClose: 'next_open',
})
const due: Date = cal.addBusinessSeconds(now, 3600)
const open: boolean = cal.isOpen(due) && BusinessCalendar.alwaysOpen('UTC').isOpen(now)

const report = teamkpi.ticketMetrics(
  [{ id: 1, agent_id: 7, priority: 'high', created_at: now, first_response_at: null }],
  { timezone: 'Europe/Warsaw', period: 'day', groupBy: 'agent', calendar: cal },
)
const first: number | null = report.rows[0]?.avg_first_response_seconds ?? null
const later: Promise<teamkpi.TicketMetricsReport> = teamkpi.ticketMetricsAsync([], { quantiles: false })

const engine = new Engine('UTC', { strict: false })
const applied: teamkpi.Applied = engine.apply({ id: 'e1', at: now, type: 'ticket_created', ticket_id: 1 })
const rows: teamkpi.TicketMetricsRow[] = engine.rows('week')

const store = new SqliteStore()
const defs: teamkpi.Definition[] = store.definitions()
const update: teamkpi.UpdateReport = teamkpi.updateKpis(store, { now, days: 7 })
const ranged: teamkpi.RangeMeasurement = teamkpi.measureRange(store, 1, '2025-11-03', '2025-11-05', { now })
const adHoc: boolean | undefined = ranged.measurement?.ad_hoc
store.putSettings({ timezone: 'Europe/Warsaw', clearSla: true })
const zone: string = store.settings().timezone

try {
  teamkpi.convertUnit(1, 'hours', 'percent')
} catch (e) {
  if (e instanceof TeamKpiError) {
    const code: string = e.code
    void code
  }
}

void [a, score, perf, due, open, first, later, applied, rows, defs, update, ranged, adHoc, zone]
