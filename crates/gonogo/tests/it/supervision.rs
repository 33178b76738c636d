//! Supervision against real processes: a port held by another program, a listener
//! that is not the service's, a service that dies during start-up, and services
//! whose processes try to outlive a SIGKILLed gonogo (a shell wrapper that does not
//! exec, a double fork, `setsid`).
//!
//! The orphan cases run `GONOGO_ORPHAN_ITERATIONS` times each (3 by default, so CI
//! stays quick; `GONOGO_ORPHAN_ITERATIONS=20 cargo test -p gonogo --test it supervision`
//! is the longer check).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Campaign, assert_exit, stderr};
use gonogo::exit;

/// A minimal HTTP server that answers 200 to everything and appends one line per
/// request to the file given as its first argument; it prints its port once bound.
const SQUATTER: &str = r#"
import http.server, sys
count = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(count, "a") as f:
            f.write(self.path + "\n")
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), H)
print(server.server_port, flush=True)
server.serve_forever()
"#;

/// A squatter process, killed when dropped.
struct Squatter {
    child: Child,
    port: u16,
    count: std::path::PathBuf,
}

impl Squatter {
    /// Start the squatter on `port` (0: any free port) and wait until it listens.
    fn start(dir: &Path, port: u16) -> Squatter {
        let count = dir.join("squatter-requests.log");
        let mut child = Command::new("python3")
            .args(["-c", SQUATTER])
            .arg(&count)
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap();
        Squatter { child, port, count }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Requests the squatter has answered.
    fn requests(&self) -> usize {
        std::fs::read_to_string(&self.count)
            .map(|text| text.lines().count())
            .unwrap_or(0)
    }
}

impl Drop for Squatter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn load_body(host: &str) -> String {
    format!(
        r#"
[[workload]]
name = "get"
http = {{ method = "GET", url = "http://{host}:{{port}}/kv/a", expect_status = [200, 404], timeout = "2s" }}

[[phase]]
name = "steady"
kind = "steady"
rate = 20
duration = "{duration}"
warmup = "0s"

[[criterion]]
phase = "steady"
metric = "error_rate"
op = "<="
value = "1%"
"#,
        duration = "30s"
    )
}

fn testbed() -> String {
    crate::support::testbed().display().to_string()
}

fn short_body() -> String {
    load_body("127.0.0.1").replace("\"30s\"", "\"2s\"")
}

pub fn a_fixed_port_held_by_another_program_is_refused_and_gets_no_load() {
    let _serial = crate::support::serial();
    let dir = tempfile::tempdir().unwrap();
    let squatter = Squatter::start(dir.path(), 0);
    let service = format!(
        "[service]\ncommand = [{:?}, \"--listen\", \"127.0.0.1:{{port}}\"]\nport = {}\n\
         ready = {{ http = \"http://127.0.0.1:{{port}}/health\", timeout = \"10s\" }}\n",
        testbed(),
        squatter.port
    );
    let campaign = Campaign::with_service(&service, &short_body());
    let output = campaign.run_expecting(exit::FAILURE);
    let err = stderr(&output);
    assert!(err.contains(&format!("port {}", squatter.port)), "{err}");
    assert!(err.contains(&format!("pid {}", squatter.pid())), "{err}");
    assert!(err.contains("python3"), "the holder's command: {err}");
    assert_eq!(squatter.requests(), 0, "the squatter got traffic: {err}");
}

pub fn a_listener_that_is_not_the_services_is_named_and_the_service_stopped() {
    let _serial = crate::support::serial();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let marker = format!("answered-by-other-{}", std::process::id());
    let service = format!(
        "[service]\ncommand = [\"sh\", \"-c\", \"sleep 30; : {marker}\"]\nport = {port}\n\
         ready = {{ tcp = \"127.0.0.1:{{port}}\", timeout = \"10s\", interval = \"50ms\" }}\n"
    );
    let campaign = Campaign::with_service(&service, &short_body());
    let child = campaign.spawn();
    // Once a process of the service exists, gonogo's check of the free port is done.
    let deadline = Instant::now() + Duration::from_secs(10);
    while crate::support::processes_matching(&marker).is_empty() {
        assert!(Instant::now() < deadline, "the service never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    let squatter = Squatter::start(campaign.dir.path(), port);
    let output = child.wait_with_output().unwrap();
    assert_exit(&output, exit::FAILURE);
    let err = stderr(&output);
    assert!(err.contains(&format!("port {port}")), "{err}");
    assert!(err.contains(&format!("pid {}", squatter.pid())), "{err}");
    assert_eq!(squatter.requests(), 0, "the squatter got load: {err}");
    wait_until_gone(&marker, Duration::from_secs(5)).unwrap_or_else(|left| {
        panic!("the service was not stopped: {left:?}");
    });
}

pub fn a_service_exiting_during_start_up_could_not_start_and_shows_its_stderr() {
    let _serial = crate::support::serial();
    let service = "[service]\ncommand = [\"sh\", \"-c\", \"echo listen failed on {port}: marker-7731 >&2; exit 3\"]\n\
         port = \"auto\"\nready = { http = \"http://127.0.0.1:{port}/health\", timeout = \"10s\" }\n";
    let campaign = Campaign::with_service(service, &short_body());
    let output = campaign.run_expecting(exit::FAILURE);
    let err = stderr(&output);
    assert!(err.contains("could not start"), "{err}");
    assert!(
        err.contains("service exited with status 3 before it was ready"),
        "{err}"
    );
    assert!(err.contains(": marker-7731"), "{err}");
}

/// Wait until no process has `needle` in its command line; `Err` lists those left.
fn wait_until_gone(needle: &str, limit: Duration) -> Result<(), Vec<u32>> {
    let deadline = Instant::now() + limit;
    loop {
        let left = crate::support::processes_matching(needle);
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(left);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn iterations() -> usize {
    std::env::var("GONOGO_ORPHAN_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3)
}

/// Start `gonogo run` with `script` (run by `sh -c`, `{server}` replaced by the
/// testbed, through a link whose path is unique to this run) as the service, SIGKILL
/// gonogo once load flows, and return the service's processes still alive 2 s later
/// (found by that path in their command line; they are killed then).
fn survivors_after_sigkill(script: &str) -> Vec<u32> {
    let campaign = Campaign::with_service("", "");
    let link = campaign.dir.path().join("orphan-check-server");
    std::os::unix::fs::symlink(crate::support::testbed(), &link).unwrap();
    let server = format!("'{}' --listen 127.0.0.1:{{port}}", link.display());
    let script = script.replace("{server}", &server);
    let service = format!(
        "[service]\ncommand = [\"sh\", \"-c\", {script:?}]\nport = \"auto\"\n\
         ready = {{ http = \"http://127.0.0.1:{{port}}/health\", timeout = \"10s\" }}\n"
    );
    let spec = format!("{service}\n{}", load_body("127.0.0.1"));
    std::fs::write(&campaign.spec, spec).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gonogo"))
        .args(["run", "campaign.toml", "--quiet"])
        .current_dir(campaign.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    crate::support::wait_for_intervals(&campaign, Duration::from_secs(20));
    child.kill().unwrap();
    child.wait().unwrap();
    let needle = link.display().to_string();
    let left = wait_until_gone(&needle, Duration::from_secs(2)).err();
    let left = left.unwrap_or_default();
    for pid in &left {
        // Do not leave them running on the machine, whatever the verdict.
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    left
}

/// Run one orphan case `iterations()` times and fail with every survivor found.
fn assert_no_orphans(case: &str, script: &str) {
    let _serial = crate::support::serial();
    let mut report = Vec::new();
    let runs = iterations();
    for run in 0..runs {
        let left = survivors_after_sigkill(script);
        if !left.is_empty() {
            report.push(format!("run {run}: {left:?}"));
        }
    }
    eprintln!(
        "{case}: {} of {runs} runs left processes behind",
        report.len()
    );
    assert!(
        report.is_empty(),
        "{case}: processes outlived a SIGKILLed gonogo in {} of {runs} runs: {report:?}",
        report.len()
    );
}

pub fn a_shell_wrapper_service_leaves_nothing_behind_a_killed_gonogo() {
    // `; echo` keeps the shell from exec'ing the server: it stays as its parent.
    assert_no_orphans("sh -c wrapper", "{server}; echo server ended");
}

pub fn a_double_forking_service_leaves_nothing_behind_a_killed_gonogo() {
    // The subshell exits at once: the server is reparented away from the service.
    assert_no_orphans("double fork", "({server} &); while :; do sleep 1; done");
}

pub fn a_setsid_service_leaves_nothing_behind_a_killed_gonogo() {
    // The server runs in a session (and process group) of its own.
    assert_no_orphans("setsid", "setsid {server} & while :; do sleep 1; done");
}
