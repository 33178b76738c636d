//! Shared helpers for the integration tests: find (or build) the testbed, write a spec
//! into a fresh temp dir, run the real `gonogo` binary, check its exit code, and open
//! the stored evidence.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub mod needs;
pub mod report_audit;
pub mod servers;
pub mod spec;

/// Campaigns that ask for it run one at a time: on a 2-core machine, campaigns run
/// side by side starve each other's load generators (and start their servers at
/// once), which the generator self-check rightly reports as INCONCLUSIVE. The
/// protocol campaigns (real Redis and PostgreSQL, `protocols` and
/// `integrity_protocols`) take it, as they did when each file was its own test
/// binary; now that all modules share one binary they also exclude each other
/// across the two modules.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

use gonogo::evidence::Store;
use gonogo::model::RunEvidence;

/// `target/<profile>/`, from this test executable's `target/<profile>/deps/<exe>`.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// The testbed binary of this workspace (built on first use when missing).
pub fn testbed() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = profile_dir().join("testbed");
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

/// The release testbed the examples run (`target/release/testbed`), built when
/// missing (`.ci/run` builds it before the tests, so CI does not build it mid-run).
pub fn release_testbed() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/testbed");
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--release", "-p", "testbed", "--bin", "testbed"])
            .status()
            .unwrap();
        assert!(status.success(), "building the release testbed failed");
    }
    path
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
        Campaign::with_service(&testbed_service(host, testbed_args).to_string(), body)
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

    /// [`Campaign::run`], which must exit with `expected`.
    pub fn run_expecting(&self, expected: u8) -> Output {
        let output = self.run();
        assert_exit(&output, expected);
        output
    }

    /// `gonogo run campaign.toml --quiet` started in the background, its output piped.
    pub fn spawn(&self) -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_gonogo"))
            .args(["run", "campaign.toml", "--quiet"])
            .current_dir(self.dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Run 1's evidence, its integrity counts of phase `writes`, and the outcome of
    /// the implicit "no acknowledged write lost" finding, from the store.
    pub fn integrity_judged(
        &self,
    ) -> (
        RunEvidence,
        gonogo::evaluate::IntegrityCounts,
        gonogo::model::Outcome,
    ) {
        let evidence = self.evidence(1);
        let counts =
            gonogo::evaluate::integrity_counts(&evidence, "writes").expect("an integrity ledger");
        let finding = self
            .findings()
            .into_iter()
            .find(|f| f.criterion == gonogo::evaluate::NO_WRITE_LOST)
            .expect("the implicit integrity finding");
        (evidence, counts, finding.outcome)
    }

    /// The stored findings of run 1's latest evaluation.
    pub fn findings(&self) -> Vec<gonogo::model::Finding> {
        Store::open(&self.store_path())
            .expect("the run's store")
            .latest_evaluation(1)
            .expect("readable evaluation")
            .expect("evaluated")
            .findings
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

/// The finding on `metric` (the first, where several criteria share it).
pub fn finding<'a>(
    findings: &'a [gonogo::model::Finding],
    metric: &str,
) -> &'a gonogo::model::Finding {
    findings
        .iter()
        .find(|f| f.metric.name() == metric)
        .unwrap_or_else(|| panic!("no finding on {metric}"))
}

/// The `[service]` section that runs the testbed with `testbed_args` on `host` and a
/// free port, ready when its `/health` answers.
pub fn testbed_service(host: &str, testbed_args: &[&str]) -> spec::Table {
    let mut command = vec![
        testbed().display().to_string(),
        "--listen".to_string(),
        format!("{host}:{{port}}"),
    ];
    command.extend(testbed_args.iter().map(|a| a.to_string()));
    spec::service(
        &command,
        &format!("{{ http = \"http://{host}:{{port}}/health\", timeout = \"10s\" }}"),
        "SIGTERM",
        "3s",
    )
}

/// The process exited with `expected` (an `exit::` code); otherwise the test fails
/// with the exit code, stdout and stderr.
/// Assert that `report` (a JSON report as gonogo wrote it) is valid against the
/// committed schema, `schema/report.schema.json`, naming every violation.
pub fn assert_valid_report(report: &serde_json::Value) {
    let schema_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schema/report.schema.json"
    );
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "the report violates the schema: {errors:?}"
    );
}

pub fn assert_exit(output: &Output, expected: u8) {
    assert_exit_in(output, &[expected]);
}

/// The process exited with one of `expected`; otherwise the test fails with the exit
/// code, stdout and stderr.
pub fn assert_exit_in(output: &Output, expected: &[u8]) {
    let code = output.status.code();
    assert!(
        expected.iter().any(|&e| code == Some(i32::from(e))),
        "expected exit {expected:?}, got {}",
        describe(output)
    );
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

/// The stored steps of phase `parent` (a ramp's or a scaling phase's), in order.
pub fn steps_of<'a>(
    evidence: &'a RunEvidence,
    parent: &str,
) -> Vec<&'a gonogo::model::PhaseRecord> {
    evidence
        .phases
        .iter()
        .filter(|p| p.parent.as_deref() == Some(parent))
        .collect()
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
