//! [`KvClient`]: the one enum the integrity phase talks to, dispatching to the
//! protocol client of the phase's write workload.
//!
//! Owns: picking the implementation and forwarding each call of the contract in
//! [`super::kv`]. A protocol joins with one variant and one arm per call. Does not
//! own: any protocol's mechanics.

use std::time::{Duration, Instant};

use super::http_kv::HttpKv;
use super::kv::{KvError, ReadOutcome};
#[cfg(feature = "postgres")]
use super::postgres_kv::PostgresKv;
#[cfg(feature = "redis")]
use super::redis_kv::RedisKv;
use crate::model::WriteOutcome;
use crate::plan::{PhasePlan, Plan, Protocol, WorkloadPlan};

/// The pause between connection attempts of [`KvClient::connect_patiently`].
const CONNECT_RETRY: Duration = Duration::from_millis(100);

/// A protocol client of an integrity phase.
#[derive(Debug)]
pub enum KvClient {
    Http(HttpKv),
    #[cfg(feature = "redis")]
    Redis(RedisKv),
    #[cfg(feature = "postgres")]
    Postgres(PostgresKv),
}

/// The write, read and list workloads of an integrity phase.
#[derive(Debug, Clone, Copy)]
pub struct PhaseWorkloads<'a> {
    pub write: &'a WorkloadPlan,
    pub read: &'a WorkloadPlan,
    pub list: Option<&'a WorkloadPlan>,
}

impl<'a> PhaseWorkloads<'a> {
    /// The workloads `phase` names; `None` when it is not an integrity phase of `plan`.
    pub fn of(plan: &'a Plan, phase: &PhasePlan) -> Option<Self> {
        let integrity = phase.integrity?;
        Some(PhaseWorkloads {
            write: plan.workloads.get(*phase.workloads.first()?)?,
            read: plan.workloads.get(integrity.read)?,
            list: match integrity.list {
                Some(index) => Some(plan.workloads.get(index)?),
                None => None,
            },
        })
    }
}

impl KvClient {
    /// A client for the phase's workloads against the service on `port`.
    /// A `list` workload is HTTP's way to list keys; Redis lists with `SCAN` and
    /// PostgreSQL with its workload's `list` statement.
    pub async fn connect(workloads: PhaseWorkloads<'_>, port: u16) -> Result<Self, KvError> {
        let PhaseWorkloads { write, read, list } = workloads;
        if list.is_some() && !matches!(write.protocol, Protocol::Http) {
            return Err(KvError::Setup {
                workload: write.name.clone(),
                reason: format!(
                    "a `list` workload lists keys over HTTP only; {} lists keys by itself (drop `list` from the phase)",
                    write.protocol.as_str()
                ),
            });
        }
        Ok(match write.protocol {
            Protocol::Http => {
                KvClient::Http(HttpKv::connect(write, read, port).await?.with_list(list)?)
            }
            #[cfg(feature = "redis")]
            Protocol::Redis { .. } => KvClient::Redis(RedisKv::connect(write, read, port).await?),
            #[cfg(feature = "postgres")]
            Protocol::Postgres { .. } => {
                KvClient::Postgres(PostgresKv::connect(write, read, port).await?)
            }
            // The plan refuses a protocol this binary was built without.
            #[allow(unreachable_patterns)]
            ref other => {
                return Err(KvError::Setup {
                    workload: write.name.clone(),
                    reason: format!(
                        "this gonogo was built without the `{}` feature",
                        other.as_str()
                    ),
                });
            }
        })
    }

    /// [`KvClient::connect`], trying again every 100 ms while the service refuses
    /// the connection (a server started again after a kill that is still replaying
    /// its log: PostgreSQL's "the database system is starting up") until `patience`
    /// has passed. Any other error is returned at once.
    pub async fn connect_patiently(
        workloads: PhaseWorkloads<'_>,
        port: u16,
        patience: Duration,
    ) -> Result<Self, KvError> {
        let deadline = Instant::now() + patience;
        loop {
            match KvClient::connect(workloads, port).await {
                Err(KvError::Connect { .. }) if Instant::now() < deadline => {
                    tokio::time::sleep(CONNECT_RETRY).await;
                }
                done => return done,
            }
        }
    }

    pub async fn write(&mut self, key: &str, value: &str) -> WriteOutcome {
        match self {
            KvClient::Http(client) => client.write(key, value).await,
            #[cfg(feature = "redis")]
            KvClient::Redis(client) => client.write(key, value).await,
            #[cfg(feature = "postgres")]
            KvClient::Postgres(client) => client.write(key, value).await,
        }
    }

    pub async fn read(&mut self, key: &str) -> ReadOutcome {
        match self {
            KvClient::Http(client) => client.read(key).await,
            #[cfg(feature = "redis")]
            KvClient::Redis(client) => client.read(key).await,
            #[cfg(feature = "postgres")]
            KvClient::Postgres(client) => client.read(key).await,
        }
    }

    pub async fn list(&mut self, prefix: &str) -> Result<Option<Vec<String>>, KvError> {
        match self {
            KvClient::Http(client) => client.list(prefix).await,
            #[cfg(feature = "redis")]
            KvClient::Redis(client) => client.list(prefix).await,
            #[cfg(feature = "postgres")]
            KvClient::Postgres(client) => client.list(prefix).await,
        }
    }
}
