'use strict'
// `npm start`: the BFF on PORT (3001), teamkpi's SQLite store in TEAMKPI_DB (kpis.sqlite).
const teamkpi = require('teamkpi')
const { createApp, backfill } = require('./app')

const store = new teamkpi.SqliteStore(process.env.TEAMKPI_DB ?? 'kpis.sqlite')
const port = Number(process.env.PORT ?? 3001)
const app = createApp({ store, timezone: process.env.TEAMKPI_TIMEZONE ?? 'UTC' })
// The store's last 90 days into live state (idempotent), then serve.
const now = new Date()
backfill(app, new Date(now.getTime() - 90 * 86400e3), now).then((r) => {
  console.log(`live state: ${r.applied} events applied, ${r.duplicates} already there`)
  app.listen(port, '127.0.0.1', () => {
    console.log(`admin-bff KPI routes on http://127.0.0.1:${port}/api/admin/kpis`)
  })
})
