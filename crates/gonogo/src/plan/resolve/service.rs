//! Resolution of the `[service]` table: command, port, environment, working
//! directory, readiness probe, stop signal and expected rate.
//!
//! Owns: the checks on those fields (a usable `{port}` when the port is chosen at
//! start, a signal that stops a process, exactly one probe kind). Does not own:
//! starting or stopping anything (that is `service`).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use nix::sys::signal::Signal;
use toml::Spanned;

use super::template::{self, Scope};
use super::{Diagnostic, int_in_range, optional_duration, positive_duration, positive_number};
use crate::plan::{PortChoice, ReadyKind, ReadyProbe, Segment, ServicePlan, StopPlan, Template};
use crate::spec::raw::{PortSetting, RawReady, RawService, RawStop};

/// Default readiness timeout and probe interval.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
const READY_INTERVAL: Duration = Duration::from_millis(100);
/// Default grace period between the stop signal and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

pub(super) fn resolve_service(
    raw: &Spanned<RawService>,
    origin: &Path,
) -> Result<ServicePlan, Diagnostic> {
    let service = raw.get_ref();
    let port = resolve_port(service.port.as_ref())?;
    let command = resolve_command(&service.command)?;
    let mut env = Vec::new();
    for (name, value) in service.env.iter().flatten() {
        let field = format!("service.env.{name}");
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            return Err(Diagnostic::new(
                value.span(),
                field,
                format!(
                    "`{}` is not a valid environment variable name",
                    name.escape_debug()
                ),
            )
            .hint("names cannot be empty or contain `=`"));
        }
        if value.get_ref().contains('\0') {
            return Err(Diagnostic::new(
                value.span(),
                field,
                "the value contains a NUL byte",
            ));
        }
        env.push((
            name.clone(),
            template::parse(value, &field, Scope::Service)?,
        ));
    }
    let port_used = command
        .iter()
        .chain(env.iter().map(|(_, v)| v))
        .any(has_port);
    if port == PortChoice::Auto && !port_used {
        return Err(Diagnostic::new(
            service.command.span(),
            "service.command",
            "the port is chosen at start (port = \"auto\") but neither the command nor env uses {port}",
        )
        .hint("pass it to the service, e.g. \"--listen\", \"127.0.0.1:{port}\", or set a fixed port"));
    }
    let cwd = match &service.cwd {
        Some(cwd) if cwd.get_ref().is_empty() => {
            return Err(
                Diagnostic::new(cwd.span(), "service.cwd", "the directory is empty")
                    .hint("write \".\" for the spec file's directory"),
            );
        }
        Some(cwd) => {
            let base = origin.parent().filter(|p| !p.as_os_str().is_empty());
            Some(base.unwrap_or(Path::new(".")).join(cwd.get_ref()))
        }
        None => None,
    };
    let expected_rate = match &service.expected_rate {
        Some(rate) => Some(positive_number(rate, "service.expected_rate")?),
        None => None,
    };
    Ok(ServicePlan {
        command,
        port,
        env,
        cwd,
        ready: resolve_ready(&service.ready, port)?,
        stop: resolve_stop(service.stop.as_ref())?,
        expected_rate,
    })
}

fn has_port(template: &Template) -> bool {
    template.segments.contains(&Segment::Port)
}

fn resolve_port(port: Option<&Spanned<PortSetting>>) -> Result<PortChoice, Diagnostic> {
    match port {
        None => Ok(PortChoice::Auto),
        Some(spanned) => match spanned.get_ref() {
            PortSetting::Auto => Ok(PortChoice::Auto),
            PortSetting::Fixed(number) => {
                let checked = Spanned::new(spanned.span(), *number);
                let value = int_in_range(&checked, "service.port", 1, 65535)?;
                // In 1..=65535 by the check above.
                Ok(PortChoice::Fixed(u16::try_from(value).unwrap_or(1)))
            }
        },
    }
}

fn resolve_command(command: &Spanned<Vec<Spanned<String>>>) -> Result<Vec<Template>, Diagnostic> {
    let Some(program) = command.get_ref().first() else {
        return Err(
            Diagnostic::new(command.span(), "service.command", "the command is empty").hint(
                "write the program and its arguments, e.g. [\"./server\", \"--port\", \"{port}\"]",
            ),
        );
    };
    if program.get_ref().trim().is_empty() {
        return Err(Diagnostic::new(
            program.span(),
            "service.command[0]",
            "the program name is empty",
        ));
    }
    command
        .get_ref()
        .iter()
        .enumerate()
        .map(|(i, arg)| {
            let field = format!("service.command[{i}]");
            if arg.get_ref().contains('\0') {
                return Err(Diagnostic::new(
                    arg.span(),
                    field,
                    "the argument contains a NUL byte",
                ));
            }
            template::parse(arg, &field, Scope::Service)
        })
        .collect()
}

fn resolve_ready(ready: &Spanned<RawReady>, port: PortChoice) -> Result<ReadyProbe, Diagnostic> {
    let raw = ready.get_ref();
    let kind = match (&raw.http, &raw.tcp) {
        (Some(url), None) => {
            template::check_http_url(url, "service.ready.http", port)?;
            ReadyKind::Http {
                url: template::parse(url, "service.ready.http", Scope::Service)?,
            }
        }
        (None, Some(address)) => {
            template::check_tcp_address(address, "service.ready.tcp", port)?;
            ReadyKind::Tcp {
                address: template::parse(address, "service.ready.tcp", Scope::Service)?,
            }
        }
        (Some(_), Some(tcp)) => {
            return Err(Diagnostic::new(
                tcp.span(),
                "service.ready.tcp",
                "the ready probe has both `http` and `tcp`; give exactly one",
            ));
        }
        (None, None) => {
            return Err(Diagnostic::new(
                ready.span(),
                "service.ready",
                "the ready probe needs `http` (a URL answered with 2xx) or `tcp` (an address that accepts connections)",
            )
            .hint("e.g. ready = { http = \"http://127.0.0.1:{port}/health\" }"));
        }
    };
    let timeout =
        positive_duration(raw.timeout.as_ref(), "service.ready.timeout")?.unwrap_or(READY_TIMEOUT);
    let interval = positive_duration(raw.interval.as_ref(), "service.ready.interval")?
        .unwrap_or(READY_INTERVAL);
    Ok(ReadyProbe {
        kind,
        timeout,
        interval,
    })
}

fn resolve_stop(stop: Option<&Spanned<RawStop>>) -> Result<StopPlan, Diagnostic> {
    let raw = stop.map(Spanned::get_ref);
    let signal = match raw.and_then(|s| s.signal.as_ref()) {
        Some(name) => parse_signal(name)?,
        None => Signal::SIGTERM,
    };
    let grace = optional_duration(raw.and_then(|s| s.grace.as_ref()), "service.stop.grace")?
        .map_or(STOP_GRACE, |(d, _)| d);
    Ok(StopPlan {
        signal: signal as i32,
        grace,
    })
}

/// `TERM`, `SIGTERM` or `sigterm` → SIGTERM. Signals that do not end a process
/// (stop, continue, terminal job control) are refused.
fn parse_signal(name: &Spanned<String>) -> Result<Signal, Diagnostic> {
    let upper = name.get_ref().trim().to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    let field = "service.stop.signal";
    let signal = Signal::from_str(&full).map_err(|_| {
        Diagnostic::new(
            name.span(),
            field,
            format!("unknown signal `{}`", name.get_ref()),
        )
        .hint("use a signal name such as SIGTERM, SIGINT, SIGQUIT or SIGUSR1")
    })?;
    if matches!(
        signal,
        Signal::SIGSTOP
            | Signal::SIGTSTP
            | Signal::SIGCONT
            | Signal::SIGTTIN
            | Signal::SIGTTOU
            | Signal::SIGCHLD
    ) {
        return Err(Diagnostic::new(
            name.span(),
            field,
            format!("{} does not stop a process", signal.as_str()),
        )
        .hint("use SIGTERM (the default) or SIGINT"));
    }
    Ok(signal)
}
