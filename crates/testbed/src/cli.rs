//! The command line: every flag with its help text, the documented exit codes, and the step from
//! raw flags to the server's validated [`Config`].
//!
//! Values are parsed by `knobs`' parsers inside clap, so an invalid flag is reported by clap and
//! exits with status 2 before anything starts. This module does not run anything.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::knobs::{
    CacheGrowth, Knobs, Latency, Pause, parse_byte_size, parse_duration, parse_error_rate,
};
use crate::server::Config;

/// Exit status after a SIGTERM or SIGINT and a graceful shutdown.
pub const EXIT_OK: u8 = 0;
/// Exit status when the service could not start (bind, data file, runtime).
pub const EXIT_STARTUP_FAILED: u8 = 1;
/// Exit status for invalid flags (clap's own).
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "clap exits with this status itself; kept to document it"
    )
)]
pub const EXIT_USAGE: u8 = 2;
/// Exit status of the simulated crash (`--crash-after`); `EX_SOFTWARE` from sysexits.h.
pub const EXIT_CRASH: i32 = 70;

/// The exit-code table shown at the end of `--help`; a test checks it against the constants.
const EXIT_CODES_HELP: &str = "\
Exit status:
  0   stopped by SIGTERM or SIGINT after finishing in-flight requests
  1   could not start (address in use, unreadable data file, ...)
  2   invalid flags
  70  simulated crash (--crash-after)";

/// A small HTTP/1.1 key-value service with fault knobs, for trying gonogo.
///
/// Routes: GET /health, PUT|GET|DELETE /kv/{key} (values up to 1 MiB; PUT answers 201 for a new
/// key and 204 for a replaced one), GET /stats (JSON: requests, keys, leaked_bytes, cache_bytes).
/// The fault knobs apply to /kv routes only. On start, one line `listening on ADDR` is printed.
#[derive(Debug, Parser)]
#[command(name = "testbed", version, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// Address to listen on; port 0 picks a free port (the line `listening on ADDR` tells which).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Tokio worker threads.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: u16,

    /// Latency added to each /kv request: a fixed duration (`5ms`), `uniform:MIN:MAX`
    /// (e.g. `uniform:1ms:5ms`) or `exp:MEAN` (exponential, e.g. `exp:2ms`).
    #[arg(long, value_name = "SPEC", value_parser = Latency::parse)]
    pub latency: Option<Latency>,

    /// Fraction of /kv requests answered 500 at random, in [0, 1].
    #[arg(long, value_name = "F", default_value = "0", value_parser = parse_error_rate)]
    pub error_rate: f64,

    /// Bytes each /kv request allocates, writes and keeps forever (a memory leak; RSS grows).
    /// Accepts plain bytes or KiB, MiB, GiB (e.g. `64KiB`).
    #[arg(long, value_name = "BYTES", default_value = "0", value_parser = parse_byte_size)]
    pub leak_per_request: u64,

    /// One-time cache growth: the first --cache-fill-requests /kv requests together allocate,
    /// write and keep this many bytes, then memory plateaus (e.g. `100MiB`).
    #[arg(long, value_name = "BYTES", value_parser = parse_byte_size)]
    pub cache_bytes: Option<u64>,

    /// How many /kv requests share the --cache-bytes growth.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub cache_fill_requests: u64,

    /// After serving N /kv requests, exit at once with status 70 (a simulated crash: no graceful
    /// shutdown; later requests are never answered).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub crash_after: Option<u64>,

    /// Bind at once but answer 503 on every route until this long after start (e.g. `2s`).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub slow_start: Option<Duration>,

    /// After N /kv requests, stall all /kv requests for --pause-for, once (like a GC pause).
    #[arg(long, value_name = "N", requires = "pause_for")]
    pub pause_after: Option<u64>,

    /// How long the --pause-after stall lasts (e.g. `500ms`).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "pause_after")]
    pub pause_for: Option<Duration>,

    /// Durable mode: append every PUT and DELETE to this file and fsync it before answering;
    /// replay it on start. Without it, writes live in memory only and are lost on a crash.
    #[arg(long, value_name = "PATH")]
    pub data_file: Option<PathBuf>,

    /// Each GET /kv/{key} waits this long per key the store holds (e.g. `2us`), so its
    /// response time grows linearly with the data set: a knob for scaling tests.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub get_cost_per_item: Option<Duration>,

    /// Serve and write files under DIR at `/files/{path}` (paths checked: `..` refused).
    #[arg(long, value_name = "DIR")]
    pub files: Option<PathBuf>,

    /// With `--files`: join the decoded path to DIR without checking it, so traversal
    /// escapes DIR (a deliberately unsafe endpoint for bad-input tests).
    #[arg(long, requires = "files")]
    pub files_unsafe: bool,
}

impl Cli {
    /// The worker thread count.
    pub fn threads(&self) -> usize {
        usize::from(self.threads)
    }

    /// The server configuration these flags describe.
    pub fn into_config(self) -> Config {
        let cache = self.cache_bytes.map(|bytes| CacheGrowth {
            bytes,
            fill_requests: self.cache_fill_requests,
        });
        let pause = match (self.pause_after, self.pause_for) {
            (Some(after), Some(length)) => Some(Pause { after, length }),
            _ => None,
        };
        Config {
            listen: self.listen,
            slow_start: self.slow_start,
            data_file: self.data_file,
            files: self.files.map(|dir| crate::files::Files {
                dir,
                unsafe_paths: self.files_unsafe,
            }),
            knobs: Knobs {
                latency: self.latency,
                error_rate: self.error_rate,
                leak_per_request: self.leak_per_request,
                cache,
                crash_after: self.crash_after,
                pause,
                get_cost_per_item: self.get_cost_per_item,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_flag_reaches_the_config() {
        let cli = Cli::try_parse_from([
            "testbed",
            "--listen=127.0.0.1:0",
            "--threads=4",
            "--latency=uniform:1ms:5ms",
            "--error-rate=0.1",
            "--leak-per-request=4KiB",
            "--cache-bytes=10MiB",
            "--cache-fill-requests=10",
            "--crash-after=100",
            "--slow-start=2s",
            "--pause-after=50",
            "--pause-for=300ms",
            "--data-file=/tmp/x.kv",
            "--get-cost-per-item=2us",
        ])
        .expect("valid flags");
        assert_eq!(cli.threads(), 4);
        let config = cli.into_config();
        assert_eq!(config.listen.port(), 0);
        assert_eq!(config.slow_start, Some(Duration::from_secs(2)));
        assert_eq!(config.data_file, Some(PathBuf::from("/tmp/x.kv")));
        let knobs = config.knobs;
        assert_eq!(knobs.leak_per_request, 4096);
        assert_eq!(knobs.error_rate, 0.1);
        assert_eq!(knobs.crash_after, Some(100));
        assert_eq!(
            knobs.cache,
            Some(CacheGrowth {
                bytes: 10 << 20,
                fill_requests: 10
            })
        );
        assert_eq!(
            knobs.pause,
            Some(Pause {
                after: 50,
                length: Duration::from_millis(300)
            })
        );
        assert!(matches!(knobs.latency, Some(Latency::Uniform { .. })));
        assert_eq!(knobs.get_cost_per_item, Some(Duration::from_micros(2)));
    }

    #[test]
    fn defaults_turn_every_fault_off() {
        let cli = Cli::try_parse_from(["testbed"]).expect("no flags");
        assert_eq!(cli.threads(), 1);
        let config = cli.into_config();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.knobs, Knobs::default());
        assert_eq!(config.slow_start, None);
    }

    #[test]
    fn invalid_flags_are_usage_errors() {
        for args in [
            &["testbed", "--error-rate=2"][..],
            &["testbed", "--leak-per-request=lots"],
            &["testbed", "--latency=normal:1ms"],
            &["testbed", "--pause-after=3"],
            &["testbed", "--threads=0"],
            &["testbed", "--crash-after=0"],
            &["testbed", "--listen=localhost"],
        ] {
            let err = Cli::try_parse_from(args).expect_err("must be rejected");
            assert_eq!(err.exit_code(), i32::from(EXIT_USAGE), "{args:?}");
        }
    }

    #[test]
    fn help_lists_every_exit_code() {
        for code in [
            i32::from(EXIT_OK),
            i32::from(EXIT_STARTUP_FAILED),
            i32::from(EXIT_USAGE),
            EXIT_CRASH,
        ] {
            let row = format!("\n  {code} ");
            assert!(EXIT_CODES_HELP.contains(&row), "exit code {code} missing");
        }
    }
}
