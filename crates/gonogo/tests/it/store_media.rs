//! The store on the media it meets: a disk that fills during a run, a read-only mount
//! (an archived store, a CI artefact), two runs writing one store at once, and a
//! gonogo killed while its last writes wait for the file.
//!
//! Full and read-only disks are real: each such test runs its gonogo commands in a
//! private mount namespace (`unshare -m`, util-linux) where it mounts a tiny tmpfs, or
//! bind-mounts a directory read-only, so nothing leaks to the host's mounts and the
//! mount vanishes with the namespace. That needs root (CI and these tests run as root)
//! or unprivileged user namespaces (`unshare -m -r`); without either the test fails
//! and says so. Each command's stdout, stderr and exit code are written to `out/`
//! outside the mount for the test to read.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::support::spec::{Spec, criterion, get, steady};
use crate::support::{Campaign, assert_exit, assert_exit_in, describe, stderr, stdout};
use gonogo::exit;

/// GETs on the testbed at 200/s for `duration`, judged on an error rate of at most 1%.
fn body(duration: &str) -> String {
    Spec::new()
        .with(get(""))
        .with(steady("steady", 200, duration))
        .with(criterion("steady", "error_rate", "<=", "1%"))
        .into()
}

/// The `unshare` arguments that give a private mount namespace here: `-m` as root,
/// `-m -r` (an unprivileged user namespace) otherwise. Fails the test, saying what is
/// missing, when neither works.
fn unshare_args() -> &'static [&'static str] {
    static ARGS: OnceLock<Result<&'static [&'static str], String>> = OnceLock::new();
    let found = ARGS.get_or_init(|| {
        // `/proc/self` belongs to the effective user.
        let root = std::fs::metadata("/proc/self")
            .is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0);
        let args: &'static [&'static str] = if root { &["-m"] } else { &["-m", "-r"] };
        let tried = Command::new("unshare")
            .args(args)
            .args(["sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"])
            .output();
        match tried {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                Err("unshare not found: apt-get install util-linux".to_string())
            }
            Err(err) => Err(format!("cannot run unshare: {err}")),
            Ok(out) if out.status.success() => Ok(args),
            Ok(out) => Err(format!(
                "these tests need root or unprivileged user namespaces to mount a tmpfs in a private mount namespace (`unshare {}` failed: {}); run them as root",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )),
        }
    });
    found.as_ref().unwrap_or_else(|why| panic!("{why}"))
}

/// A campaign with an empty `mnt/` (the mount point) and `out/` (what the commands
/// left) beside its spec.
struct Media {
    campaign: Campaign,
}

impl Media {
    fn new(duration: &str) -> Media {
        let campaign = Campaign::new(&[], &body(duration));
        for dir in ["mnt", "out"] {
            std::fs::create_dir(campaign.dir.path().join(dir)).unwrap();
        }
        Media { campaign }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.campaign.dir.path().join(name)
    }

    /// The store on the mount.
    fn store(&self) -> String {
        self.path("mnt/.gonogo/evidence.db").display().to_string()
    }

    /// Run `script` (sh) in a private mount namespace with `$GONOGO`, `$MNT`, `$STORE`
    /// and `$OUT` set; the working directory is the spec's. The script's helper
    /// `cmd NAME ARGS…` runs `gonogo ARGS…` into `$OUT/NAME.{out,err,rc}`.
    fn in_namespace(&self, script: &str) -> Output {
        let prelude = r#"set -u
cmd() { name=$1; shift; "$GONOGO" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"; echo $? >"$OUT/$name.rc"; }
"#;
        Command::new("unshare")
            .args(unshare_args())
            .args(["sh", "-c", &format!("{prelude}{script}")])
            .env("GONOGO", env!("CARGO_BIN_EXE_gonogo"))
            .env("MNT", self.path("mnt"))
            .env("STORE", self.store())
            .env("OUT", self.path("out"))
            .current_dir(self.campaign.dir.path())
            .output()
            .unwrap()
    }

    /// What command `name` of the script left: its exit code, stdout and stderr.
    fn command(&self, name: &str) -> Ran {
        let read = |ext: &str| {
            std::fs::read_to_string(self.path(&format!("out/{name}.{ext}"))).unwrap_or_default()
        };
        Ran {
            name: name.to_string(),
            code: read("rc").trim().parse().ok(),
            stdout: read("out"),
            stderr: read("err"),
        }
    }
}

/// One gonogo command run inside the namespace.
struct Ran {
    name: String,
    code: Option<u8>,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn expect(&self, expected: &[u8]) -> &Ran {
        assert!(
            self.code.is_some_and(|code| expected.contains(&code)),
            "{}: expected exit {expected:?}, got {self}",
            self.name
        );
        self
    }

    /// The line of run `id` in `gonogo runs` output.
    fn run_line(&self, id: u32) -> String {
        self.stdout
            .lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("run {id} not listed: {self}"))
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|err| panic!("{}: not JSON ({err}): {self}", self.name))
    }
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A spec whose service leaves `marker` behind the moment it starts: a run refused
/// before its service started leaves none.
fn marking_spec(dir: &Path, marker: &Path) -> PathBuf {
    let service = crate::support::spec::service(
        &[
            "sh".to_string(),
            "-c".to_string(),
            format!("touch {}; : {{port}}; exec sleep 30", marker.display()),
        ],
        "{ http = \"http://127.0.0.1:{port}/health\", timeout = \"2s\" }",
        "SIGTERM",
        "1s",
    );
    let path = dir.join("marking.toml");
    std::fs::write(&path, format!("{service}\n{}", body("1s"))).unwrap();
    path
}

/// The run's report says its writer is gone: aborted, with no reason recorded.
fn assert_writer_gone(report: &Ran) {
    let json = report.json();
    assert_eq!(json["run"]["status"], "aborted", "{report}");
    let headline = json["stopped"]["headline"].as_str().unwrap_or_default();
    assert!(
        headline.starts_with("ABORTED (writer gone): gonogo stopped recording"),
        "{report}"
    );
}

pub fn a_full_disk_stops_the_run_and_the_full_store_still_reads() {
    let media = Media::new("30s");
    let marker = media.path("service-started");
    let marking = marking_spec(media.campaign.dir.path(), &marker);
    // Fill the 1 MiB tmpfs once the run's service is up and load is recorded.
    let output = media.in_namespace(&format!(
        r#"mount -t tmpfs -o size=1m tmpfs "$MNT"
cmd run run campaign.toml --quiet --store "$STORE" &
i=0; while [ ! -d "$MNT/.gonogo/runs/1" ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done
sleep 1.5
dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null
wait
df -k "$MNT" >"$OUT/df"
cmd runs runs --store "$STORE"
cmd report report 1 --format json --store "$STORE"
cmd rerun run {} --quiet --store "$STORE"
"#,
        marking.display()
    ));
    assert!(output.status.success(), "{}", describe(&output));
    let df = std::fs::read_to_string(media.path("out/df")).unwrap();
    assert!(
        df.lines()
            .nth(1)
            .is_some_and(|l| l.split_whitespace().nth(3) == Some("0")),
        "the disk is still full: {df}"
    );
    let run = media.command("run");
    run.expect(&[exit::FAILURE]);
    assert!(
        run.stderr
            .contains("the disk that holds it is full; free space on it"),
        "{run}"
    );
    // The still-full store reads: the run is aborted, its writer gone, nothing written.
    let runs = media.command("runs");
    runs.expect(&[exit::GO]);
    let line = runs.run_line(1);
    assert!(line.contains("aborted (writer gone)"), "{runs}");
    let report = media.command("report");
    report.expect(&[exit::INCONCLUSIVE]);
    assert_writer_gone(&report);
    assert!(
        report.json()["phases"][0]["requests"].as_u64() > Some(0),
        "what was measured before the disk filled is kept: {report}"
    );
    // A new run on the full disk is refused before its service starts.
    let rerun = media.command("rerun");
    rerun.expect(&[exit::FAILURE]);
    assert!(rerun.stderr.contains("is full"), "{rerun}");
    assert!(!marker.exists(), "the service was started: {rerun}");
}

pub fn a_store_on_a_read_only_mount_is_read_and_run_and_evaluate_are_refused() {
    let media = Media::new("2s");
    let marker = media.path("service-started");
    let marking = marking_spec(media.campaign.dir.path(), &marker);
    let output = media.in_namespace(&format!(
        r#"mount -t tmpfs -o size=8m tmpfs "$MNT"
cmd first run campaign.toml --quiet --format json --store "$STORE"
mount --bind "$MNT" "$MNT" && mount -o remount,bind,ro "$MNT"
touch "$MNT/probe" 2>"$OUT/touch.err" && echo writable >"$OUT/touch.err"
cmd runs runs --store "$STORE"
cmd report report 1 --format json --store "$STORE"
cmd rerun run {} --quiet --store "$STORE"
cmd evaluate evaluate 1 --spec campaign.toml --store "$STORE"
ls -a "$MNT/.gonogo" >"$OUT/files"
"#,
        marking.display()
    ));
    assert!(output.status.success(), "{}", describe(&output));
    let touch = std::fs::read_to_string(media.path("out/touch.err")).unwrap();
    assert!(
        touch.contains("Read-only file system"),
        "not read-only: {touch}"
    );
    let first = media.command("first");
    first.expect(&[exit::GO, exit::INCONCLUSIVE]);

    let runs = media.command("runs");
    runs.expect(&[exit::GO]);
    assert!(runs.run_line(1).contains("completed"), "{runs}");
    // Re-rendered from the read-only store, the report is the one the run printed.
    let report = media.command("report");
    report.expect(&[first.code.unwrap_or(u8::MAX)]);
    assert_eq!(report.stdout, first.stdout, "{report}");
    // SQLite could create no -wal or -shm beside the store: it was read immutable.
    let files = std::fs::read_to_string(media.path("out/files")).unwrap();
    assert!(
        !files.contains("-shm") && !files.contains("-wal"),
        "{files}"
    );

    let rerun = media.command("rerun");
    rerun.expect(&[exit::FAILURE]);
    assert!(
        rerun
            .stderr
            .contains(&format!("evidence store {} is read-only", media.store()))
            && rerun
                .stderr
                .contains("pass --store with a path on a writable disk"),
        "{rerun}"
    );
    assert!(!marker.exists(), "the service was started: {rerun}");
    let evaluate = media.command("evaluate");
    evaluate.expect(&[exit::FAILURE]);
    assert!(
        evaluate.stderr.contains("is read-only")
            && evaluate
                .stderr
                .contains("`gonogo evaluate` write to their store"),
        "{evaluate}"
    );
}

pub fn a_killed_run_archived_read_only_reads_as_writer_gone() {
    let media = Media::new("30s");
    // SIGKILL mid-run leaves the -wal and -shm beside the store; then it goes read-only.
    let output = media.in_namespace(
        r#"mount -t tmpfs -o size=8m tmpfs "$MNT"
"$GONOGO" run campaign.toml --quiet --store "$STORE" >/dev/null 2>&1 &
i=0; while [ ! -d "$MNT/.gonogo/runs/1" ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done
sleep 2
kill -KILL $!
wait
ls -a "$MNT/.gonogo" >"$OUT/files"
mount --bind "$MNT" "$MNT" && mount -o remount,bind,ro "$MNT"
cmd runs runs --store "$STORE"
cmd report report 1 --format json --store "$STORE"
"#,
    );
    assert!(output.status.success(), "{}", describe(&output));
    let files = std::fs::read_to_string(media.path("out/files")).unwrap();
    assert!(files.contains("evidence.db-wal"), "no -wal left: {files}");
    let runs = media.command("runs");
    runs.expect(&[exit::GO]);
    assert!(runs.run_line(1).contains("aborted (writer gone)"), "{runs}");
    let report = media.command("report");
    report.expect(&[exit::INCONCLUSIVE]);
    assert_writer_gone(&report);
    // The -wal was read: the intervals recorded before the kill are in the report.
    assert!(
        report.json()["phases"][0]["requests"].as_u64() > Some(0),
        "{report}"
    );
}

/// `PRAGMA integrity_check` of the store at `path`.
fn integrity_check(path: &Path) -> String {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap()
}

pub fn two_runs_writing_one_new_store_at_once_both_land() {
    let _serial = crate::support::serial();
    let campaign = Campaign::new(&[], &body("3s"));
    // Both start together on a store neither has created yet: the moment SQLite
    // answered one of them "database is locked".
    let children = [campaign.spawn(), campaign.spawn()];
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|child| child.wait_with_output().unwrap())
        .collect();
    for output in &outputs {
        assert_exit_in(output, &[exit::GO, exit::INCONCLUSIVE]);
        assert!(!stderr(output).contains("locked"), "{}", describe(output));
    }
    let runs = campaign.gonogo(&["runs"]);
    assert_exit(&runs, exit::GO);
    let text = stdout(&runs);
    for id in ["1 ", "2 "] {
        let line = text.lines().find(|l| l.starts_with(id));
        assert!(
            line.is_some_and(|l| l.contains("completed") && l.contains("1×")),
            "run {id}not complete and judged: {text}"
        );
    }
    for id in [1, 2] {
        let evidence = campaign.evidence(id);
        assert!(evidence.intervals.len() >= 3, "run {id}: {evidence:?}");
    }
    assert_eq!(integrity_check(&campaign.store_path()), "ok");
}

/// Wait until the store at `path` holds an event of `kind` for run 1.
fn wait_for_event(path: &Path, kind: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let seen = path.exists()
            && rusqlite::Connection::open(path).is_ok_and(|conn| {
                conn.query_row(
                    "SELECT COUNT(*) FROM events WHERE run_id = 1 AND type = ?1",
                    [kind],
                    |row| row.get::<_, i64>(0),
                )
                .is_ok_and(|n| n > 0)
            });
        if seen {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no {kind} event within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A campaign of 2 s whose testbed ignores its stop signal (SIGWINCH), so the end of
/// the run (the grace, then SIGKILL) lasts 2 s after the phase has ended.
fn slow_to_stop() -> Campaign {
    let command = vec![
        crate::support::testbed().display().to_string(),
        "--listen".to_string(),
        "127.0.0.1:{port}".to_string(),
    ];
    let service = crate::support::spec::service(
        &command,
        "{ http = \"http://127.0.0.1:{port}/health\", timeout = \"10s\" }",
        "SIGWINCH",
        "2s",
    );
    Campaign::with_service(&service.to_string(), &body("2s"))
}

/// Take the write lock of the store at `path` (as another program would) once its run
/// has ended its phase: every later write of that run waits for it.
fn lock_after_the_phase(path: &Path) -> rusqlite::Connection {
    wait_for_event(path, "phase_ended", Duration::from_secs(30));
    let holder = rusqlite::Connection::open(path).unwrap();
    holder.busy_timeout(Duration::from_secs(5)).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    holder
}

/// Run 1's line in `gonogo runs` of `campaign`.
fn runs_line(campaign: &Campaign) -> String {
    let runs = campaign.gonogo(&["runs"]);
    assert_exit(&runs, exit::GO);
    stdout(&runs)
        .lines()
        .find(|l| l.starts_with("1 "))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("run 1 not listed: {}", describe(&runs)))
}

/// Run 1 of `campaign` reads as aborted (writer gone) with what it measured, the store
/// is intact, and it takes the next run as if nothing happened.
fn assert_readable_after_a_lost_writer(campaign: &Campaign) {
    let store = campaign.store_path();
    assert_eq!(integrity_check(&store), "ok");
    let line = runs_line(campaign);
    assert!(line.contains("aborted (writer gone)"), "{line}");
    let report = campaign.gonogo(&["report", "1", "--format", "json"]);
    assert_exit(&report, exit::INCONCLUSIVE);
    let json: serde_json::Value = serde_json::from_slice(&report.stdout)
        .unwrap_or_else(|err| panic!("report is not JSON ({err}): {}", describe(&report)));
    let headline = json["stopped"]["headline"].as_str().unwrap_or_default();
    assert!(headline.starts_with("ABORTED (writer gone)"), "{json}");
    assert!(json["phases"][0]["requests"].as_u64() > Some(0), "{json}");
    // Reading wrote nothing: the run is still unjudged, its status still computed.
    assert_eq!(runs_line(campaign), line, "the report wrote to the store");
    let next = campaign.run();
    assert_exit_in(&next, &[exit::GO, exit::INCONCLUSIVE]);
    assert_eq!(integrity_check(&store), "ok");
}

pub fn a_gonogo_killed_while_its_final_writes_wait_leaves_a_readable_store() {
    let campaign = slow_to_stop();
    let mut child = campaign.spawn();
    // The phase has ended: left to write are the last samples, the service's exit, the
    // end of the run and its judgement. They wait for the lock; gonogo is killed
    // while its write is under way.
    let holder = lock_after_the_phase(&campaign.store_path());
    std::thread::sleep(Duration::from_millis(1_500));
    child.kill().unwrap();
    let killed = child.wait_with_output().unwrap();
    assert_eq!(killed.status.code(), None, "{}", describe(&killed));
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert_readable_after_a_lost_writer(&campaign);
}

pub fn a_store_held_locked_past_the_busy_timeout_stops_the_run_clearly() {
    let campaign = slow_to_stop();
    let child = campaign.spawn();
    let holder = lock_after_the_phase(&campaign.store_path());
    let output = child.wait_with_output().unwrap();
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert_exit(&output, exit::FAILURE);
    assert!(
        stderr(&output).contains("another program held it locked for more than 5 s"),
        "{}",
        describe(&output)
    );
    assert_readable_after_a_lost_writer(&campaign);
}
