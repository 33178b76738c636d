//! The `gonogo` binary: parse, run, exit with the documented code (see `exit`).

fn main() -> std::process::ExitCode {
    gonogo::exit::code(gonogo::cli::main())
}
