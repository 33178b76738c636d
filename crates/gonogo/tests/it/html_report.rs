//! The HTML report and its siblings as a user gets them: every run writes
//! `.gonogo/runs/<id>/report.html`; hostile names from the spec and the service's
//! command line are escaped (what the service answers: `report_safety`); the page opens offline in a real Chromium with every chart
//! drawn and no console message; JUnit output parses; two runs compare side by side.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::needs::Need;
use crate::support::spec::{self, Raw, Spec, criterion, fault, get, get_named, phase, steady};
use crate::support::{Campaign, assert_exit, assert_exit_in, describe, stderr, stdout, testbed};
use gonogo::exit;

/// Strings that would run script if a report pasted them into HTML unescaped.
const HOSTILE: [&str; 3] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "'><svg onload=alert(1)>",
];

/// A campaign whose names and service command line carry the hostile strings: the
/// service runs through `sh -c`, whose `$0` is a hostile string that ends up in the
/// `service_started` event.
fn hostile_campaign() -> Campaign {
    let command = [
        "sh",
        "-c",
        "exec \"$1\" --listen 127.0.0.1:{port}",
        &HOSTILE.concat(),
        &testbed().display().to_string(),
    ]
    .map(String::from);
    let service = spec::service(
        &command,
        "{ http = \"http://127.0.0.1:{port}/health\", timeout = \"10s\" }",
        "SIGTERM",
        "3s",
    );
    let (workload, phase) = (HOSTILE[1], HOSTILE[2]);
    let body = Spec::new()
        .with(get_named(workload, ""))
        .with(steady(phase, 100, "2s").set("warmup", "1s"))
        .with(criterion(phase, "latency.p99", "<=", "1s").set("min_samples", 100))
        .with(
            criterion(phase, "error_rate", "<=", "1%")
                .set("workload", workload)
                .set("min_samples", 100),
        );
    let name = spec::Table::new("").set("name", HOSTILE[0]);
    Campaign::with_service(&format!("{name}{service}"), &body.to_string())
}

/// The run was judged GO or INCONCLUSIVE: the verdict does not matter to these tests,
/// and a busy machine may leave the load generator behind (INCONCLUSIVE).
fn assert_judged(output: &std::process::Output) {
    assert_exit_in(output, &[exit::GO, exit::INCONCLUSIVE]);
}

/// Nothing in the page can run or fetch anything: every element is one the template
/// writes, no attribute is an event handler or a URL leaving the page, and the
/// Content-Security-Policy is there (`support::report_audit`).
pub(crate) fn assert_inert(html: &str) {
    let problems = crate::support::report_audit::html_problems(html);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Run `body` against a testbed answering in 2 ms, which must be judged; the campaign,
/// run 1's HTML report's path and its text, checked to be inert.
fn judged_report(body: &str) -> (Campaign, PathBuf, String) {
    let campaign = Campaign::new(&["--latency", "2ms"], body);
    assert_judged(&campaign.run());
    let path = report_path(&campaign, 1);
    let html = std::fs::read_to_string(&path).unwrap();
    assert_inert(&html);
    (campaign, path, html)
}

fn report_path(campaign: &Campaign, run: i64) -> PathBuf {
    campaign
        .dir
        .path()
        .join(".gonogo/runs")
        .join(run.to_string())
        .join("report.html")
}

pub fn hostile_names_and_service_arguments_are_escaped_in_the_html_report() {
    let campaign = hostile_campaign();
    let output = campaign.run();
    assert_judged(&output);
    let path = report_path(&campaign, 1);
    assert!(
        stderr(&output).contains("report: .gonogo/runs/1/report.html"),
        "{}",
        describe(&output)
    );
    let html = std::fs::read_to_string(&path).unwrap();
    assert_inert(&html);
    // The strings are there, as text.
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("&#39;&gt;&lt;svg onload=alert(1)&gt;"));

    // The re-rendered page is the one written at the end of the run.
    let again = campaign.gonogo(&["report", "1", "--format", "html"]);
    assert_eq!(stdout(&again), html, "HTML re-rendered from the store");

    // JUnit of the same run parses and keeps the names intact.
    let junit = campaign.gonogo(&["report", "1", "--format", "junit"]);
    let xml = stdout(&junit);
    let doc = roxmltree::Document::parse(&xml).expect("JUnit output parses");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("name"), Some(HOSTILE[2]));
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count(),
        2,
        "{xml}"
    );
    chromium_renders(&path, "hostile");
}

/// Where test artifacts go: `<target dir>/test-artifacts/`.
fn artifacts_dir() -> PathBuf {
    let dir = crate::support::profile_dir()
        .parent()
        .unwrap()
        .join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn chromium(profile: &Path, args: &[&str]) -> std::process::Output {
    Command::new(Need::Chromium.require())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium starts")
}

/// Open the page in headless Chromium: no console message at all (a script that ran,
/// an error, or a blocked fetch would each log one), every chart in the DOM with its
/// lines, and a screenshot saved as a test artifact. A missing Chromium fails the test
/// (with the install hint).
fn chromium_renders(page: &Path, name: &str) -> String {
    let url = format!("file://{}", page.display());
    let profile = tempfile::tempdir().unwrap();
    let dom = chromium(profile.path(), &["--dump-dom", &url]);
    assert!(dom.status.success(), "{}", describe(&dom));
    let dom_text = stdout(&dom);
    let log = stderr(&dom);
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let charts = dom_text.matches("<svg").count();
    assert!(charts >= 7, "{charts} charts in the DOM");
    assert!(dom_text.contains("<polyline"), "lines are drawn");
    assert!(!dom_text.contains("<script"), "no script in the DOM");

    let shot = artifacts_dir().join(format!("report-{name}.png"));
    let _ = std::fs::remove_file(&shot);
    let screenshot = chromium(
        profile.path(),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,3000",
            &url,
        ],
    );
    assert!(screenshot.status.success(), "{}", describe(&screenshot));
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 10_000,
        "screenshot {} has {size} bytes",
        shot.display()
    );
    eprintln!("screenshot: {}", shot.display());
    dom_text
}

/// GETs at 200/s for 2 s, judged on p99 latency.
fn body() -> String {
    Spec::new()
        .with(get(""))
        .with(steady("steady", 200, "2s"))
        .with(criterion("steady", "latency.p99", "<=", "1s").set("min_samples", 100))
        .into()
}

pub fn report_against_another_run_shows_each_criterion_side_by_side() {
    let campaign = Campaign::new(&[], &body());
    for _ in 0..2 {
        assert_judged(&campaign.run());
    }
    assert!(report_path(&campaign, 1).exists() && report_path(&campaign, 2).exists());
    let output = campaign.gonogo(&["report", "2", "--against", "1"]);
    assert_judged(&output);
    let text = stdout(&output);
    assert!(
        text.contains("run A: run 2") && text.contains("run B: run 1"),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.starts_with("steady latency.p99 <= 1s"))
        .unwrap_or_else(|| panic!("a row for the criterion:\n{text}"));
    assert!(row.contains(" / "), "both outcomes: {row}");
    assert!(row.contains('%'), "a relative change: {row}");
    assert!(text.contains(gonogo::report::PLAIN_DELTA), "{text}");

    let md = campaign.gonogo(&["report", "2", "--against", "1", "--format", "md"]);
    assert!(
        stdout(&md).contains("| steady latency.p99 <= 1s |"),
        "{}",
        describe(&md)
    );
    let html = campaign.gonogo(&["report", "2", "--against", "1", "--format", "html"]);
    assert_exit(&html, exit::INVALID);
}

pub fn the_html_report_opens_offline_in_chromium_with_every_chart_drawn() {
    let (_campaign, path, html) = judged_report(&body());
    for chart in [
        "latency",
        "rate",
        "errors",
        "lag",
        "rss",
        "cpu",
        "fds_threads",
    ] {
        assert!(
            html.contains(&format!("id=\"chart-{chart}\"")),
            "chart {chart}"
        );
    }
    assert!(
        html.contains("href=\"#chart-latency\""),
        "the finding links its chart"
    );
    chromium_renders(&path, "steady");
}

/// A ramp, a soak and a fault phase, each with a criterion on its analysis.
fn analyses() -> String {
    let ramp = phase("ramp", "ramp")
        .set("start_rate", 100)
        .set("step", 100)
        .set("max_rate", 300)
        .set("duration", "1s")
        .set("warmup", "1s")
        .set(
            "stop_when",
            Raw("{ latency_p99 = \"500ms\", error_rate = \"1%\" }"),
        );
    let soak = phase("soak", "soak")
        .set("rate", 100)
        .set("duration", "4s")
        .set("warmup", "1s")
        .set("leak", Raw("{ rss = \"64MiB/h\", window = \"1s\" }"));
    Spec::new()
        .with(spec::sampled_every("200ms"))
        .with(get("1s"))
        .with(ramp)
        .with(soak)
        .with(steady("chaos", 100, "5s").set("warmup", "1s"))
        .with(fault("chaos", "kill").set("at", "30%"))
        .with(criterion("ramp", "capacity.last_good_rate", ">=", 50).set("min_samples", 1))
        .with(criterion("soak", "leak.rss.slope_upper", "<=", "64GiB/h").set("min_samples", 3))
        .with(criterion("chaos", "recovery.time", "<=", "4s").set("min_samples", 1))
        .into()
}

pub fn a_ramp_soak_and_fault_run_draws_capacity_steps_soak_trend_and_recovery_in_chromium() {
    let (_campaign, path, html) = judged_report(&analyses());
    let ids = [
        "chart-capacity-ramp",
        "chart-soak-soak-rss",
        "chart-recovery",
    ];
    for id in ids {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id} in the page");
        assert!(
            html.contains(&format!("href=\"#{id}\"")),
            "a finding links {id}"
        );
    }
    let dom = chromium_renders(&path, "analyses");
    for id in ids {
        assert!(dom.contains(&format!("id=\"{id}\"")), "{id} in the DOM");
    }
    for class in [
        "capacity-rate",
        "capacity-latency",
        "soak-trend",
        "recovery-bars",
    ] {
        assert!(dom.contains(class), "the {class} chart is drawn");
    }
    assert!(
        dom.contains("class=\"fault\""),
        "the fault window is shaded"
    );
    assert!(
        dom.contains("class=\"rolling-min\""),
        "the rolling minimum is drawn"
    );
}
