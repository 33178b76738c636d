//! The `bad_input` phase against real servers: the testbed's unsafe file endpoint
//! (NO-GO, the escaped file named) and its safe one (GO) on the same corpus, nginx
//! serving a directory with a sound config (0 findings, 0 escapes), a server with no
//! header timeout (slowloris reported, never more than `connections` sockets), and a
//! server that answers garbage (no panic, no hang).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{Campaign, assert_exit, assert_valid_report, stderr, stdout, testbed};
use gonogo::evaluate::{BAD_INPUT_REFUSED, bad_input_problems};
use gonogo::exit;
use gonogo::model::{BadInputLedger, CaseOutcome, Finding, Outcome};

/// The argument that makes this test binary one of the servers below:
/// `it __bad-input-server KIND ADDRESS`.
pub const SERVER_ARG: &str = "__bad-input-server";

/// The families the testbed's two endpoints are judged on (slowloris is judged
/// against a server without a header timeout, below).
const FILE_FAMILIES: &str = r#"["traversal", "encoding", "oversize", "framing", "method", "body"]"#;

fn workload() -> &'static str {
    "[[workload]]\nname = \"get\"\nhttp = { url = \"http://127.0.0.1:{port}/health\" }\n"
}

fn phase(bad_input: &str, connections: u32, duration: &str) -> String {
    format!(
        "[[phase]]\nname = \"hostile\"\nkind = \"bad_input\"\nworkload = \"get\"\n\
         connections = {connections}\nduration = \"{duration}\"\nbad_input = {bad_input}\n"
    )
}

fn testbed_campaign(extra: &[&str]) -> Campaign {
    let mut command = format!(
        "[service]\ncommand = [\"{}\", \"--listen\", \"127.0.0.1:{{port}}\", \"--files\", \"data\"",
        testbed().display()
    );
    for arg in extra {
        command.push_str(&format!(", \"{arg}\""));
    }
    command.push_str(
        "]\nready = { http = \"http://127.0.0.1:{port}/health\", timeout = \"10s\" }\n\
         env = { API_KEY = \"s3cr3t-value-not-to-echo\" }\n",
    );
    let bad = format!(
        "{{ target = \"/files/{{case}}\", families = {FILE_FAMILIES}, timeout = \"3s\", \
         secrets = [\"API_KEY\"], cases = \"my-cases.toml\", confine = {{ allowed = [\"{{dir}}/data\"], watch = [\"{{dir}}\"] }} }}"
    );
    let body = format!("{}{}", workload(), phase(&bad, 4, "60s"));
    let campaign = Campaign::with_service(&command, &body);
    std::fs::create_dir(campaign.dir.path().join("data")).unwrap();
    std::fs::write(campaign.dir.path().join("data/hello.txt"), b"hello\n").unwrap();
    std::fs::write(campaign.dir.path().join("my-cases.toml"), USER_CASES).unwrap();
    campaign
}

/// A cases file of one user case: a key with `..` written with PUT.
const USER_CASES: &str = "[[case]]
name = \"mine-dotdot-key\"
family = \"traversal\"
method = \"PUT\"
target = \"..%2fmine.txt\"
body = \"written by a user case\"
";

fn ledger(campaign: &Campaign) -> BadInputLedger {
    let evidence = campaign.evidence(1);
    evidence
        .bad_input
        .into_iter()
        .next()
        .expect("the phase's bad_input evidence")
}

fn refused(findings: &[Finding]) -> &Finding {
    findings
        .iter()
        .find(|f| f.criterion == BAD_INPUT_REFUSED)
        .expect("the implicit bad_input finding")
}

pub fn the_unsafe_file_endpoint_is_no_go_and_the_escaped_file_is_named() {
    let campaign = testbed_campaign(&["--files-unsafe"]);
    let output = campaign.run();
    // The deep write lands two levels up, beside the campaign's temp dir.
    if let Some(parent) = campaign.dir.path().parent() {
        let _ = std::fs::remove_file(parent.join("gonogo-bad-input-3.txt"));
    }
    assert_exit(&output, exit::NO_GO);
    let ledger = ledger(&campaign);
    let escaped = campaign.dir.path().join("gonogo-bad-input-1.txt");
    assert!(escaped.is_file(), "the unsafe endpoint wrote outside data/");
    let named: Vec<&str> = ledger
        .post
        .escaped
        .iter()
        .map(|e| e.path.as_str())
        .collect();
    assert!(
        named.contains(&escaped.to_str().unwrap()),
        "escaped paths: {named:?}"
    );
    let problems = bad_input_problems(&ledger);
    let traversal = problems
        .iter()
        .find(|p| p.case.as_deref() == Some("traversal-dotdot-slash"))
        .expect("the ../ traversal is a finding");
    assert!(
        traversal.what.contains("answered 200 to a path traversal"),
        "{traversal:?}"
    );
    assert!(
        traversal.sent.starts_with("GET /files/../../"),
        "{traversal:?}"
    );
    let finding = refused(&campaign.findings()).clone();
    assert_eq!(finding.outcome, Outcome::Fail);
    assert!(
        finding.explanation.contains("gonogo-bad-input-1.txt"),
        "{}",
        finding.explanation
    );
    // The exact bytes are in the evidence, the answer's first bytes with them.
    let case = ledger
        .cases
        .iter()
        .find(|c| c.name == "traversal-dotdot-slash")
        .unwrap();
    assert!(
        case.sent
            .starts_with(b"GET /files/../../../../../../../../etc/passwd HTTP/1.1\r\n")
    );
    assert!(
        case.received.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&case.received)
    );
    assert_reports_name(
        &campaign,
        "gonogo-bad-input-1.txt",
        "traversal-dotdot-slash",
    );
    // The case from the cases file ran too, and its write is named.
    assert!(
        problems
            .iter()
            .any(|p| p.case.as_deref() == Some("mine-dotdot-key"))
    );
    let mine = campaign.dir.path().join("mine.txt");
    assert!(
        named.contains(&mine.to_str().unwrap()),
        "escaped paths: {named:?}"
    );
}

/// Every format lists the failing case and the escaped file; the JSON is valid
/// against the committed schema.
fn assert_reports_name(campaign: &Campaign, file: &str, case: &str) {
    for format in ["markdown", "html", "terminal"] {
        let report = stdout(&campaign.gonogo(&["report", "1", "--format", format]));
        assert!(
            report.contains(file) && report.contains(case),
            "{format}: {report}"
        );
    }
    let json = stdout(&campaign.gonogo(&["report", "1", "--format", "json"]));
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let section = &report["bad_input"][0];
    let escaped = section["escaped"].to_string();
    assert!(escaped.contains(file), "{section}");
    let failures = section["failures"].as_array().unwrap();
    assert!(
        failures
            .iter()
            .any(|f| f["case"] == case && !f["sent"].as_str().unwrap().is_empty())
    );
    assert_valid_report(&report);
}

pub fn the_safe_file_endpoint_is_go_on_the_same_corpus() {
    let campaign = testbed_campaign(&[]);
    let output = campaign.run();
    let ledger = ledger(&campaign);
    let problems = bad_input_problems(&ledger);
    assert!(problems.is_empty(), "{problems:#?}\n{}", stderr(&output));
    assert_exit(&output, exit::GO);
    assert!(ledger.post.escaped.is_empty());
    assert!(ledger.cases.len() >= 30, "{} cases", ledger.cases.len());
    assert!(!campaign.dir.path().join("gonogo-bad-input-1.txt").exists());
    let mine = ledger
        .cases
        .iter()
        .find(|c| c.name == "mine-dotdot-key")
        .unwrap();
    assert!(
        matches!(mine.outcome, CaseOutcome::Status { status: 400, .. }),
        "{:?}",
        mine.outcome
    );
    assert_eq!(refused(&campaign.findings()).outcome, Outcome::Pass);
}

/// How the test server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Reads heads for ever (no header timeout), answers each complete one 404.
    NoHeaderTimeout,
    /// Each connection gets one of several kinds of garbage.
    Garbage,
}

/// Be the server `kind` on `address` until killed (`it __bad-input-server KIND
/// ADDRESS`). The no-header-timeout server writes the most connections it held at
/// once to `peak` in its working directory.
pub fn serve_forever(kind: &str, address: &str) {
    let kind = match kind {
        "no-header-timeout" => Kind::NoHeaderTimeout,
        "garbage" => Kind::Garbage,
        other => panic!("no bad-input server {other:?}"),
    };
    let listener = TcpListener::bind(address).unwrap();
    let open = Arc::new(AtomicU32::new(0));
    let peak = Arc::new(AtomicU32::new(0));
    for (n, socket) in listener.incoming().flatten().enumerate() {
        let (open, peak) = (Arc::clone(&open), Arc::clone(&peak));
        thread::spawn(move || {
            let now = open.fetch_add(1, Ordering::SeqCst) + 1;
            if peak.fetch_max(now, Ordering::SeqCst) < now {
                let _ = std::fs::write("peak", now.to_string());
            }
            match kind {
                Kind::NoHeaderTimeout => patient(socket),
                Kind::Garbage => garbage(socket, n),
            }
            open.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// Wait as long as it takes for each head; answer it 404.
fn patient(mut socket: TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = socket.read(&mut buf) {
        if n == 0 {
            return;
        }
        seen.extend_from_slice(&buf[..n]);
        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            seen.drain(..end + 4);
            let answer = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
            if socket.write_all(answer).is_err() {
                return;
            }
        }
    }
}

/// Connection `n`'s garbage: binary noise, an absurd status line, an endless line,
/// an immediate close, a head that never ends, a half-close, or a 500.
fn garbage(mut socket: TcpStream, n: usize) {
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let _ = socket.read(&mut buf);
    let _ = match n % 7 {
        0 => socket.write_all(b"\x00\xff\xfe\x1b[2J\x07garbage\r\n\r\n"),
        1 => socket.write_all(b"HTTP/1.1 99999999999 \x1b]0;pwned\x07\r\n\r\n"),
        2 => {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(3) {
                if socket.write_all(&[b'A'; 8192]).is_err() {
                    break;
                }
            }
            Ok(())
        }
        3 => Ok(()),
        4 => {
            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\nX-Never: ending");
            thread::sleep(Duration::from_secs(5));
            Ok(())
        }
        5 => {
            // Half-closed: no more bytes from us, the connection kept open.
            let _ = socket.shutdown(std::net::Shutdown::Write);
            thread::sleep(Duration::from_secs(2));
            Ok(())
        }
        _ => socket.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"),
    };
}

fn own_server_campaign(kind: &str, bad_input: &str, connections: u32, duration: &str) -> Campaign {
    let service = format!(
        "[service]\ncommand = [\"{}\", \"{SERVER_ARG}\", \"{kind}\", \"127.0.0.1:{{port}}\"]\n\
         ready = {{ tcp = \"127.0.0.1:{{port}}\", timeout = \"10s\" }}\n\
         stop = {{ signal = \"SIGKILL\", grace = \"1s\" }}\n",
        std::env::current_exe().unwrap().display()
    );
    let body = format!("{}{}", workload(), phase(bad_input, connections, duration));
    Campaign::with_service(&service, &body)
}

/// Run `campaign`, failing if it takes longer than `limit`.
fn run_within(campaign: &Campaign, limit: Duration) -> (std::process::Output, Duration) {
    let started = Instant::now();
    let mut child = campaign.spawn();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!("gonogo still running after {limit:?}: {}", stderr(&output));
        }
        thread::sleep(Duration::from_millis(100));
    }
    (child.wait_with_output().unwrap(), started.elapsed())
}

pub fn slowloris_without_a_header_timeout_is_reported_within_the_phase_and_the_socket_cap() {
    let bad = r#"{ families = ["slow"], slow_timeout = "4s", drip = "1s", timeout = "2s" }"#;
    let campaign = own_server_campaign("no-header-timeout", bad, 2, "12s");
    let (output, took) = run_within(&campaign, Duration::from_secs(60));
    assert_exit(&output, exit::NO_GO);
    let ledger = ledger(&campaign);
    let loris = ledger
        .cases
        .iter()
        .find(|c| c.name == "slow-loris")
        .unwrap();
    assert!(
        matches!(loris.outcome, CaseOutcome::Hung { .. }),
        "{:?}",
        loris.outcome
    );
    // Dribbled for the slow timeout, not the whole phase.
    let secs = loris.elapsed.as_secs_f64();
    assert!((3.5..8.0).contains(&secs), "slowloris took {secs} s");
    let problems = bad_input_problems(&ledger);
    let reported = problems
        .iter()
        .find(|p| p.case.as_deref() == Some("slow-loris"))
        .unwrap();
    assert!(reported.what.contains("no header timeout"), "{reported:?}");
    assert!(
        refused(&campaign.findings())
            .explanation
            .contains("no header timeout")
    );
    assert!(
        ledger.peak_sockets <= 2,
        "gonogo held {} sockets",
        ledger.peak_sockets
    );
    let held: u32 = std::fs::read_to_string(campaign.dir.path().join("peak"))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=2).contains(&held),
        "the server saw {held} connections at once"
    );
    assert!(took < Duration::from_secs(40), "the run took {took:?}");
}

pub fn a_server_answering_garbage_never_makes_gonogo_panic_or_hang() {
    let bad = r#"{ timeout = "1s", slow_timeout = "2s", drip = "500ms" }"#;
    // A generous bound: the cases take a few seconds, the phase may not be cut short
    // even on a loaded machine.
    let campaign = own_server_campaign("garbage", bad, 4, "120s");
    let (output, _) = run_within(&campaign, Duration::from_secs(200));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    assert_exit(&output, exit::NO_GO);
    let ledger = ledger(&campaign);
    assert!(ledger.cases.len() >= 30);
    assert!(
        ledger
            .cases
            .iter()
            .any(|c| c.outcome == CaseOutcome::Garbage)
    );
    let not_sent: Vec<(&str, f64)> = ledger
        .cases
        .iter()
        .filter(|c| matches!(c.outcome, CaseOutcome::NotSent { .. }))
        .map(|c| (c.name.as_str(), c.elapsed.as_secs_f64()))
        .collect();
    let took: Vec<(&str, f64)> = ledger
        .cases
        .iter()
        .map(|c| (c.name.as_str(), c.elapsed.as_secs_f64()))
        .collect();
    assert!(not_sent.is_empty(), "not sent: {not_sent:?}; took {took:?}");
    assert!(ledger.peak_sockets <= 4);
    // The terminal, Markdown and HTML reports carry no raw escape from the service.
    for format in ["markdown", "html"] {
        let report = stdout(&campaign.gonogo(&["report", "1", "--format", format]));
        assert!(
            !report.contains('\x1b') && !report.contains('\x07'),
            "{format}"
        );
    }
    assert!(!stdout(&output).contains('\x1b'));
}

/// nginx's configuration, `PORT` and `DIR` replaced when the service starts: a
/// directory served with header, body and send timeouts and a body size limit.
const NGINX_CONF: &str = "daemon off;
master_process off;
worker_processes 1;
pid DIR/logs/nginx.pid;
error_log DIR/logs/error.log;
events { worker_connections 64; }
http {
    access_log DIR/logs/access.log;
    client_body_temp_path DIR/tmp/body;
    proxy_temp_path DIR/tmp/proxy;
    fastcgi_temp_path DIR/tmp/fastcgi;
    uwsgi_temp_path DIR/tmp/uwsgi;
    scgi_temp_path DIR/tmp/scgi;
    client_header_timeout 2s;
    client_body_timeout 2s;
    send_timeout 2s;
    keepalive_timeout 2s;
    client_max_body_size 1m;
    server {
        listen 127.0.0.1:PORT;
        root DIR/www;
        location = /health { return 200 \"ok\\n\"; }
    }
}
";

pub fn nginx_serving_a_directory_passes_the_corpus_with_no_finding_and_no_escape() {
    let nginx = crate::support::needs::Need::Nginx.require();
    let service = format!(
        "[service]\ncommand = [\"sh\", \"-c\", \"sed -e s/PORT/{{port}}/ -e \\\"s|DIR|$PWD|g\\\" \
         nginx.conf.in > nginx.conf && exec {} -p \\\"$PWD\\\" -c \\\"$PWD/nginx.conf\\\" -e \\\"$PWD/logs/error.log\\\"\"]\n\
         ready = {{ http = \"http://127.0.0.1:{{port}}/health\", timeout = \"10s\" }}\n\
         stop = {{ signal = \"SIGTERM\", grace = \"3s\" }}\n",
        nginx.display()
    );
    let bad = r#"{ target = "/files/{case}", timeout = "3s", slow_timeout = "5s", post_check = ["test", "-f", "www/files/hello.txt"], confine = { allowed = ["{dir}/logs", "{dir}/tmp"], watch = ["{dir}"] } }"#;
    let body = format!("{}{}", workload(), phase(bad, 4, "90s"));
    let campaign = Campaign::with_service(&service, &body);
    let dir = campaign.dir.path();
    for sub in ["logs", "tmp", "www/files"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::write(dir.join("www/files/hello.txt"), b"hello\n").unwrap();
    std::fs::write(dir.join("nginx.conf.in"), NGINX_CONF).unwrap();
    let (output, _) = run_within(&campaign, Duration::from_secs(150));
    let ledger = ledger(&campaign);
    let problems = bad_input_problems(&ledger);
    assert!(problems.is_empty(), "{problems:#?}\n{}", stderr(&output));
    assert!(ledger.post.escaped.is_empty(), "{:?}", ledger.post.escaped);
    assert_eq!(
        ledger.post.post_check.as_ref().and_then(|c| c.status),
        Some(0)
    );
    assert!(ledger.cases.len() >= 35, "{} cases", ledger.cases.len());
    assert_exit(&output, exit::GO);
}
