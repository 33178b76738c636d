//! Real Redis and PostgreSQL servers for the protocol tests: find the binaries,
//! prepare data directories in temp dirs, and write the `[service]` section that
//! lets gonogo start them on a free loopback port. Never the system services.
//!
//! PostgreSQL refuses to run as root; when the tests run as root (CI containers),
//! the data directory is chowned to the `postgres` user (made by the Debian
//! package) and `initdb` / `postgres` run through `setpriv`, which execs directly,
//! so gonogo's process-group stop still reaches the postmaster.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::needs::Need;
use super::spec;

/// `redis-server` on PATH; a missing one fails the test with the install hint.
pub fn redis_server() -> PathBuf {
    Need::Redis.require()
}

/// The newest `/usr/lib/postgresql/<version>/bin` holding `postgres` and `initdb`; a
/// missing one fails the test with the install hint.
pub fn postgres_bin() -> PathBuf {
    Need::Postgres.require()
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the process's effective user.
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The command prefix that runs a PostgreSQL program as `postgres` when root.
fn as_postgres() -> Vec<String> {
    if running_as_root() {
        [
            "setpriv",
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            "--",
        ]
        .map(String::from)
        .to_vec()
    } else {
        Vec::new()
    }
}

/// Hand `path` (recursively) to the `postgres` user when running as root.
fn chown_to_postgres(path: &Path) {
    if running_as_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success(), "chown of {} failed", path.display());
    }
}

/// A `redis-server` binary and a fresh temp dir for its files (removed on drop).
pub struct RedisDir {
    pub server: PathBuf,
    pub data: tempfile::TempDir,
}

impl RedisDir {
    pub fn new() -> RedisDir {
        RedisDir {
            server: redis_server(),
            data: tempfile::tempdir().unwrap(),
        }
    }

    /// [`redis_service`] with its files in this dir.
    pub fn service(&self) -> String {
        redis_service(&self.server, self.data.path())
    }

    /// [`redis_service_with`] `persistence`, its files in this dir.
    pub fn service_with(&self, persistence: &[&str]) -> String {
        redis_service_with(&self.server, self.data.path(), persistence)
    }
}

/// A Redis service that persists every write before acknowledging it
/// (`appendfsync always`), its files in `dir`.
pub fn redis_service(server: &Path, dir: &Path) -> String {
    let durable = [
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ];
    redis_service_with(server, dir, &durable)
}

/// A Redis service with its files in `dir` and `persistence` (more `redis-server`
/// arguments, e.g. `["--appendonly", "no"]`). Ready by TCP.
pub fn redis_service_with(server: &Path, dir: &Path, persistence: &[&str]) -> String {
    let mut args = vec![
        server.display().to_string(),
        "--port".into(),
        "{port}".into(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--dir".into(),
        dir.display().to_string(),
    ];
    args.extend(persistence.iter().map(|a| a.to_string()));
    spec::service(&args, &tcp_ready("10s"), "SIGTERM", "5s").to_string()
}

/// The table the PostgreSQL tests write to.
pub const KV_TABLE: &str = "CREATE TABLE kv (k text PRIMARY KEY, v text NOT NULL);\n";

/// A `postgres` workload `name` on the cluster's `{port}` as user `postgres`: the
/// statement, its parameters (a TOML array) and `more` inline keys (`""` for none,
/// else `, timeout = "2s"` and the like).
pub fn postgres_workload(name: &str, statement: &str, params: &str, more: &str) -> spec::Table {
    let url = "host=127.0.0.1 port={port} user=postgres dbname=postgres";
    spec::workload(
        name,
        "postgres",
        &format!("{{ url = \"{url}\", statement = \"{statement}\", params = {params}{more} }}"),
    )
}

/// A [`postgres_workload`] inserting a row of the [`KV_TABLE`]; `params` are its key
/// and value.
pub fn kv_insert(name: &str, params: &str, more: &str) -> spec::Table {
    postgres_workload(name, "INSERT INTO kv (k, v) VALUES ($1, $2)", params, more)
}

/// A [`postgres_workload`] reading the value of a row of the [`KV_TABLE`]; `params`
/// holds its key.
pub fn kv_select(name: &str, params: &str, more: &str) -> spec::Table {
    postgres_workload(name, "SELECT v FROM kv WHERE k = $1", params, more)
}

/// A `redis` workload `name` on the service's `{port}`: the command (a TOML array)
/// and `more` inline keys (`""` for none, else `, timeout = "2s"` and the like).
pub fn redis_workload(name: &str, command: &str, more: &str) -> spec::Table {
    spec::workload(
        name,
        "redis",
        &format!("{{ address = \"127.0.0.1:{{port}}\", command = {command}{more} }}"),
    )
}

/// An initialised PostgreSQL cluster in its own temp dir (trust auth, superuser
/// `postgres`, fsync on), owned by `postgres` when root.
pub struct PostgresCluster {
    pub bin: PathBuf,
    /// Holds `data/` (the cluster) and the Unix socket; removed on drop.
    pub root: tempfile::TempDir,
}

impl PostgresCluster {
    /// A fresh cluster of [`postgres_bin`] holding the [`KV_TABLE`].
    pub fn kv() -> PostgresCluster {
        PostgresCluster::init(&postgres_bin(), KV_TABLE)
    }

    /// `initdb` a fresh cluster, then run `setup_sql` (e.g. `CREATE TABLE …`) in the
    /// `postgres` database in single-user mode (no server, no port).
    pub fn init(bin: &Path, setup_sql: &str) -> PostgresCluster {
        let root = tempfile::Builder::new().prefix("pg").tempdir().unwrap();
        chown_to_postgres(root.path());
        let cluster = PostgresCluster {
            bin: bin.to_path_buf(),
            root,
        };
        let data = cluster.data();
        cluster.run_as_postgres(
            "initdb",
            &[
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-instructions",
                "-D",
                data.to_str().unwrap(),
            ],
            None,
        );
        if !setup_sql.is_empty() {
            cluster.run_as_postgres(
                "postgres",
                &["--single", "-D", data.to_str().unwrap(), "postgres"],
                Some(setup_sql),
            );
        }
        cluster
    }

    pub fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    fn run_as_postgres(&self, program: &str, args: &[&str], stdin: Option<&str>) {
        let mut argv = as_postgres();
        argv.push(self.bin.join(program).display().to_string());
        argv.extend(args.iter().map(|a| a.to_string()));
        let mut child = Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(self.root.path())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).unwrap();
        }
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && !stdout.contains("ERROR:"),
            "{program} failed: {}\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The `[service]` section that has gonogo start this cluster on `{port}`,
    /// listening on 127.0.0.1 and with its socket in the temp dir.
    pub fn service(&self) -> String {
        let mut args = as_postgres();
        args.extend([
            self.bin.join("postgres").display().to_string(),
            "-D".into(),
            self.data().display().to_string(),
            "-p".into(),
            "{port}".into(),
            "-h".into(),
            "127.0.0.1".into(),
            "-k".into(),
            self.root.path().display().to_string(),
        ]);
        spec::service(&args, &tcp_ready("20s"), "SIGINT", "10s").to_string()
    }
}

/// Ready when `127.0.0.1:{port}` accepts a TCP connection, within `timeout`.
fn tcp_ready(timeout: &str) -> String {
    format!("{{ tcp = \"127.0.0.1:{{port}}\", timeout = \"{timeout}\" }}")
}
