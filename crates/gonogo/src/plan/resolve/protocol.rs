//! The non-HTTP workload tables: `redis = { … }` and `postgres = { … }`, and the
//! rule that a workload has exactly one of `http`, `redis` and `postgres`.
//!
//! Owns: checking a Redis address and command, a PostgreSQL connection string
//! (parsed with `tokio_postgres::Config`, no connection made), statement and
//! parameters, and building [`Protocol`]. Does not own: the HTTP table (that is
//! `resolve`), loopback checks (`targets`), or sending anything.
//!
//! A protocol whose cargo feature this binary was built without is refused here,
//! at the line of its table, naming the feature to rebuild with.

use std::ops::Range;
#[cfg(feature = "postgres")]
use std::str::FromStr;
use std::time::Duration;

use toml::Spanned;

use super::template::{self, Scope};
use super::{Diagnostic, positive_duration};
use crate::plan::{PhasePlan, PortChoice, Protocol, Segment, Template, WorkloadPlan};
use crate::spec::raw::{RawHttp, RawPhase, RawPostgres, RawRedis, RawWorkload};

/// Per-request timeout when a `redis` or `postgres` table leaves it out.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Which protocol table a workload has.
pub(super) enum Which<'a> {
    Http(&'a Spanned<RawHttp>),
    Redis(&'a Spanned<RawRedis>),
    Postgres(&'a Spanned<RawPostgres>),
}

/// The workload's one protocol table, or a diagnostic when it has none or several.
pub(super) fn which<'a>(
    raw: &'a Spanned<RawWorkload>,
    field: &str,
) -> Result<Which<'a>, Diagnostic> {
    let workload = raw.get_ref();
    let mut found = Vec::new();
    if let Some(http) = &workload.http {
        found.push(("http", http.span(), Which::Http(http)));
    }
    if let Some(redis) = &workload.redis {
        found.push(("redis", redis.span(), Which::Redis(redis)));
    }
    if let Some(postgres) = &workload.postgres {
        found.push(("postgres", postgres.span(), Which::Postgres(postgres)));
    }
    if found.len() > 1 {
        let (name, span, _) = &found[1];
        return Err(Diagnostic::new(
            span.clone(),
            format!("{field}.{name}"),
            format!(
                "a workload speaks one protocol, but this one has both `{}` and `{name}`",
                found[0].0
            ),
        )
        .hint("split it into two [[workload]] tables and list both in the phase"));
    }
    match found.pop() {
        Some((_, _, which)) => Ok(which),
        None => Err(Diagnostic::new(
            raw.span(),
            field,
            "a workload needs one of `http`, `redis` or `postgres`",
        )
        .hint(
            "add e.g. http = { url = \"http://127.0.0.1:{port}/\" } or \
             redis = { address = \"127.0.0.1:{port}\", command = [\"GET\", \"{key}\"] }",
        )),
    }
}

/// The error for a protocol table of a feature this binary lacks; `Ok` when built in.
fn require_feature(
    built: bool,
    feature: &str,
    span: Range<usize>,
    field: &str,
) -> Result<(), Diagnostic> {
    if built {
        return Ok(());
    }
    Err(Diagnostic::new(
        span,
        field,
        format!(
            "this gonogo was built without the `{feature}` feature; rebuild with `--features {feature}`"
        ),
    )
    .hint(format!(
        "cargo install gonogo --features {feature} (the default build has every protocol)"
    )))
}

/// `redis = { address, command, timeout }` → the protocol and the timeout.
pub(super) fn resolve_redis(
    spanned: &Spanned<RawRedis>,
    field: &str,
    port: PortChoice,
) -> Result<(Protocol, Duration), Diagnostic> {
    require_feature(cfg!(feature = "redis"), "redis", spanned.span(), field)?;
    let raw = spanned.get_ref();
    let address_field = format!("{field}.address");
    template::check_tcp_address(&raw.address, &address_field, port)?;
    let address = template::parse(&raw.address, &address_field, Scope::Connection)?;
    let command_field = format!("{field}.command");
    let args = raw.command.get_ref();
    let Some(name) = args.first() else {
        return Err(
            Diagnostic::new(raw.command.span(), command_field, "the command is empty")
                .hint("write the command and its arguments, e.g. [\"SET\", \"{key}\", \"v{seq}\"]"),
        );
    };
    if name.get_ref().trim().is_empty() {
        return Err(Diagnostic::new(
            name.span(),
            format!("{command_field}[0]"),
            "the command name is empty",
        )
        .hint("the first element is the command, e.g. \"GET\""));
    }
    let command = args
        .iter()
        .enumerate()
        .map(|(i, arg)| template::parse(arg, &format!("{command_field}[{i}]"), Scope::Request))
        .collect::<Result<Vec<_>, _>>()?;
    let timeout = positive_duration(raw.timeout.as_ref(), &format!("{field}.timeout"))?
        .unwrap_or(DEFAULT_TIMEOUT);
    Ok((Protocol::Redis { address, command }, timeout))
}

/// `postgres = { url, statement, params, list, timeout }` → the protocol and the timeout.
pub(super) fn resolve_postgres(
    spanned: &Spanned<RawPostgres>,
    field: &str,
    port: PortChoice,
) -> Result<(Protocol, Duration), Diagnostic> {
    require_feature(
        cfg!(feature = "postgres"),
        "postgres",
        spanned.span(),
        field,
    )?;
    let raw = spanned.get_ref();
    let url_field = format!("{field}.url");
    let config = template::parse(&raw.url, &url_field, Scope::Connection)?;
    check_postgres_config(&raw.url, &config, &url_field, port)?;
    let statement = nonempty_statement(&raw.statement, &format!("{field}.statement"))?;
    let params_field = format!("{field}.params");
    let params = raw
        .params
        .iter()
        .flat_map(|list| list.get_ref().iter())
        .enumerate()
        .map(|(i, param)| template::parse(param, &format!("{params_field}[{i}]"), Scope::Request))
        .collect::<Result<Vec<_>, _>>()?;
    let list = match &raw.list {
        Some(list) => Some(nonempty_statement(list, &format!("{field}.list"))?),
        None => None,
    };
    let timeout = positive_duration(raw.timeout.as_ref(), &format!("{field}.timeout"))?
        .unwrap_or(DEFAULT_TIMEOUT);
    Ok((
        Protocol::Postgres {
            config,
            statement,
            params,
            list,
        },
        timeout,
    ))
}

/// What an integrity phase's workloads can do together: the read speaks the write's
/// protocol and reaches the same server (same Redis address, same PostgreSQL
/// connection string), and a `list` workload (HTTP's way to list keys) goes with
/// an HTTP write only. Checked here so that `check` refuses what the run would.
pub(super) fn check_phase_protocols(
    raw: &[Spanned<RawPhase>],
    phases: &[PhasePlan],
    workloads: &[WorkloadPlan],
) -> Result<(), Diagnostic> {
    for (index, (spanned, phase)) in raw.iter().zip(phases).enumerate() {
        let (Some(integrity), Some(&write)) = (phase.integrity, phase.workloads.first()) else {
            continue;
        };
        let field = format!("phase[{index}]");
        let (Some(write), Some(read)) = (workloads.get(write), workloads.get(integrity.read))
        else {
            continue;
        };
        let raw = spanned.get_ref();
        let span = |value: &Option<Spanned<String>>| super::field_or_phase(spanned, value.as_ref());
        if let Some(why) = read_mismatch(write, read) {
            return Err(
                Diagnostic::new(span(&raw.read), format!("{field}.read"), why)
                    .hint("read back with a workload of the write's protocol and server"),
            );
        }
        let list = integrity.list.and_then(|i| workloads.get(i));
        if let Some(list) = list {
            let why = match (&write.protocol, &list.protocol) {
                (Protocol::Http, Protocol::Http) => None,
                (Protocol::Http, other) => Some(format!(
                    "`list` names workload `{}`, which speaks {}; a listing is an HTTP GET whose body lists keys",
                    list.name,
                    other.as_str()
                )),
                (other, _) => Some(format!(
                    "a `list` workload lists keys over HTTP only; {} lists keys by itself",
                    other.as_str()
                )),
            };
            if let Some(why) = why {
                return Err(Diagnostic::new(span(&raw.list), format!("{field}.list"), why)
                    .hint("drop `list` from the phase (Redis lists with SCAN, PostgreSQL with its workload's `list` statement)"));
            }
        }
    }
    Ok(())
}

/// Why `read` cannot read back what `write` wrote, if it cannot.
fn read_mismatch(write: &WorkloadPlan, read: &WorkloadPlan) -> Option<String> {
    // Any stand-in port: both templates are rendered with the same one.
    let same = |a: &Template, b: &Template| a.render_with_port(1) == b.render_with_port(1);
    match (&write.protocol, &read.protocol) {
        (Protocol::Http, Protocol::Http) => None,
        (Protocol::Redis { address: w, .. }, Protocol::Redis { address: r, .. }) => {
            (!same(w, r)).then(|| {
                format!(
                    "the read workload `{}` reads from another Redis address than the write `{}`",
                    read.name, write.name
                )
            })
        }
        (Protocol::Postgres { config: w, .. }, Protocol::Postgres { config: r, .. }) => {
            (!same(w, r)).then(|| format!(
                "the read workload `{}` connects with another connection string than the write `{}`",
                read.name, write.name
            ))
        }
        (w, r) => Some(format!(
            "the read workload `{}` speaks {}, but the write workload `{}` speaks {}; an integrity phase reads back with the protocol it writes with",
            read.name,
            r.as_str(),
            write.name,
            w.as_str()
        )),
    }
}

fn nonempty_statement(value: &Spanned<String>, field: &str) -> Result<String, Diagnostic> {
    if value.get_ref().trim().is_empty() {
        return Err(
            Diagnostic::new(value.span(), field, "the statement is empty")
                .hint("write one SQL statement, with $1, $2, … for its params"),
        );
    }
    Ok(value.get_ref().clone())
}

/// The connection string must parse, name a TCP host (or a socket directory) and a
/// user, and use `{port}` when the port is chosen at start.
fn check_postgres_config(
    value: &Spanned<String>,
    config: &Template,
    field: &str,
    port: PortChoice,
) -> Result<(), Diagnostic> {
    let error = |message: String| Diagnostic::new(value.span(), field, message);
    let has_port = config.segments.contains(&Segment::Port);
    if port == PortChoice::Auto && !has_port {
        return Err(error(
            "the port is chosen at start (port = \"auto\"), so the connection string must use {port}"
                .to_string(),
        )
        .hint("write e.g. \"host=127.0.0.1 port={port} user=postgres dbname=postgres\""));
    }
    check_host_and_user(config, error)
}

/// The connection string parses and names a host and a user.
#[cfg(feature = "postgres")]
fn check_host_and_user(
    config: &Template,
    error: impl Fn(String) -> Diagnostic,
) -> Result<(), Diagnostic> {
    let parsed = tokio_postgres::Config::from_str(&config.render_with_port(5432))
        .map_err(|e| {
            error(format!("cannot read the connection string: {e}")).hint(
                "write key=value pairs (\"host=127.0.0.1 port={port} user=postgres\") or a postgresql:// url",
            )
        })?;
    if parsed.get_hosts().is_empty() && parsed.get_hostaddrs().is_empty() {
        return Err(error("the connection string names no host".to_string())
            .hint("add host=127.0.0.1 (gonogo does not read PGHOST)"));
    }
    if parsed.get_user().is_none() {
        return Err(error("the connection string names no user".to_string())
            .hint("add user=postgres (gonogo does not read PGUSER)"));
    }
    Ok(())
}

/// Without the feature the table was refused before this is reached.
#[cfg(not(feature = "postgres"))]
fn check_host_and_user(
    _config: &Template,
    _error: impl Fn(String) -> Diagnostic,
) -> Result<(), Diagnostic> {
    Ok(())
}

#[cfg(test)]
mod tests {
    #[cfg(any(feature = "redis", feature = "postgres"))]
    use super::*;

    #[cfg(any(feature = "redis", feature = "postgres"))]
    fn spanned(text: &str) -> Spanned<String> {
        Spanned::new(0..text.len(), text.to_string())
    }

    #[cfg(feature = "postgres")]
    fn postgres(url: &str, statement: &str) -> Spanned<RawPostgres> {
        Spanned::new(
            0..1,
            RawPostgres {
                url: spanned(url),
                statement: spanned(statement),
                params: None,
                list: None,
                timeout: None,
            },
        )
    }

    #[cfg(any(feature = "redis", feature = "postgres"))]
    fn message(result: Result<(Protocol, Duration), Diagnostic>) -> String {
        result.err().map(|d| d.message).unwrap_or_default()
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn a_postgres_connection_string_needs_host_user_and_port() {
        let ok = "host=127.0.0.1 port={port} user=postgres dbname=postgres";
        let resolved = resolve_postgres(&postgres(ok, "SELECT 1"), "w", PortChoice::Auto);
        assert!(
            matches!(resolved, Ok((Protocol::Postgres { .. }, t)) if t == DEFAULT_TIMEOUT),
            "{resolved:?}"
        );
        let url = "postgresql://postgres@127.0.0.1:{port}/postgres";
        assert!(resolve_postgres(&postgres(url, "SELECT 1"), "w", PortChoice::Auto).is_ok());
        let cases = [
            ("host=127.0.0.1 port=5432 user=postgres", "must use {port}"),
            ("port={port} user=postgres", "names no host"),
            ("host=127.0.0.1 port={port}", "names no user"),
            (
                "host=127.0.0.1 port={port} user=postgres bogus=1",
                "cannot read",
            ),
            ("host=127.0.0.1 port={port} user={key}", "only knows {port}"),
        ];
        for (url, expected) in cases {
            let got = message(resolve_postgres(
                &postgres(url, "SELECT 1"),
                "w",
                PortChoice::Auto,
            ));
            assert!(got.contains(expected), "{url}: {got}");
        }
        let got = message(resolve_postgres(&postgres(ok, "  "), "w", PortChoice::Auto));
        assert_eq!(got, "the statement is empty");
    }

    /// A whole spec with `workload` as its only workload.
    fn spec_with(workload: &str) -> String {
        format!(
            "[service]\ncommand = [\"server\", \"{{port}}\"]\nready = {{ tcp = \"127.0.0.1:{{port}}\" }}\n\n\
             [[workload]]\nname = \"w\"\n{workload}\n\n\
             [[phase]]\nname = \"p\"\nkind = \"steady\"\nrate = 10\nduration = \"1s\"\n"
        )
    }

    fn plan(workload: &str) -> Result<crate::plan::Plan, crate::spec::SpecError> {
        crate::plan::from_str(std::path::Path::new("s.toml"), &spec_with(workload))
    }

    #[cfg(all(feature = "redis", feature = "postgres"))]
    #[test]
    fn a_workload_has_exactly_one_protocol_reported_at_its_line() {
        let both = "http = { url = \"http://127.0.0.1:{port}/\" }\n\
                    redis = { address = \"127.0.0.1:{port}\", command = [\"PING\"] }";
        let err = plan(both).expect_err("two protocols");
        assert_eq!(err.field, "workload[0].redis");
        assert_eq!(err.line, 8, "{err}");
        assert!(err.message.contains("both `http` and `redis`"), "{err}");
        let err = plan("keys = 5").expect_err("no protocol");
        assert_eq!(err.field, "workload[0]");
        assert!(
            err.message.contains("one of `http`, `redis` or `postgres`"),
            "{err}"
        );
        let err =
            plan("redis = { address = \"127.0.0.1:{port}\", command = [\"GET\", \"{nope}\"] }")
                .expect_err("bad placeholder");
        assert_eq!(err.field, "workload[0].redis.command[1]");
        let err = plan("postgres = { url = \"host=127.0.0.1 port={port} user=u\", statement = \"SELECT 1\", timeout = \"0s\" }")
            .expect_err("zero timeout");
        assert_eq!(err.field, "workload[0].postgres.timeout");
    }

    #[cfg(all(feature = "redis", feature = "postgres"))]
    #[test]
    fn redis_and_postgres_hosts_are_targets_for_the_loopback_rule() {
        // The remote targets of a spec whose workload is `table`.
        let targets = |table: String| {
            plan(&table)
                .map(|p| p.remote_targets())
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let redis = |host: &str| {
            targets(format!(
                "redis = {{ address = \"{host}:{{port}}\", command = [\"PING\"] }}"
            ))
        };
        assert!(redis("127.0.0.1").is_empty());
        assert!(redis("[::1]").is_empty());
        assert_eq!(redis("10.1.2.3"), vec!["10.1.2.3"]);
        let postgres = |url: &str| {
            targets(format!(
                "postgres = {{ url = \"{url}\", statement = \"SELECT 1\" }}"
            ))
        };
        assert!(postgres("host=localhost port={port} user=u").is_empty());
        assert!(postgres("host=/tmp/sock port={port} user=u").is_empty());
        assert!(postgres("postgresql://u@127.0.0.1:{port}/db").is_empty());
        assert_eq!(
            postgres("host=db.example.com port={port} user=u"),
            vec!["db.example.com"]
        );
        assert_eq!(
            postgres("host=127.0.0.1 hostaddr=10.0.0.9 port={port} user=u"),
            vec!["10.0.0.9"]
        );
    }

    #[cfg(feature = "redis")]
    #[test]
    fn a_redis_command_is_templates_and_its_address_host_port() {
        let raw = |address: &str, command: &[&str]| {
            Spanned::new(
                0..1,
                RawRedis {
                    address: spanned(address),
                    command: Spanned::new(0..1, command.iter().map(|c| spanned(c)).collect()),
                    timeout: Some(spanned("1s")),
                },
            )
        };
        let resolved = resolve_redis(
            &raw("127.0.0.1:{port}", &["SET", "{key}", "v{seq}"]),
            "w",
            PortChoice::Auto,
        );
        let Ok((Protocol::Redis { command, .. }, timeout)) = resolved else {
            panic!("expected a redis protocol, got {resolved:?}");
        };
        assert_eq!(timeout, Duration::from_secs(1));
        assert_eq!(command.len(), 3);
        assert_eq!(command[1].segments, vec![Segment::Key]);
        let cases = [
            (raw("127.0.0.1:{port}", &[]), "the command is empty"),
            (raw("127.0.0.1:{port}", &[""]), "the command name is empty"),
            (raw("redis://127.0.0.1:{port}", &["GET"]), "is a url"),
            (raw("127.0.0.1:6379", &["GET"]), "must use {port}"),
        ];
        for (raw, expected) in cases {
            let got = message(resolve_redis(&raw, "w", PortChoice::Auto));
            assert!(got.contains(expected), "{expected}: {got}");
        }
    }

    /// Built with a protocol's feature its table resolves; built without, it is
    /// refused at the table's line, naming the feature.
    #[test]
    fn a_protocol_left_out_of_the_build_is_refused_naming_its_feature() {
        let cases = [
            (
                "redis",
                cfg!(feature = "redis"),
                "redis = { address = \"127.0.0.1:{port}\", command = [\"PING\"] }",
            ),
            (
                "postgres",
                cfg!(feature = "postgres"),
                "postgres = { url = \"host=127.0.0.1 port={port} user=u\", statement = \"SELECT 1\" }",
            ),
        ];
        for (feature, built, table) in cases {
            match plan(table) {
                Ok(_) => assert!(built, "{feature}: resolved without the feature"),
                Err(err) => {
                    assert!(!built, "{feature}: {err}");
                    assert_eq!(err.field, format!("workload[0].{feature}"));
                    assert_eq!(err.line, 7, "{err}");
                    assert!(
                        err.message.contains(&format!(
                            "built without the `{feature}` feature; rebuild with `--features {feature}`"
                        )),
                        "{err}"
                    );
                }
            }
        }
    }

    /// A spec whose integrity phase writes with `put`, reads with `get` and has
    /// `extra` lines; `workloads` holds the [[workload]] tables.
    #[cfg(feature = "redis")]
    fn integrity_plan(
        workloads: &str,
        extra: &str,
    ) -> Result<crate::plan::Plan, crate::spec::SpecError> {
        let text = format!(
            "[service]\ncommand = [\"server\", \"{{port}}\"]\nready = {{ tcp = \"127.0.0.1:{{port}}\" }}\n\n\
             {workloads}\n\
             [[phase]]\nname = \"p\"\nkind = \"integrity\"\nworkload = \"put\"\nread = \"get\"\n{extra}\nrate = 10\nduration = \"1s\"\n"
        );
        crate::plan::from_str(std::path::Path::new("s.toml"), &text)
    }

    #[cfg(feature = "redis")]
    const REDIS_PUT: &str = "[[workload]]\nname = \"put\"\n\
        redis = { address = \"127.0.0.1:{port}\", command = [\"SET\", \"{key}\", \"{value}\"] }\n";

    /// The error of [`integrity_plan`]`(workloads, extra)`, checked to be at `field` on
    /// `line`.
    #[cfg(feature = "redis")]
    fn integrity_error(
        workloads: &str,
        extra: &str,
        field: &str,
        line: usize,
    ) -> crate::spec::SpecError {
        let err = integrity_plan(workloads, extra).expect_err("an error");
        assert_eq!(err.field, field);
        assert_eq!(err.line, line, "{err}");
        err
    }

    #[cfg(feature = "redis")]
    #[test]
    fn an_integrity_read_speaks_the_writes_protocol_on_the_same_server() {
        let http_get =
            "[[workload]]\nname = \"get\"\nhttp = { url = \"http://127.0.0.1:{port}/kv/{key}\" }\n";
        let err = integrity_error(&format!("{REDIS_PUT}{http_get}"), "", "phase[0].read", 16);
        assert!(
            err.message
                .contains("`get` speaks http, but the write workload `put` speaks redis"),
            "{err}"
        );
        let other = "[[workload]]\nname = \"get\"\n\
            redis = { address = \"127.0.0.2:{port}\", command = [\"GET\", \"{key}\"] }\n";
        let err = integrity_plan(&format!("{REDIS_PUT}{other}"), "").expect_err("address");
        assert!(err.message.contains("another Redis address"), "{err}");
        let same = other.replace("127.0.0.2", "127.0.0.1");
        integrity_plan(&format!("{REDIS_PUT}{same}"), "").unwrap_or_else(|e| panic!("{e}"));
    }

    #[cfg(feature = "redis")]
    #[test]
    fn a_list_workload_goes_with_an_http_write_only() {
        let get = "[[workload]]\nname = \"get\"\n\
            redis = { address = \"127.0.0.1:{port}\", command = [\"GET\", \"{key}\"] }\n";
        let keys =
            "[[workload]]\nname = \"keys\"\nhttp = { url = \"http://127.0.0.1:{port}/keys\" }\n";
        let err = integrity_error(
            &format!("{REDIS_PUT}{get}{keys}"),
            "list = \"keys\"",
            "phase[0].list",
            20,
        );
        assert!(
            err.message
                .contains("lists keys over HTTP only; redis lists keys by itself"),
            "{err}"
        );
        let http = "[[workload]]\nname = \"put\"\nhttp = { method = \"PUT\", url = \"http://127.0.0.1:{port}/kv/{key}\", body = \"{value}\" }\n\
            [[workload]]\nname = \"get\"\nhttp = { url = \"http://127.0.0.1:{port}/kv/{key}\" }\n";
        let redis_keys = "[[workload]]\nname = \"keys\"\n\
            redis = { address = \"127.0.0.1:{port}\", command = [\"KEYS\", \"*\"] }\n";
        let err = integrity_plan(&format!("{http}{redis_keys}"), "list = \"keys\"")
            .expect_err("redis list");
        assert!(err.message.contains("which speaks redis"), "{err}");
    }
}
