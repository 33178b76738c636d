//! `testbed`: a small HTTP/1.1 key-value service with fault knobs (latency, errors, memory leak,
//! cache growth, crash, slow start, pause, durable or in-memory writes). gonogo's demo and
//! integration tests run campaigns against it; users can try gonogo with it.
//!
//! `main` only parses flags, runs the server and maps how it stopped to an exit code; the exit
//! codes are documented in `cli`. Modules: `cli` (flags), `knobs` (fault values and parsers),
//! `faults` (knobs applied to requests), `store` and `journal` (the key-value data), `server`
//! (routes and lifecycle).

mod cli;
mod faults;
mod files;
mod journal;
mod knobs;
mod server;
mod store;

use std::error::Error;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, EXIT_CRASH, EXIT_OK, EXIT_STARTUP_FAILED};
use crate::server::{ServerError, Stopped};

fn main() -> ExitCode {
    let cli = Cli::parse();
    raise_fd_limit();
    let runtime = match server::runtime(cli.threads()) {
        Ok(runtime) => runtime,
        Err(e) => return fail(&e),
    };
    match runtime.block_on(server::run(cli.into_config())) {
        Ok(Stopped::Signal) => ExitCode::from(EXIT_OK),
        // A crash exits right here, without tearing the runtime down or finishing anything.
        Ok(Stopped::Crash) => std::process::exit(EXIT_CRASH),
        Err(e) => fail(&e),
    }
}

/// Raise the soft file-descriptor limit to the hard one, as the Go runtime and many
/// servers do at start, so the connections a campaign opens are limited by the hard
/// limit only. A refused raise leaves the limit as it was.
fn raise_fd_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE)
        && soft < hard
    {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
}

/// Reports a startup or serving error with its causes, and returns the failure status.
fn fail(error: &ServerError) -> ExitCode {
    eprintln!("testbed: error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        eprintln!("  caused by: {cause}");
        source = cause.source();
    }
    ExitCode::from(EXIT_STARTUP_FAILED)
}
