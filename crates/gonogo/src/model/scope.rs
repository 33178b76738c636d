//! What evidence a criterion judges: one phase, the whole run, a pair (baseline
//! against candidate) or external evidence.
//!
//! Owns: [`Scope`], which plans resolve and findings carry. Does not own: resolving
//! it (`plan::resolve::criterion`) or judging it (`evaluate`).

use serde::{Deserialize, Serialize};

/// The evidence a criterion reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// One phase's evidence (`phase = "x"`).
    Phase { name: String },
    /// The whole run (`scope = "run"`).
    Run,
    /// Two phases compared (`compare = { baseline = "a", candidate = "b" }`).
    Pair { baseline: String, candidate: String },
    /// Evidence gonogo did not measure, by name (`external = "name"`).
    External { name: String },
}

impl Scope {
    /// The phase, for a phase scope.
    pub fn phase(&self) -> Option<&str> {
        match self {
            Scope::Phase { name } => Some(name),
            Scope::Run | Scope::Pair { .. } | Scope::External { .. } => None,
        }
    }

    /// How labels and findings name the scope: the phase, `run`, `a vs b`,
    /// `external name`.
    pub fn label(&self) -> String {
        match self {
            Scope::Phase { name } => name.clone(),
            Scope::Run => "run".to_string(),
            Scope::Pair {
                baseline,
                candidate,
            } => format!("{baseline} vs {candidate}"),
            Scope::External { name } => format!("external {name}"),
        }
    }
}
