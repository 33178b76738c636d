//! The command line as a user drives it: re-rendering, re-judging, listing,
//! checking specs, and refusing what it must refuse — with the documented exit codes.

use crate::support::spec::{Spec, criterion, get, steady};
use crate::support::{Campaign, assert_exit, assert_valid_report, describe, stdout};
use gonogo::exit;

/// GETs on the testbed at 200/s for 2 s, judged on an error rate of at most 1%.
fn body() -> String {
    Spec::new()
        .with(get(""))
        .with(steady("steady", 200, "2s"))
        .with(criterion("steady", "error_rate", "<=", "1%"))
        .into()
}

pub fn a_stored_run_re_renders_identically_and_its_json_matches_the_schema() {
    let campaign = Campaign::new(&[], &body());
    let output = campaign.gonogo(&[
        "run",
        "campaign.toml",
        "--quiet",
        "--json",
        "run.json",
        "--markdown",
        "run.md",
    ]);
    assert_exit(&output, exit::GO);

    let json_at_run = std::fs::read_to_string(campaign.dir.path().join("run.json")).unwrap();
    let again = campaign.gonogo(&["report", "1", "--format", "json"]);
    assert_exit(&again, exit::GO);
    assert_eq!(
        stdout(&again),
        json_at_run,
        "JSON re-rendered from the store"
    );
    let markdown_at_run = std::fs::read_to_string(campaign.dir.path().join("run.md")).unwrap();
    let markdown = campaign.gonogo(&["report", "latest", "--format", "md"]);
    assert_eq!(
        stdout(&markdown),
        markdown_at_run,
        "Markdown re-rendered from the store"
    );

    let report: serde_json::Value = serde_json::from_str(&json_at_run).unwrap();
    assert_valid_report(&report);
    assert_eq!(report["verdict"]["decision"], "GO", "{report}");
}

pub fn evaluate_re_judges_stored_evidence_and_runs_lists_it() {
    let campaign = Campaign::new(&[], &body());
    let output = campaign.run();
    assert_exit(&output, exit::GO);

    // The same evidence, judged by a stricter spec: no request is that fast.
    let strict = body().replace(
        "metric = \"error_rate\"\nop = \"<=\"\nvalue = \"1%\"",
        "metric = \"latency.p50\"\nop = \"<=\"\nvalue = \"1us\"\nmin_samples = 10",
    );
    let strict_text = std::fs::read_to_string(&campaign.spec)
        .unwrap()
        .replace(&body(), &strict);
    std::fs::write(campaign.dir.path().join("strict.toml"), strict_text).unwrap();
    let judged = campaign.gonogo(&["evaluate", "1", "--spec", "strict.toml"]);
    assert_exit(&judged, exit::NO_GO);
    assert!(
        stdout(&judged).contains("latency.p50"),
        "{}",
        describe(&judged)
    );

    // The re-judgement is stored: the report now shows it, and the list says NO-GO.
    let report = campaign.gonogo(&["report", "1"]);
    assert_exit(&report, exit::NO_GO);
    let runs = campaign.gonogo(&["runs"]);
    assert_exit(&runs, exit::GO);
    let line = stdout(&runs)
        .lines()
        .find(|l| l.starts_with("1 "))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("run 1 not listed: {}", describe(&runs)));
    assert!(
        line.contains("completed") && line.contains("NO-GO") && line.contains("2×"),
        "{line}"
    );
    // Nothing was overwritten: the first judgement is still there to show.
    let first = campaign.gonogo(&["report", "1", "--judgement", "1"]);
    assert_exit(&first, exit::GO);
    let third = campaign.gonogo(&["report", "1", "--judgement", "3"]);
    assert_exit(&third, exit::INVALID);

    // A spec of another campaign (another phase) cannot judge this run.
    let other = std::fs::read_to_string(&campaign.spec)
        .unwrap()
        .replace("name = \"steady\"", "name = \"peak\"")
        .replace("phase = \"steady\"", "phase = \"peak\"");
    std::fs::write(campaign.dir.path().join("other.toml"), other).unwrap();
    let refused = campaign.gonogo(&["evaluate", "1", "--spec", "other.toml"]);
    assert_exit(&refused, exit::INVALID);
    let message = crate::support::stderr(&refused);
    assert!(
        message.contains("phase \"peak\" is not in the run")
            && message.contains("the run's phase \"steady\" is not in the spec"),
        "{message}"
    );
    let runs = campaign.gonogo(&["runs"]);
    assert!(stdout(&runs).contains("2×"), "{}", describe(&runs));

    let missing = campaign.gonogo(&["report", "99"]);
    assert_exit(&missing, exit::INVALID);
    assert!(
        crate::support::stderr(&missing).contains("gonogo runs"),
        "{}",
        describe(&missing)
    );
}

pub fn check_accepts_a_good_spec_and_names_the_line_of_a_bad_one() {
    let campaign = Campaign::new(&[], &body());
    let good = campaign.gonogo(&["check", "campaign.toml"]);
    assert_exit(&good, exit::GO);
    assert!(stdout(&good).contains("1 phase(s)"), "{}", describe(&good));

    let text = std::fs::read_to_string(&campaign.spec).unwrap();
    let bad = text.replace("rate = 200", "rate = 200\nrat = 5");
    let line = bad.lines().position(|l| l == "rat = 5").unwrap() + 1;
    std::fs::write(campaign.dir.path().join("bad.toml"), bad).unwrap();
    let output = campaign.gonogo(&["check", "bad.toml"]);
    assert_exit(&output, exit::INVALID);
    let message = crate::support::stderr(&output);
    assert!(message.contains(&format!("bad.toml:{line}:")), "{message}");
    assert!(message.contains("rat"), "{message}");

    let run = campaign.gonogo(&["run", "bad.toml", "--quiet"]);
    assert_exit(&run, exit::INVALID);
    let usage = campaign.gonogo(&["run"]);
    assert_exit(&usage, exit::INVALID);
    let format = campaign.gonogo(&["run", "campaign.toml", "--format", "pdf"]);
    assert_exit(&format, exit::INVALID);
}

pub fn non_loopback_targets_are_refused_without_allow_remote() {
    // 192.0.2.1 is TEST-NET-1: never routed; nothing is sent in either case because
    // the refusal comes before the service starts.
    let campaign = Campaign::new(&[], &body().replace("127.0.0.1", "192.0.2.1"));
    let output = campaign.run();
    assert_exit(&output, exit::INVALID);
    let message = crate::support::stderr(&output);
    assert!(
        message.contains("192.0.2.1") && message.contains("--allow-remote"),
        "{message}"
    );
    assert!(!campaign.store_path().exists(), "no run was started");
}

pub fn every_example_spec_passes_check() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    // The examples run the release testbed, as the README's demo builds it; `check`
    // refuses a service program that does not exist.
    crate::support::release_testbed();
    let mut checked = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_gonogo"))
            .arg("check")
            .arg(&path)
            .output()
            .unwrap();
        // A refusal names the file on stderr, which the failure shows.
        assert_exit(&output, exit::GO);
        checked += 1;
    }
    assert!(
        checked >= 10,
        "only {checked} example specs found in {examples:?}"
    );
}

pub fn the_store_is_found_from_below_outputs_are_checked_first_and_progress_is_plain() {
    let campaign = Campaign::new(&[], &body());
    // An output that cannot be written is refused before anything runs.
    let refused = campaign.gonogo(&["run", "campaign.toml", "--json", "no/such/dir/run.json"]);
    assert_exit(&refused, exit::INVALID);
    let message = crate::support::stderr(&refused);
    assert!(
        message.contains("cannot write the report to no/such/dir/run.json"),
        "{message}"
    );
    assert!(!campaign.store_path().exists(), "no run was started");

    // Without a terminal, progress is plain lines: no escape codes.
    let output = campaign.gonogo(&["run", "campaign.toml"]);
    assert_exit(&output, exit::GO);
    let progress = crate::support::stderr(&output);
    assert!(
        progress.contains("phase steady started") && progress.contains("phase steady ended"),
        "{progress}"
    );
    assert!(
        !progress.contains('\u{1b}'),
        "escape codes without a terminal: {progress:?}"
    );

    // Hints name the program as it was invoked, a command the user can paste.
    let hint = format!("re-render: {} report 1", env!("CARGO_BIN_EXE_gonogo"));
    assert!(progress.contains(&hint), "{progress}");

    // Outside a git repository only the directory itself is searched: a store some
    // directory above holds is not this project's…
    let below = campaign.dir.path().join("a/b");
    std::fs::create_dir_all(&below).unwrap();
    assert_exit(&gonogo_in(&below, &["runs"]), exit::INVALID);
    // …inside one, `runs` finds the store walking up from a directory below it…
    std::fs::create_dir(campaign.dir.path().join(".git")).unwrap();
    let runs = gonogo_in(&below, &["runs"]);
    assert_exit(&runs, exit::GO);
    assert!(
        stdout(&runs).lines().any(|l| l.starts_with("1 ")),
        "{}",
        describe(&runs)
    );

    // …and, finding none up to the top of a repository, says where it looked.
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    let none = gonogo_in(repo.path(), &["runs"]);
    assert_exit(&none, exit::INVALID);
    let message = crate::support::stderr(&none);
    assert!(
        message.contains("looked for .gonogo/evidence.db in")
            && message.contains(&repo.path().display().to_string()),
        "{message}"
    );
}

/// Run gonogo with `args` in `dir`.
fn gonogo_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_gonogo"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}
