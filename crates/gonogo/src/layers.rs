//! The architecture test: modules form layers that only look down (see
//! `docs/architecture.md`). It reads every source file of this crate, finds each
//! `crate::<module>` path in code, and fails when a module names a module of its own
//! layer or of a layer above it, with the file and line. The front end (`cli`) may
//! name only the façade (`api`) and the exit codes.
//!
//! Owns: the layer table as code. Test-only.

use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may use the modules of lower layers only.
const LAYERS: &[&[&str]] = &[
    &["units"],
    &["model"],
    &["stats"],
    &["spec"],
    &["plan"],
    &["service", "fault", "sample", "load"],
    &["integrity", "badinput"],
    &["run"],
    &["evidence"],
    &["evaluate"],
    &["verdict"],
    &["report"],
    &["api"],
    &["exit"],
    &["cli"],
    &["fuzzing"],
];

/// What `cli` may name besides its own submodules.
const FRONT_END_DOORS: &[&str] = &["api", "exit"];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// One upward (or sideways) import: where, and what it names.
#[derive(Debug, PartialEq)]
struct Violation {
    file: String,
    line: usize,
    module: String,
    target: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rank = |m: &str| layer_of(m).map_or("?".to_string(), |l| l.to_string());
        write!(
            f,
            "{}:{}: `{}` (layer {}) uses `crate::{}` (layer {}); a module may use only the layers below its own",
            self.file,
            self.line,
            self.module,
            rank(&self.module),
            self.target,
            rank(&self.target),
        )
    }
}

/// The top-level modules named as `crate::<name>` on each line of `text` (comments
/// dropped), with 1-based line numbers. `crate::{a, b}` names both.
fn named_modules(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut in_group = false;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or("");
        let mut rest = line;
        if in_group {
            let (inside, after) = rest.split_once('}').unwrap_or((rest, ""));
            found.extend(group_heads(inside).map(|m| (index + 1, m)));
            in_group = !rest.contains('}');
            rest = after;
        }
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + "crate::".len()..];
            if let Some(group) = tail.strip_prefix('{') {
                let (inside, after) = group.split_once('}').unwrap_or((group, ""));
                found.extend(group_heads(inside).map(|m| (index + 1, m)));
                in_group = !group.contains('}');
                rest = after;
                continue;
            }
            let name: String = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push((index + 1, name));
            }
            rest = tail;
        }
    }
    found
}

/// The first path segment of each item in the inside of a `{…}` use group.
fn group_heads(inside: &str) -> impl Iterator<Item = String> + '_ {
    inside.split(',').filter_map(|item| {
        let head: String = item
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        (!head.is_empty() && head != "self").then_some(head)
    })
}

/// The violations in one file of top-level module `module`.
fn check_file(file: &str, module: &str, text: &str) -> Vec<Violation> {
    let Some(own) = layer_of(module) else {
        return Vec::new();
    };
    named_modules(text)
        .into_iter()
        .filter(|(_, target)| target != module)
        .filter(|(_, target)| match layer_of(target) {
            Some(_) if module == "cli" => !FRONT_END_DOORS.contains(&target.as_str()),
            Some(layer) => layer >= own,
            None => false,
        })
        .map(|(line, target)| Violation {
            file: file.to_string(),
            line,
            module: module.to_string(),
            target,
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to (`evaluate/soak.rs` → `evaluate`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_string())
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut modules = std::collections::BTreeSet::new();
    let mut violations = Vec::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(file) else {
            panic!("cannot read {}", file.display());
        };
        let shown = file
            .strip_prefix(&src)
            .unwrap_or(file)
            .display()
            .to_string();
        violations.extend(check_file(&shown, &module, &text));
        modules.insert(module);
    }
    let unplaced: Vec<&String> = modules
        .iter()
        .filter(|m| !["lib", "main", "layers"].contains(&m.as_str()) && layer_of(m).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules missing from the layer table in src/layers.rs (and docs/architecture.md): {unplaced:?}"
    );
    let report: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(report.is_empty(), "upward imports:\n{}", report.join("\n"));
}

#[test]
fn an_upward_import_is_reported_with_its_file_and_line() {
    let text = "//! stats\nuse crate::model::ResourceSample;\n\nuse crate::report::format;\n";
    let found = check_file("stats/mod.rs", "stats", text);
    assert_eq!(
        found,
        vec![Violation {
            file: "stats/mod.rs".into(),
            line: 4,
            module: "stats".into(),
            target: "report".into(),
        }]
    );
    assert!(
        found[0]
            .to_string()
            .starts_with("stats/mod.rs:4: `stats` (layer 2) uses `crate::report` (layer 11)")
    );
}

#[test]
fn grouped_and_inline_paths_count_and_comments_do_not() {
    let text = "use crate::{plan, evaluate::judge};\nlet x = crate::verdict::decide(&f); // crate::api\nuse crate::{\n    units,\n    report::Format,\n};\n";
    let names: Vec<String> = named_modules(text).into_iter().map(|(_, m)| m).collect();
    assert_eq!(names, ["plan", "evaluate", "verdict", "units", "report"]);
    let found = check_file("plan/x.rs", "plan", text);
    let targets: Vec<&str> = found.iter().map(|v| v.target.as_str()).collect();
    assert_eq!(targets, ["evaluate", "verdict", "report"]);
}

#[test]
fn peers_of_one_layer_do_not_use_each_other_and_the_front_end_uses_the_facade() {
    assert_eq!(
        check_file("load/x.rs", "load", "use crate::service::X;\n").len(),
        1
    );
    assert_eq!(
        check_file("cli/x.rs", "cli", "use crate::api::Y;\nuse crate::exit;\n").len(),
        0
    );
    assert_eq!(
        check_file("cli/x.rs", "cli", "use crate::report::Z;\n").len(),
        1
    );
}
