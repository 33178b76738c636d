//! Events in words: one sentence per event kind, the same in every report, the
//! findings that quote an event, and the conductor's messages.
//!
//! Owns: [`event_detail`] and [`describe_exit`]. Pure.

use super::EventKind;
use crate::units::format;

/// What an event says, in words.
pub fn event_detail(kind: &EventKind) -> String {
    match kind {
        EventKind::ServiceStarted { pid, port, command } => {
            format!("pid {pid} on port {port}: {}", command.join(" "))
        }
        EventKind::ServiceReady { after } => {
            format!("ready after {}", format::duration(*after))
        }
        EventKind::ServiceExited {
            code,
            signal,
            expected,
        } => {
            let how = if *expected {
                "stopped by gonogo"
            } else {
                "exited unexpectedly"
            };
            format!("{how}, {}", describe_exit(*code, *signal))
        }
        EventKind::PhaseStarted { phase } => format!("phase {phase} started"),
        EventKind::PhaseEnded { phase, abandoned } => format!(
            "phase {phase} ended, {} requests abandoned at the drain deadline",
            format::count(*abandoned)
        ),
        EventKind::FaultApplied { fault, .. } => format!("fault in force: {fault}"),
        EventKind::FaultRemoved {
            fault,
            connections,
            bytes,
            ..
        } => match (connections, bytes) {
            (Some(connections), Some(bytes)) => format!(
                "fault over: {fault}; it acted on {} connections and {} bytes",
                format::count(*connections),
                format::count(*bytes)
            ),
            _ => format!("fault over: {fault}"),
        },
        EventKind::Interrupted { signal } => format!("interrupted by {signal}"),
        EventKind::Failure { message } => format!("failure: {message}"),
        EventKind::EmergencyStop {
            limit,
            observed,
            threshold,
            phase,
        } => {
            let (what, observed, threshold) = match limit.as_str() {
                "host_memory_floor" => (
                    "host available memory fell below its floor",
                    format::bytes(*observed),
                    format::bytes(*threshold),
                ),
                "service_rss_ceiling" => (
                    "the service's RSS rose above its ceiling",
                    format::bytes(*observed),
                    format::bytes(*threshold),
                ),
                _ => (
                    "the error rate stayed above its limit",
                    format::percent(*observed),
                    format::percent(*threshold),
                ),
            };
            let place = phase
                .as_ref()
                .map_or_else(String::new, |p| format!(" in phase {p}"));
            format!("emergency stop{place}: {what} ({observed}, limit {threshold}; limits.{limit})")
        }
        EventKind::ScalingLoaded {
            phase,
            size,
            requests,
            took,
        } => {
            let how = if *requests > 0 {
                format!("{} requests", format::count(*requests))
            } else {
                "the setup command".to_string()
            };
            format!(
                "step {phase} loaded to {} items by {how} in {}",
                format::count(*size),
                format::duration(*took)
            )
        }
        EventKind::ScalingLoadFailed {
            phase,
            size,
            message,
        } => format!(
            "step {phase} was not measured: loading {} items failed: {message}",
            format::count(*size)
        ),
    }
}

/// "exit code 1", "signal 9 (SIGKILL)", or both.
pub fn describe_exit(code: Option<i32>, signal: Option<i32>) -> String {
    let mut parts = Vec::new();
    if let Some(code) = code {
        parts.push(format!("exit code {code}"));
    }
    if let Some(signal) = signal {
        match nix::sys::signal::Signal::try_from(signal) {
            Ok(named) => parts.push(format!("signal {signal} ({})", named.as_str())),
            Err(_) => parts.push(format!("signal {signal}")),
        }
    }
    if parts.is_empty() {
        "no exit status".to_string()
    } else {
        parts.join(", ")
    }
}
