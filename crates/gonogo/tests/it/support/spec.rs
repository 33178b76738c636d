//! A small builder for the spec text the tests write: TOML tables (`[service]`,
//! `[[workload]]`, `[[phase]]`, `[[criterion]]`, …) as ordered key/value lines, so a
//! test names the phase and criteria it checks instead of pasting TOML.
//!
//! ```ignore
//! let body = Spec::new()
//!     .with(get("2s"))
//!     .with(steady("steady", 300, "4s").set("warmup", "1s"))
//!     .with(criterion("steady", "latency.p99", "<=", "100ms"));
//! ```

use std::fmt;

/// A TOML value as the builder writes it: strings are quoted, numbers and booleans
/// bare, and [`Raw`] (arrays, inline tables) verbatim.
pub trait Value {
    fn toml(&self) -> String;
}

impl Value for &str {
    fn toml(&self) -> String {
        toml::Value::String((*self).to_string()).to_string()
    }
}

impl Value for String {
    fn toml(&self) -> String {
        self.as_str().toml()
    }
}

impl Value for u32 {
    fn toml(&self) -> String {
        self.to_string()
    }
}

impl Value for f64 {
    fn toml(&self) -> String {
        toml::Value::Float(*self).to_string()
    }
}

impl Value for bool {
    fn toml(&self) -> String {
        self.to_string()
    }
}

/// TOML text written as it is: `Raw("[200, 404]")`, `Raw("{ rss = \"64MiB/h\" }")`.
#[derive(Debug, Clone, Copy)]
pub struct Raw<'a>(pub &'a str);

impl Value for Raw<'_> {
    fn toml(&self) -> String {
        self.0.to_string()
    }
}

/// One table: its header line and its `key = value` lines in order.
#[derive(Debug, Clone)]
pub struct Table {
    header: String,
    lines: Vec<String>,
}

impl Table {
    /// A table with header `header` (`"[service]"`, `"[[phase]]"`).
    pub fn new(header: &str) -> Table {
        Table {
            header: header.to_string(),
            lines: Vec::new(),
        }
    }

    /// The table with `key = value` added at the end.
    pub fn set(mut self, key: &str, value: impl Value) -> Table {
        self.lines.push(format!("{key} = {}", value.toml()));
        self
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\n{}", self.header)?;
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// A spec body: tables and verbatim TOML, in order.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    text: String,
}

impl Spec {
    pub fn new() -> Spec {
        Spec::default()
    }

    /// The spec with `table` appended.
    pub fn with(mut self, table: Table) -> Spec {
        self.text.push_str(&table.to_string());
        self
    }

    /// The spec with TOML text appended as it is.
    pub fn raw(mut self, text: &str) -> Spec {
        self.text.push_str(text);
        self
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<Spec> for String {
    fn from(spec: Spec) -> String {
        spec.text
    }
}

/// `[[workload]] name = …` with `kind = { … }` (`kind` is `http`, `redis`, `postgres`).
pub fn workload(name: &str, kind: &str, inline: &str) -> Table {
    Table::new("[[workload]]")
        .set("name", name)
        .set(kind, Raw(inline))
}

/// The testbed's `GET /kv/{key}` workload `get` (200 or 404), with a request timeout
/// (`""` for the default).
pub fn get(timeout: &str) -> Table {
    get_named("get", timeout)
}

/// [`get`] under another name.
pub fn get_named(name: &str, timeout: &str) -> Table {
    let timeout = if timeout.is_empty() {
        String::new()
    } else {
        format!(", timeout = \"{timeout}\"")
    };
    workload(
        name,
        "http",
        &format!(
            "{{ method = \"GET\", url = \"http://127.0.0.1:{{port}}/kv/{{key}}\", expect_status = [200, 404]{timeout} }}"
        ),
    )
}

/// `[[phase]]` named `name` of `kind`.
pub fn phase(name: &str, kind: &str) -> Table {
    Table::new("[[phase]]").set("name", name).set("kind", kind)
}

/// An open-model steady phase: `rate` requests/s for `duration`.
pub fn steady(name: &str, rate: u32, duration: &str) -> Table {
    phase(name, "steady")
        .set("rate", rate)
        .set("duration", duration)
}

/// The integrity phase `writes`: workload `write` at `rate` writes/s over at most
/// `max_connections` for `duration`, then after `settle` the read-back with `read`.
pub fn integrity_writes(rate: u32, max_connections: u32, duration: &str, settle: &str) -> Table {
    phase("writes", "integrity")
        .set("workload", "write")
        .set("read", "read")
        .set("rate", rate)
        .set("max_connections", max_connections)
        .set("duration", duration)
        .set("settle", settle)
}

/// `[[criterion]]`: `metric op value` in `phase`.
pub fn criterion(phase: &str, metric: &str, op: &str, value: impl Value) -> Table {
    Table::new("[[criterion]]")
        .set("phase", phase)
        .set("metric", metric)
        .set("op", op)
        .set("value", value)
}

/// `[[fault]]` of `kind` in `phase`.
pub fn fault(phase: &str, kind: &str) -> Table {
    Table::new("[[fault]]")
        .set("phase", phase)
        .set("kind", kind)
}

/// `[settings]` with resources sampled every `sample_interval`.
pub fn sampled_every(sample_interval: &str) -> Table {
    Table::new("[settings]").set("sample_interval", sample_interval)
}

/// A `[service]` section that runs `command` on `port = "auto"`, ready when `ready`
/// (an inline table) answers, stopped by `signal` with `grace`.
pub fn service(command: &[String], ready: &str, signal: &str, grace: &str) -> Table {
    let quoted: Vec<String> = command.iter().map(|a| a.as_str().toml()).collect();
    Table::new("[service]")
        .set("command", Raw(&format!("[{}]", quoted.join(", "))))
        .set("port", "auto")
        .set("ready", Raw(ready))
        .set(
            "stop",
            Raw(&format!("{{ signal = \"{signal}\", grace = \"{grace}\" }}")),
        )
}
