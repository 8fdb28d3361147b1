//! The figures of benchmarks 1, 3 and 4 as numbers, per store size (`points.json`), from
//! which `myintress-bench-growth` draws how their cost grows with the number of memberships.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Point {
    /// What is measured, e.g. `1 initial sync`; the same text at every size.
    pub series: String,
    /// The unit of `value`, e.g. `µs per row`.
    pub unit: String,
    /// Memberships in the store the figure was measured on.
    pub rows: usize,
    pub value: f64,
}

pub const FILE: &str = "points.json";
