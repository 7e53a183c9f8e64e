//! # nsbootstrap-conformance
//!
//! Checks implementations of the namespace-bootstrap protocol against `spec/`. This release holds the
//! codec level: the spec's test vectors ([`vectors`]), which any decoder or encoder can be run against.

#![warn(missing_docs)]

pub mod vectors;
