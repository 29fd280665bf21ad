//! The stores the command runs on: SQLite (a file) or PostgreSQL (a `postgres://` URL).

use teamkpi::metrics::{AgentSession, Call, Campaign, Contact, Ticket};
use teamkpi::{ActivitySource, AgentState, AssignmentSettings, KpiStore, SlaPolicy};
use teamkpi_postgres::PgStore;
use teamkpi_sqlite::SqliteStore;

/// Company settings: time zone, assignment settings, SLA policy.
pub type Settings = (String, AssignmentSettings, Option<SlaPolicy>);

/// What the commands need of a store beyond the core's traits: teamkpi's own activity, agents and
/// company settings.
pub trait CliStore: KpiStore + ActivitySource {
    /// Inserts or replaces tickets in one transaction.
    fn put_tickets(&self, tickets: &[Ticket]) -> teamkpi::Result<usize>;
    /// Open tickets, by id.
    fn open_tickets(&self, tenant: Option<&str>) -> teamkpi::Result<Vec<Ticket>>;
    /// Inserts or replaces calls.
    fn put_calls(&self, calls: &[Call]) -> teamkpi::Result<usize>;
    /// Adds session intervals.
    fn put_sessions(&self, sessions: &[AgentSession]) -> teamkpi::Result<usize>;
    /// Inserts or replaces contacts.
    fn put_contacts(&self, contacts: &[Contact]) -> teamkpi::Result<usize>;
    /// Inserts or replaces campaigns.
    fn put_campaigns(&self, campaigns: &[Campaign]) -> teamkpi::Result<usize>;
    /// All contacts.
    fn contacts(&self, tenant: Option<&str>) -> teamkpi::Result<Vec<Contact>>;
    /// All campaigns.
    fn campaigns(&self, tenant: Option<&str>) -> teamkpi::Result<Vec<Campaign>>;
    /// Inserts or replaces agents with names.
    fn put_agents(&self, agents: &[(AgentState, Option<String>)]) -> teamkpi::Result<usize>;
    /// All agents with names, by id.
    fn agents(&self, tenant: Option<&str>) -> teamkpi::Result<Vec<(AgentState, Option<String>)>>;
    /// The company settings.
    fn settings(&self, tenant: Option<&str>) -> teamkpi::Result<Settings>;
}

macro_rules! delegate {
    ($store:ty) => {
        impl CliStore for $store {
            fn put_tickets(&self, x: &[Ticket]) -> teamkpi::Result<usize> {
                Ok(<$store>::put_tickets(self, x)?)
            }
            fn open_tickets(&self, t: Option<&str>) -> teamkpi::Result<Vec<Ticket>> {
                Ok(<$store>::open_tickets(self, t)?)
            }
            fn put_calls(&self, x: &[Call]) -> teamkpi::Result<usize> {
                Ok(<$store>::put_calls(self, x)?)
            }
            fn put_sessions(&self, x: &[AgentSession]) -> teamkpi::Result<usize> {
                Ok(<$store>::put_sessions(self, x)?)
            }
            fn put_contacts(&self, x: &[Contact]) -> teamkpi::Result<usize> {
                Ok(<$store>::put_contacts(self, x)?)
            }
            fn put_campaigns(&self, x: &[Campaign]) -> teamkpi::Result<usize> {
                Ok(<$store>::put_campaigns(self, x)?)
            }
            fn contacts(&self, t: Option<&str>) -> teamkpi::Result<Vec<Contact>> {
                Ok(<$store>::contacts(self, t)?)
            }
            fn campaigns(&self, t: Option<&str>) -> teamkpi::Result<Vec<Campaign>> {
                Ok(<$store>::campaigns(self, t)?)
            }
            fn put_agents(&self, x: &[(AgentState, Option<String>)]) -> teamkpi::Result<usize> {
                Ok(<$store>::put_agents(self, x)?)
            }
            fn agents(
                &self,
                t: Option<&str>,
            ) -> teamkpi::Result<Vec<(AgentState, Option<String>)>> {
                Ok(<$store>::agents(self, t)?)
            }
            fn settings(&self, t: Option<&str>) -> teamkpi::Result<Settings> {
                Ok(<$store>::settings(self, t)?)
            }
        }
    };
}

delegate!(SqliteStore);
delegate!(PgStore);

/// True when `--db` names a PostgreSQL server rather than a file.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}
