//! The Markdown and HTML reports of real runs carrying hostile text: names in the spec,
//! a status line the service answered the readiness probe with, and what the service
//! wrote on stderr before it exited. Read back as a renderer would
//! (`support::report_audit`: pulldown-cmark, comrak with GFM's autolinks, and the HTML
//! page's tags), nothing of it becomes HTML, an image, a link or a table cell, and it
//! reads as written.

use crate::html_report::assert_inert;
use crate::support::report_audit::{
    as_text, hostile, hostile_name, markdown_problems, names, rendered_text, table_rows,
};
use crate::support::spec::{self, Spec, criterion, get_named, steady};
use crate::support::{Campaign, assert_exit, assert_exit_in, describe, stdout, testbed_service};
use gonogo::exit;

/// Markdown with no problem that shows each of `wanted` as written.
fn assert_markdown_safe(markdown: &str, wanted: &[&str]) {
    let problems = markdown_problems(markdown);
    assert!(
        problems.is_empty(),
        "{} problems:\n{}\n\n{markdown}",
        problems.len(),
        problems.join("\n")
    );
    let text = rendered_text(markdown);
    for want in wanted {
        let want = as_text(want);
        assert!(
            text.contains(&want),
            "{want:?} does not read as written:\n{text}"
        );
    }
}

/// Run `run`'s report of `campaign` in Markdown and HTML, each checked; the Markdown.
fn assert_reports_safe(campaign: &Campaign, run: &str, wanted: &[&str]) -> String {
    let markdown = campaign.gonogo(&["report", run, "--format", "markdown"]);
    assert_exit_in(
        &markdown,
        &[exit::GO, exit::NO_GO, exit::INCONCLUSIVE, exit::FAILURE],
    );
    let markdown = stdout(&markdown);
    assert_markdown_safe(&markdown, wanted);
    let html = stdout(&campaign.gonogo(&["report", run, "--format", "html"]));
    assert_inert(&html);
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the strings are in the page, as text"
    );
    markdown
}

pub fn hostile_names_make_no_markup_in_the_markdown_report() {
    let (name, workload, phase) = (hostile_name(0), hostile_name(6), hostile_name(12));
    let body = Spec::new()
        .with(get_named(&workload, ""))
        .with(steady(&phase, 100, "2s").set("warmup", "1s"))
        .with(criterion(&phase, "latency.p99", "<=", "1s").set("min_samples", 100))
        .with(
            criterion(&phase, "error_rate", "<=", "1%")
                .set("workload", workload.as_str())
                .set("min_samples", 100),
        );
    // The campaign's name is a top-level key: before `[service]`.
    let service = testbed_service("127.0.0.1", &["--latency", "2ms"]);
    let name = spec::Table::new("").set("name", name.as_str());
    let campaign = Campaign::with_service(&format!("{name}{service}"), &body.to_string());
    let output = campaign.gonogo(&["run", "campaign.toml", "--quiet", "--markdown", "run.md"]);
    // The verdict does not matter here; a busy machine may leave the generator behind.
    assert_exit_in(&output, &[exit::GO, exit::INCONCLUSIVE]);
    let written = std::fs::read_to_string(campaign.dir.path().join("run.md")).unwrap();
    let markdown = assert_reports_safe(&campaign, "1", &names());
    assert_eq!(
        written, markdown,
        "the report written by the run is the stored one"
    );
    // Findings (2 criteria and the implicit ones), phases and resources: each row whole.
    let rows = table_rows(&markdown);
    assert_eq!(rows.len(), 3, "{markdown}");
    assert_eq!(rows[1..], [2, 2], "one phase, one workload: {markdown}");
}

/// A service that answers every connection with the status line `HTTP/1.1 STATUS`
/// (so the probe never sees a 2xx) and writes `STDERR` on stderr, on the port given.
const HOSTILE_SERVER: &str = r#"
import socket, sys
status, stderr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.stderr.write(stderr + "\n"); sys.stderr.flush()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(16)
while True:
    c, _ = s.accept(); c.recv(4096)
    c.sendall(("HTTP/1.1 " + status + "\r\n\r\n").encode()); c.close()
"#;

/// A campaign whose service is `command`, probed at `/health` for at most 2 s.
fn campaign_with(command: &[String]) -> Campaign {
    let service = spec::service(
        command,
        "{ http = \"http://127.0.0.1:{port}/health\", timeout = \"2s\", interval = \"100ms\" }",
        "SIGTERM",
        "1s",
    );
    let body = Spec::new()
        .with(get_named("get", ""))
        .with(steady("baseline", 10, "1s"))
        .with(criterion("baseline", "error_rate", "<=", "1%"));
    Campaign::with_service(&service.to_string(), &body.to_string())
}

pub fn a_hostile_status_line_and_stderr_from_the_service_make_no_markup_in_the_reports() {
    // One line, as a status line ends at the first line break; an ESC is kept.
    let status = format!("{} \u{1b}[2J", hostile_name(0));
    let command = [
        "python3",
        "-c",
        HOSTILE_SERVER,
        &status,
        &hostile(3),
        "{port}",
    ]
    .map(String::from);
    let campaign = campaign_with(&command);
    let output = campaign.run();
    assert_exit(&output, exit::FAILURE);
    let printed = describe(&output);
    assert!(printed.contains("malformed status line"), "{printed}");
    let mut wanted = names();
    wanted.push("\u{1b}[2J");
    let markdown = assert_reports_safe(&campaign, "1", &wanted);
    assert!(markdown.contains("COULD NOT RUN"), "{markdown}");

    // A service that writes hostile text and exits before it is ready: its stderr is
    // in the report, in a fenced block that no line of it can close.
    let script = "printf '%s\\n' \"$1\" '~~~~~~' '```' >&2; exit 1";
    let command = ["sh", "-c", script, "sh", &hostile(5), "{port}"].map(String::from);
    let campaign = campaign_with(&command);
    assert_exit(&campaign.run(), exit::FAILURE);
    let markdown = assert_reports_safe(&campaign, "1", &[]);
    assert!(markdown.contains("exited with exit code 1"), "{markdown}");
    let fenced = rendered_text(&markdown);
    for line in ["<script>alert(1)</script>", "~~~~~~", "```"] {
        assert!(fenced.contains(line), "{line:?} is shown:\n{fenced}");
    }
}
