//! STUB — replaced by the spec parser.
