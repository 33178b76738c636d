//! Checks of a plan against this machine, before anything runs: does the service's
//! program exist where the spec says it is.
//!
//! Owns: [`missing_program`]. Does not own: the spec's own validation (`plan`), or
//! predictions from the plan alone (`plan::warnings`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::plan::Plan;
use crate::spec::{self, Diagnostic, SpecError};

/// The spec error for a service program that does not exist or cannot be run, at the
/// line of `service.command`; `None` when it is there. A program with a `/` is looked
/// up from the service's working directory (the spec's directory by default), as the
/// service is started; a bare name on `PATH`.
pub fn missing_program(plan: &Plan, spec_path: &Path, text: &str) -> Option<SpecError> {
    let program = plan.service.command.first()?.render_with_port(0);
    let spec_dir = spec_path.parent().unwrap_or(Path::new(""));
    let cwd = plan
        .service
        .cwd
        .clone()
        .unwrap_or_else(|| spec_dir.to_path_buf());
    let (found, looked) = locate(&program, &cwd);
    if found {
        return None;
    }
    let span = spec::parse(text)
        .ok()
        .map(|raw| raw.service.get_ref().command.span())
        .unwrap_or(0..0);
    let message = format!(
        "the service program `{program}` does not exist or is not executable (looked at {})",
        looked
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let hint = "build or install it, or fix the path: a path with `/` starts from the service's cwd (the spec's directory by default); the bundled testbed is built by `cargo build --release --workspace`";
    Some(
        Diagnostic::new(span, "service.command", message)
            .hint(hint)
            .into_spec_error(spec_path, text),
    )
}

/// Whether `program` is an executable file, and where it was looked for.
fn locate(program: &str, cwd: &Path) -> (bool, Vec<PathBuf>) {
    let candidates: Vec<PathBuf> = if program.contains('/') {
        vec![cwd.join(program)]
    } else {
        std::env::var_os("PATH")
            .map(|path| {
                std::env::split_paths(&path)
                    .map(|d| d.join(program))
                    .collect()
            })
            .unwrap_or_default()
    };
    let found = candidates.iter().any(|p| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    });
    let looked = if program.contains('/') || candidates.len() <= 3 {
        candidates
    } else {
        vec![PathBuf::from(format!(
            "each directory of PATH ({})",
            candidates.len()
        ))]
    };
    (found, looked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(command: &str) -> String {
        format!(
            "[service]\ncommand = [{command:?}]\nport = 8080\nready = {{ http = \"http://127.0.0.1:{{port}}/health\" }}\n\n[[workload]]\nname = \"get\"\nhttp = {{ method = \"GET\", url = \"http://127.0.0.1:{{port}}/\" }}\n\n[[phase]]\nname = \"p\"\nkind = \"steady\"\nrate = 10\nduration = \"1s\"\n"
        )
    }

    fn check(command: &str) -> Option<SpecError> {
        let path = Path::new("/nonexistent-dir/t.toml");
        let text = spec(command);
        let plan = crate::plan::from_str(path, &text).expect("the spec is valid");
        missing_program(&plan, path, &text)
    }

    #[test]
    fn a_missing_program_is_a_spec_error_at_the_command_line() {
        let err = check("../target/release/no-such-program").expect("refused");
        assert_eq!((err.line, err.field.as_str()), (2, "service.command"));
        assert!(
            err.message
                .contains("/nonexistent-dir/../target/release/no-such-program"),
            "{}",
            err.message
        );
        assert!(check("no-such-program-on-path-xyz").is_some());
    }

    #[test]
    fn a_program_on_path_or_at_an_absolute_path_is_found() {
        assert!(check("sh").is_none());
        assert!(check("/bin/sh").is_none());
    }
}
