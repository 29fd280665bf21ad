'use strict'
// `npm start`: the BFF on PORT (3001), teamkpi's SQLite store in TEAMKPI_DB (kpis.sqlite).
const teamkpi = require('teamkpi')
const { createApp } = require('./app')

const store = new teamkpi.SqliteStore(process.env.TEAMKPI_DB ?? 'kpis.sqlite')
const port = Number(process.env.PORT ?? 3001)
createApp({ store, timezone: process.env.TEAMKPI_TIMEZONE ?? 'UTC' }).listen(port, '127.0.0.1', () => {
  console.log(`admin-bff KPI routes on http://127.0.0.1:${port}/api/admin/kpis`)
})
