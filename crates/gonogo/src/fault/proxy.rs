//! The built-in TCP proxy that sits between the load generator and the service and
//! applies network faults.
//!
//! Owns: accepting client connections, connecting each to the service, pumping bytes
//! both ways, and applying the faults in force to the connections they select. Faults
//! are published on a `watch` channel, so an idle connection reacts at once when a
//! fault is applied (a reset hits open connections too) or removed. Does not own:
//! fault timing (the conductor applies and removes faults) or judging effects.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{Effect, EffectSummary};
use crate::plan::{Direction, FaultSpec, NetFault};

/// Read buffer per direction and connection.
const CHUNK: usize = 16 * 1024;

/// A fault in force.
#[derive(Debug, Clone)]
struct Applied {
    id: u64,
    spec: FaultSpec,
    effect: Arc<Effect>,
}

type FaultSet = Arc<Vec<Applied>>;

/// A handle on an applied fault: remove it with [`Proxy::remove`], read its effect.
#[derive(Debug, Clone)]
pub struct FaultHandle {
    id: u64,
    effect: Arc<Effect>,
}

impl FaultHandle {
    pub fn effect(&self) -> EffectSummary {
        self.effect.summary()
    }
}

/// A running proxy. Dropping it closes the listener and every proxied connection.
#[derive(Debug)]
pub struct Proxy {
    local: SocketAddr,
    faults: watch::Sender<FaultSet>,
    next_id: AtomicU64,
    open: Arc<AtomicU64>,
    cancel: CancellationToken,
}

impl Proxy {
    /// Listen on `listen` (port 0 for any free port) and forward to `upstream`.
    pub async fn start(listen: SocketAddr, upstream: SocketAddr) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind(listen).await?;
        let local = listener.local_addr()?;
        let (faults, _) = watch::channel(FaultSet::default());
        let proxy = Proxy {
            local,
            faults,
            next_id: AtomicU64::new(1),
            open: Arc::new(AtomicU64::new(0)),
            cancel: CancellationToken::new(),
        };
        tokio::spawn(accept_loop(
            listener,
            upstream,
            proxy.faults.clone(),
            Arc::clone(&proxy.open),
            proxy.cancel.clone(),
        ));
        Ok(proxy)
    }

    /// Where clients connect.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Put a fault in force, for open and new connections alike.
    pub fn apply(&self, spec: FaultSpec) -> FaultHandle {
        let applied = Applied {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            spec,
            effect: Arc::new(Effect::default()),
        };
        let handle = FaultHandle {
            id: applied.id,
            effect: Arc::clone(&applied.effect),
        };
        self.faults.send_modify(|set| {
            let mut faults = set.as_ref().clone();
            faults.push(applied);
            *set = Arc::new(faults);
        });
        handle
    }

    /// Lift a fault; returns what it affected while it was in force.
    pub fn remove(&self, handle: &FaultHandle) -> EffectSummary {
        self.faults.send_modify(|set| {
            let faults = set.iter().filter(|a| a.id != handle.id).cloned().collect();
            *set = Arc::new(faults);
        });
        handle.effect()
    }

    /// Proxied connections currently open.
    pub fn open_connections(&self) -> u64 {
        self.open.load(Ordering::Relaxed)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    faults: watch::Sender<FaultSet>,
    open: Arc<AtomicU64>,
    cancel: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = cancel.cancelled() => return,
        };
        // A failed accept (e.g. out of fds) affects one client; keep serving.
        let Ok((client, _)) = accepted else {
            continue;
        };
        let guard = OpenGuard::new(Arc::clone(&open));
        let connection = Connection {
            draw: rand::rng().random::<f64>(),
            counted: Mutex::new(Vec::new()),
        };
        let faults = faults.subscribe();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = serve(client, upstream, connection, faults) => {}
                () = cancel.cancelled() => {}
            }
            drop(guard);
        });
    }
}

/// Counts a connection as open while it lives.
struct OpenGuard(Arc<AtomicU64>);

impl OpenGuard {
    fn new(open: Arc<AtomicU64>) -> Self {
        open.fetch_add(1, Ordering::Relaxed);
        OpenGuard(open)
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Per-connection state shared by its two pumps.
#[derive(Debug)]
struct Connection {
    /// Uniform in [0, 1): a fault with fraction f selects this connection when draw < f.
    draw: f64,
    /// Faults that have already counted this connection in their effect.
    counted: Mutex<Vec<u64>>,
}

impl Connection {
    /// The faults in force that act on this connection's `flow`.
    fn selected(&self, set: &FaultSet, flow: Direction) -> Vec<Applied> {
        set.iter()
            .filter(|a| a.spec.direction.covers(flow) && self.draw < a.spec.fraction)
            .cloned()
            .collect()
    }

    /// Record that `fault` acted on `bytes` bytes of this connection.
    fn affected(&self, fault: &Applied, bytes: u64) {
        let mut counted = match self.counted.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if !counted.contains(&fault.id) {
            counted.push(fault.id);
            fault.effect.touch_connection();
        }
        fault.effect.add_bytes(bytes);
    }
}

/// How a pump stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The source closed its side; the other direction may go on.
    Eof,
    /// A reset fault: abort both directions with RST.
    Reset,
    /// A close-after fault, an I/O error, or the proxy stopping: close both directions.
    Close,
}

async fn serve(
    client: TcpStream,
    upstream: SocketAddr,
    connection: Connection,
    faults: watch::Receiver<FaultSet>,
) {
    let Ok(service) = TcpStream::connect(upstream).await else {
        // The service is down: the client sees its connection closed, as it would
        // without the proxy (modulo a refused connect becoming an accept + close).
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = service.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut service_read, mut service_write) = service.into_split();
    let end = {
        let requests = pump(
            &mut client_read,
            &mut service_write,
            Direction::ToService,
            &connection,
            faults.clone(),
        );
        let responses = pump(
            &mut service_read,
            &mut client_write,
            Direction::ToClient,
            &connection,
            faults,
        );
        both(requests, responses).await
    };
    if end == End::Reset {
        // Dropping a write half sends FIN first; a reset needs the whole stream
        // closed with a zero linger, which sends RST instead.
        for (read, write) in [(client_read, client_write), (service_read, service_write)] {
            if let Ok(stream) = read.reunite(write) {
                let _ = stream.set_zero_linger();
            }
        }
    }
}

/// Run both pumps until both reach EOF, or either ends the connection.
async fn both(
    requests: impl std::future::Future<Output = End>,
    responses: impl std::future::Future<Output = End>,
) -> End {
    tokio::pin!(requests, responses);
    let (mut requests_done, mut responses_done) = (false, false);
    loop {
        let end = tokio::select! {
            end = &mut requests, if !requests_done => { requests_done = true; end }
            end = &mut responses, if !responses_done => { responses_done = true; end }
        };
        if end != End::Eof {
            return end;
        }
        if requests_done && responses_done {
            return End::Eof;
        }
    }
}

/// Copy `src` to `dst`, applying the faults in force for `flow` to each chunk.
async fn pump(
    src: &mut OwnedReadHalf,
    dst: &mut OwnedWriteHalf,
    flow: Direction,
    connection: &Connection,
    mut faults: watch::Receiver<FaultSet>,
) -> End {
    let mut buf = vec![0u8; CHUNK];
    // Bytes already forwarded under each close-after fault.
    let mut forwarded: Vec<(u64, u64)> = Vec::new();
    loop {
        let selected = connection.selected(&faults.borrow_and_update(), flow);
        if let Some(reset) = selected.iter().find(|a| a.spec.kind == NetFault::Reset) {
            connection.affected(reset, 0);
            return End::Reset;
        }
        let read = tokio::select! {
            read = src.read(&mut buf) => read,
            changed = faults.changed() => match changed {
                Ok(()) => continue,
                Err(_) => return End::Close,
            },
        };
        let n = match read {
            Ok(0) => {
                let _ = dst.shutdown().await;
                return End::Eof;
            }
            Ok(n) => n,
            Err(_) => return End::Close,
        };
        // Faults may have changed while this read waited.
        let selected = connection.selected(&faults.borrow_and_update(), flow);
        match forward(&buf[..n], dst, connection, &selected, &mut forwarded).await {
            Ok(None) => {}
            Ok(Some(end)) => return end,
            Err(_) => return End::Close,
        }
    }
}

/// Apply `selected` faults to one chunk and write what passes. `Some(end)` stops the pump.
async fn forward(
    chunk: &[u8],
    dst: &mut OwnedWriteHalf,
    connection: &Connection,
    selected: &[Applied],
    forwarded: &mut Vec<(u64, u64)>,
) -> std::io::Result<Option<End>> {
    let n = chunk.len() as u64;
    let mut passing = chunk;
    let mut close = false;
    for fault in selected {
        match fault.spec.kind {
            NetFault::Reset => {
                connection.affected(fault, n);
                return Ok(Some(End::Reset));
            }
            NetFault::Blackhole => {
                connection.affected(fault, n);
                return Ok(None);
            }
            NetFault::CloseAfter { bytes } => {
                let slot = match forwarded.iter().position(|(id, _)| *id == fault.id) {
                    Some(i) => i,
                    None => {
                        forwarded.push((fault.id, 0));
                        forwarded.len() - 1
                    }
                };
                let budget = bytes.saturating_sub(forwarded[slot].1);
                if (passing.len() as u64) >= budget {
                    let keep = usize::try_from(budget).unwrap_or(usize::MAX);
                    connection.affected(fault, (passing.len() - keep) as u64);
                    passing = &passing[..keep];
                    close = true;
                }
                forwarded[slot].1 += passing.len() as u64;
            }
            NetFault::Latency { delay, jitter } => {
                connection.affected(fault, n);
                tokio::time::sleep(jittered(delay, jitter)).await;
            }
            NetFault::Bandwidth { .. } => {}
        }
    }
    let rate = selected.iter().find_map(|f| match f.spec.kind {
        NetFault::Bandwidth { bytes_per_second } => Some((f, bytes_per_second.max(1))),
        _ => None,
    });
    match rate {
        Some((fault, bytes_per_second)) => {
            connection.affected(fault, passing.len() as u64);
            throttled_write(dst, passing, bytes_per_second).await?;
        }
        None => dst.write_all(passing).await?,
    }
    Ok(close.then_some(End::Close))
}

/// `delay` plus a uniform offset in [-jitter, +jitter], never negative.
fn jittered(delay: Duration, jitter: Duration) -> Duration {
    if jitter.is_zero() {
        return delay;
    }
    let offset = rand::rng().random_range(-1.0..=1.0) * jitter.as_secs_f64();
    Duration::from_secs_f64((delay.as_secs_f64() + offset).max(0.0))
}

/// Write `data` in slices of a twentieth of a second's worth, pausing after each.
async fn throttled_write(
    dst: &mut OwnedWriteHalf,
    data: &[u8],
    bytes_per_second: u64,
) -> std::io::Result<()> {
    let slice = usize::try_from((bytes_per_second / 20).max(1)).unwrap_or(usize::MAX);
    for piece in data.chunks(slice) {
        dst.write_all(piece).await?;
        let pause = piece.len() as f64 / bytes_per_second as f64;
        tokio::time::sleep(Duration::from_secs_f64(pause)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
