//! STUB — replaced by the evaluation implementation.
mod finding;

pub use finding::{Finding, Outcome, Window};

use crate::evidence::model::RunEvidence;
use crate::plan::CriterionPlan;

/// Judge every criterion against the stored evidence, plus implicit rules.
pub fn evaluate(criteria: &[CriterionPlan], evidence: &RunEvidence) -> Vec<Finding> {
    let _ = (criteria, evidence);
    todo!()
}
