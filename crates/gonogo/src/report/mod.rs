//! STUB — replaced by the report implementation.
