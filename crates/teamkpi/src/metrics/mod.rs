//! Metrics from activity: the catalogue of metric names and units, and mergeable states.

mod catalog;

pub use catalog::{MetricCatalog, MetricInfo};

/// A partial aggregate that merges with another of its kind. Merging is associative and
/// commutative, so partials computed on any split of the input, merged in any order, equal one
/// pass over all of it.
pub trait Mergeable {
    /// Folds `other` into `self`.
    fn merge(&mut self, other: &Self);
}
