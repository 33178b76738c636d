//! The analysis charts of the report model — capacity steps, soak trends, recovery
//! times — and the links from findings to them.
//!
//! Owns: reading the settings those charts need (stop conditions, leak plan,
//! `recovered_when`) from the spec the run was recorded with (its text is in the
//! manifest; parsing it is pure), and pointing each capacity, leak and recovery
//! finding at the chart it was computed from. Does not own: the charts (one module
//! each) nor the timeline.

use std::path::Path;

use crate::model::{Finding, Metric, RunEvidence};
use crate::plan::Plan;

use super::model::ReportModel;
use super::{capacity_chart, recovery_chart, soak_chart, timeline};

/// Fill the model's analysis charts and link the findings to them.
pub(super) fn attach(model: &mut ReportModel, evidence: &RunEvidence, findings: &[Finding]) {
    let manifest = &evidence.manifest;
    // A run recorded before its spec could be parsed by this version still renders,
    // with default settings.
    let plan: Option<Plan> =
        crate::plan::from_str(Path::new(&manifest.spec_path), &manifest.spec_text).ok();
    model.capacity = capacity_chart::build(evidence, plan.as_ref());
    model.soak = soak_chart::build(evidence, findings, plan.as_ref(), timeline::POINT_CAP);
    model.recovery = recovery_chart::rows(evidence, plan.as_ref());
    for (row, finding) in model.findings.iter_mut().zip(findings) {
        if let Some(chart) = chart_of(
            model_ids(&model.capacity, &model.soak, &model.recovery),
            finding,
        ) {
            row.chart = Some(chart);
        }
    }
}

/// The headline of each analysis chart (capacity steps, soak trends, recovery) in
/// words, for the text reports.
pub(super) fn headlines(model: &ReportModel) -> Vec<String> {
    model
        .capacity
        .iter()
        .map(|c| c.headline())
        .chain(model.soak.iter().map(|s| s.headline()))
        .chain(recovery_chart::headline(&model.recovery))
        .collect()
}

/// The ids of the analysis charts present.
struct Ids<'a> {
    capacity: Vec<&'a str>,
    soak: Vec<&'a str>,
    recovery: bool,
}

fn model_ids<'a>(
    capacity: &'a [capacity_chart::CapacityChart],
    soak: &'a [soak_chart::SoakTrend],
    recovery: &[recovery_chart::RecoveryRow],
) -> Ids<'a> {
    Ids {
        capacity: capacity.iter().map(|c| c.id.as_str()).collect(),
        soak: soak.iter().map(|c| c.id.as_str()).collect(),
        recovery: !recovery.is_empty(),
    }
}

/// The analysis chart a finding was computed from, when the report has it.
fn chart_of(ids: Ids<'_>, finding: &Finding) -> Option<String> {
    if finding.implicit {
        return None;
    }
    let wanted = match finding.metric {
        Metric::CapacityLastGoodRate | Metric::CapacityFirstBadRate | Metric::Headroom => {
            format!("capacity-{}", finding.phase)
        }
        Metric::RecoveryTime if ids.recovery => "recovery".to_string(),
        metric => {
            let (resource, _) = metric.leak()?;
            format!("soak-{}-{}", finding.phase, resource.name())
        }
    };
    (wanted == "recovery"
        || ids.capacity.contains(&wanted.as_str())
        || ids.soak.contains(&wanted.as_str()))
    .then_some(wanted)
}
