//! gonogo's integration tests, one binary (`cargo test -p gonogo --test it [FILTER]`):
//! the real gonogo binary starts real services (the testbed, redis-server,
//! PostgreSQL) on loopback, offers load, stores evidence and decides. One module a
//! subject; the shared helpers are in `support`.
//!
//! The binary runs under libtest-mimic (`harness = false`) instead of libtest so that
//! a test whose program is missing is *ignored* at run time when the user asks for it
//! (`GONOGO_SKIP_MISSING=1`) and fails with the install hint otherwise; libtest can
//! only ignore at compile time, and a test that returns early is counted as passed.
//! libtest-mimic takes the same arguments (filters, `--skip`, `--exact`,
//! `--include-ignored`, `--list`, `--test-threads`). Tests are plain functions listed
//! in [`TESTS`] below; one left out of the list is never called, which the
//! `dead_code` lint (an error under `clippy -D warnings`) reports.
// The tests unwrap like `#[test]` functions do; clippy's allow-unwrap-in-tests does not
// see them as tests without `#[test]`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod bad_input;
mod campaign;
mod cli;
mod coordinated_omission;
mod faults;
mod fd_limits;
mod hostile;
mod html_report;
mod integrity;
mod integrity_protocols;
mod limits;
mod protocols;
mod ramp;
mod report_safety;
mod scaling;
mod soak;
mod starvation;
mod store_media;
mod supervision;
mod workloads;

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use support::needs::{self, Decision, Need};

/// A test: its name (`module::function`), what it needs from the machine, its body.
type Test = (&'static str, &'static [Need], fn());

/// `module::test` or `module::test needs [Redis, …]`, in the order they run.
macro_rules! tests {
    ($($first:ident $(:: $rest:ident)* $(needs [$($need:ident),*])?),* $(,)?) => {
        &[$((
            concat!(stringify!($first) $(, "::", stringify!($rest))*),
            &[$($(Need::$need),*)?],
            $first $(:: $rest)*,
        )),*]
    };
}

const TESTS: &[Test] = tests![
    support::needs::tests::a_missing_program_fails_with_the_install_hint,
    support::needs::tests::a_present_program_is_found,
    bad_input::the_unsafe_file_endpoint_is_no_go_and_the_escaped_file_is_named,
    bad_input::the_safe_file_endpoint_is_go_on_the_same_corpus,
    bad_input::slowloris_without_a_header_timeout_is_reported_within_the_phase_and_the_socket_cap,
    bad_input::a_server_answering_garbage_never_makes_gonogo_panic_or_hang,
    bad_input::nginx_serving_a_directory_passes_the_corpus_with_no_finding_and_no_escape needs [Nginx],
    campaign::healthy_service_is_go_with_evidence_stored,
    campaign::latency_above_the_threshold_is_no_go_naming_the_criterion,
    campaign::a_crash_is_no_go_with_the_crash_event,
    campaign::a_service_that_exits_before_ready_could_not_run_in_every_report,
    campaign::too_few_samples_is_inconclusive,
    campaign::interrupting_gonogo_leaves_an_aborted_run_and_no_service_behind,
    campaign::a_killed_gonogo_leaves_a_readable_aborted_run_and_no_service_behind,
    cli::a_stored_run_re_renders_identically_and_its_json_matches_the_schema,
    cli::evaluate_re_judges_stored_evidence_and_runs_lists_it,
    cli::check_accepts_a_good_spec_and_names_the_line_of_a_bad_one,
    cli::non_loopback_targets_are_refused_without_allow_remote,
    cli::every_example_spec_passes_check,
    cli::the_store_is_found_from_below_outputs_are_checked_first_and_progress_is_plain,
    coordinated_omission::a_one_second_stall_shows_in_response_time_as_the_analytic_p99,
    faults::a_latency_fault_shows_in_the_latency_of_its_window_and_the_service_recovers,
    faults::a_blackhole_produces_timeouts_and_then_recovery,
    faults::a_kill_restarts_the_service_and_is_not_a_crash,
    fd_limits::connections_beyond_the_hard_limit_are_refused_by_check_and_run_before_the_service_starts,
    fd_limits::connections_within_the_hard_limit_pass_check_and_run_without_a_connect_error,
    hostile::a_slow_endless_body_is_cut_at_the_timeout,
    hostile::a_fast_endless_body_is_cut_at_the_timeout_and_its_bytes_counted,
    hostile::one_byte_per_second_is_cut_at_the_timeout,
    hostile::a_silent_server_that_never_closes_is_cut_at_the_timeout,
    hostile::slow_endless_interim_responses_are_refused_before_the_timeout,
    hostile::fast_endless_interim_responses_are_refused_at_once,
    hostile::a_run_stopped_while_every_connection_is_held_counts_the_unsent_as_stopped,
    html_report::hostile_names_and_service_arguments_are_escaped_in_the_html_report needs [Chromium],
    html_report::report_against_another_run_shows_each_criterion_side_by_side,
    html_report::the_html_report_opens_offline_in_chromium_with_every_chart_drawn needs [Chromium],
    html_report::a_ramp_soak_and_fault_run_draws_capacity_steps_soak_trend_and_recovery_in_chromium needs [Chromium],
    integrity::durable_writes_survive_a_sigkill_and_the_phase_passes,
    integrity::in_memory_writes_are_lost_to_a_sigkill_and_counted,
    integrity::a_network_fault_makes_writes_indeterminate_and_the_counts_add_up,
    integrity_protocols::redis_with_fsynced_aof_keeps_every_acknowledged_write_through_a_sigkill needs [Redis],
    integrity_protocols::redis_without_persistence_loses_the_writes_acknowledged_before_a_sigkill needs [Redis],
    integrity_protocols::postgres_with_fsync_keeps_every_committed_insert_through_a_sigkill needs [Postgres],
    integrity_protocols::integrity_clients_wait_for_a_server_that_is_still_starting needs [Redis],
    limits::service_rss_ceiling_stops_the_campaign_and_fails_the_verdict,
    protocols::a_redis_set_and_get_campaign_is_go_with_latency_and_bytes_recorded needs [Redis],
    protocols::redis_error_replies_are_failures_and_fail_the_error_rate_criterion needs [Redis],
    protocols::a_postgres_insert_and_select_campaign_is_go needs [Postgres],
    protocols::a_postgres_error_is_a_status_mismatch needs [Postgres],
    protocols::redis_refused_connections_are_connect_errors,
    protocols::integrity_clients::redis_kv_writes_reads_and_lists needs [Redis],
    protocols::integrity_clients::postgres_kv_writes_reads_and_lists needs [Postgres],
    ramp::ramp_climbs_until_the_service_breaks_and_reports_capacity_and_headroom,
    report_safety::hostile_names_make_no_markup_in_the_markdown_report,
    report_safety::a_hostile_status_line_and_stderr_from_the_service_make_no_markup_in_the_reports,
    scaling::a_per_item_cost_shows_as_latency_growing_with_the_data_set,
    scaling::without_a_per_item_cost_latency_is_not_called_super_linear,
    soak::per_request_leak_is_flagged_within_a_short_soak,
    soak::one_time_cache_growth_that_plateaus_is_not_flagged,
    soak::growth_that_plateaus_inside_the_window_is_not_a_leak,
    soak::steady_service_is_not_flagged,
    starvation::a_busy_neighbour_on_gonogos_core_is_inconclusive_not_no_go,
    starvation::cgroup_throttling_of_gonogo_is_inconclusive_not_no_go,
    starvation::a_stopped_gonogo_is_inconclusive_not_no_go,
    starvation::the_same_campaign_unstarved_is_go,
    starvation::a_slow_service_is_still_no_go_when_gonogo_has_cpu_to_spare,
    starvation::a_ramp_gives_no_capacity_at_a_starved_step,
    starvation::the_same_ramp_unstarved_reaches_its_top,
    store_media::a_full_disk_stops_the_run_and_the_full_store_still_reads,
    store_media::a_store_on_a_read_only_mount_is_read_and_run_and_evaluate_are_refused,
    store_media::a_killed_run_archived_read_only_reads_as_writer_gone,
    store_media::two_runs_writing_one_new_store_at_once_both_land,
    store_media::a_gonogo_killed_while_its_final_writes_wait_leaves_a_readable_store,
    store_media::a_store_held_locked_past_the_busy_timeout_stops_the_run_clearly,
    supervision::a_fixed_port_held_by_another_program_is_refused_and_gets_no_load,
    supervision::a_listener_that_is_not_the_services_is_named_and_the_service_stopped,
    supervision::a_service_exiting_during_start_up_could_not_start_and_shows_its_stderr,
    supervision::a_shell_wrapper_service_leaves_nothing_behind_a_killed_gonogo,
    supervision::a_double_forking_service_leaves_nothing_behind_a_killed_gonogo,
    supervision::a_setsid_service_leaves_nothing_behind_a_killed_gonogo,
    workloads::a_redis_scaling_phase_loads_with_set needs [Redis],
    workloads::a_postgres_scaling_phase_loads_with_insert needs [Postgres],
    workloads::a_redis_integrity_phase_reads_back_every_write needs [Redis],
    workloads::a_postgres_integrity_phase_reads_back_every_write needs [Postgres],
];

/// The trial of one test: with a program it needs missing, ignored (reason: the
/// install hint) when `GONOGO_SKIP_MISSING=1`, failed with the hint otherwise.
fn trial(&(name, needs, body): &Test) -> Trial {
    Trial::ignorable_test(name, move || {
        let missing = needs::first_missing(needs);
        match needs::decide(missing, needs::skip_missing_requested()) {
            Decision::Run => {
                body();
                Ok(Completion::Completed)
            }
            Decision::Ignore(hint) => {
                eprintln!("\n!!! IGNORED {name}: {hint} !!!\n");
                Ok(Completion::ignored_with(hint))
            }
            Decision::Fail(hint) => Err(Failed::from(hint)),
        }
    })
}

fn main() {
    // This binary is also the hostile server the `hostile` campaigns start as their
    // service: `it __hostile-server KIND ADDRESS`.
    let argv: Vec<String> = std::env::args().collect();
    if let [_, arg, kind, address] = argv.as_slice()
        && arg == hostile::SERVER_ARG
    {
        hostile::serve_forever(kind, address);
        return;
    }
    if let [_, arg, kind, address] = argv.as_slice()
        && arg == bad_input::SERVER_ARG
    {
        bad_input::serve_forever(kind, address);
        return;
    }
    let args = Arguments::from_args();
    libtest_mimic::run(&args, TESTS.iter().map(trial).collect()).exit();
}
