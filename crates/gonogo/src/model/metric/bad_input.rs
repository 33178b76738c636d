//! The bad-input family: findings of a `bad_input` phase, in all and per case family.

use crate::units::Unit;

family! {
    /// A bad-input metric.
    pub enum BadInputMetric {
        /// Cases answered wrongly (5xx, hang, a 2xx to a traversal, a status outside
        /// the accepted ones, a secret echoed) plus failed post-conditions.
        Findings => "bad_input.findings", "BadInputFindings", Count;
        /// Failed post-conditions only (not ready, crashed, RSS or fds grown, files
        /// escaped, post_check failed).
        Post => "bad_input.post", "BadInputPost", Count;
        /// Files created, changed or removed outside the allowed directories.
        Escaped => "bad_input.escaped", "BadInputEscaped", Count;
        /// Findings among the traversal cases.
        Traversal => "bad_input.traversal", "BadInputTraversal", Count;
        /// Findings among the encoding cases.
        Encoding => "bad_input.encoding", "BadInputEncoding", Count;
        /// Findings among the oversize cases.
        Oversize => "bad_input.oversize", "BadInputOversize", Count;
        /// Findings among the framing cases.
        Framing => "bad_input.framing", "BadInputFraming", Count;
        /// Findings among the method cases.
        Method => "bad_input.method", "BadInputMethod", Count;
        /// Findings among the body cases.
        Body => "bad_input.body", "BadInputBody", Count;
        /// Findings among the slowloris and slow-read cases.
        Slow => "bad_input.slow", "BadInputSlow", Count;
    }
}

impl BadInputMetric {
    /// The case family the metric counts, for the per-family metrics.
    pub fn family(self) -> Option<crate::model::CaseFamily> {
        use crate::model::CaseFamily as F;
        match self {
            BadInputMetric::Findings | BadInputMetric::Post | BadInputMetric::Escaped => None,
            BadInputMetric::Traversal => Some(F::Traversal),
            BadInputMetric::Encoding => Some(F::Encoding),
            BadInputMetric::Oversize => Some(F::Oversize),
            BadInputMetric::Framing => Some(F::Framing),
            BadInputMetric::Method => Some(F::Method),
            BadInputMetric::Body => Some(F::Body),
            BadInputMetric::Slow => Some(F::Slow),
        }
    }
}
