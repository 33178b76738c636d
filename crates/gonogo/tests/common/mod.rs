//! Shared helpers for integration tests: find (or build) the testbed, write a spec
//! into a fresh temp dir, run the real `gonogo` binary, and open the stored evidence.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub mod servers;

/// Campaigns of one test binary run one at a time where a test asks for it: on a
/// 2-core machine, campaigns run side by side starve each other's load generators
/// (and start their servers at once), which the generator self-check rightly
/// reports as INCONCLUSIVE.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

use gonogo::evidence::Store;
use gonogo::model::RunEvidence;

/// The testbed binary of this workspace (built on first use when missing).
pub fn testbed() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        // target/<profile>/deps/<test-exe> → target/<profile>/testbed
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap();
        let path = profile_dir.join("testbed");
        if !path.exists() {
            let status = Command::new(env!("CARGO"))
                .args(["build", "-p", "testbed", "--bin", "testbed"])
                .status()
                .unwrap();
            assert!(status.success(), "building the testbed failed");
        }
        path
    })
}

/// A campaign in its own temp dir.
pub struct Campaign {
    pub dir: tempfile::TempDir,
    pub spec: PathBuf,
}

impl Campaign {
    /// Write `body` (a spec without `[service]`) with a `[service]` section that runs
    /// the testbed with `testbed_args`.
    pub fn new(testbed_args: &[&str], body: &str) -> Campaign {
        Campaign::on_host("127.0.0.1", testbed_args, body)
    }

    /// Like [`Campaign::new`], with the testbed and its probe on another loopback
    /// address (`body` must use the same host in its URLs).
    pub fn on_host(host: &str, testbed_args: &[&str], body: &str) -> Campaign {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec![
            format!("{:?}", testbed().display().to_string()),
            "\"--listen\"".to_string(),
            format!("\"{host}:{{port}}\""),
        ];
        args.extend(testbed_args.iter().map(|a| format!("{a:?}")));
        let spec_text = format!(
            "[service]\ncommand = [{}]\nport = \"auto\"\nready = {{ http = \"http://{host}:{{port}}/health\", timeout = \"10s\" }}\nstop = {{ signal = \"SIGTERM\", grace = \"3s\" }}\n\n{body}",
            args.join(", ")
        );
        let spec = dir.path().join("campaign.toml");
        std::fs::write(&spec, spec_text).unwrap();
        Campaign { dir, spec }
    }

    /// A campaign whose spec is `service` (a whole `[service]` section) then `body`.
    pub fn with_service(service: &str, body: &str) -> Campaign {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("campaign.toml");
        std::fs::write(&spec, format!("{service}\n{body}")).unwrap();
        Campaign { dir, spec }
    }

    pub fn store_path(&self) -> PathBuf {
        self.dir.path().join(".gonogo").join("evidence.db")
    }

    /// `gonogo <args…>` with the spec's directory as working directory.
    pub fn gonogo(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_gonogo"))
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    /// `gonogo run campaign.toml --quiet`.
    pub fn run(&self) -> Output {
        self.gonogo(&["run", "campaign.toml", "--quiet"])
    }

    pub fn evidence(&self, run: i64) -> RunEvidence {
        Store::open(&self.store_path())
            .unwrap()
            .load_run(run)
            .unwrap()
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A readable summary for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        stdout(output),
        stderr(output)
    )
}

/// Pids of live processes whose command line contains `needle`.
pub fn processes_matching(needle: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) {
                pids.push(pid);
            }
        }
    }
    pids
}

/// Block until the campaign's store holds at least one interval of run 1.
pub fn wait_for_intervals(campaign: &Campaign, limit: std::time::Duration) {
    let deadline = std::time::Instant::now() + limit;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let has_intervals = campaign.store_path().exists()
            && Store::open(&campaign.store_path())
                .and_then(|s| s.load_run(1))
                .is_ok_and(|e| !e.intervals.is_empty());
        if has_intervals {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no load within {limit:?}"
        );
    }
}
