//! The `gonogo` binary: parse, run, exit with the documented code (see `exit`).
//! Re-executed as `gonogo __guard …`, it is the service's guard instead
//! (`service::guard`).

fn main() -> std::process::ExitCode {
    if let Some(guard_exit) = gonogo::service::guard::enter() {
        return guard_exit;
    }
    gonogo::exit::code(gonogo::cli::main())
}
