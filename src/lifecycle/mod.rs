//! The accounts' lifecycle (PRODUCT.md §9.4): re-verification, ends, and ending.

pub mod plan;
mod settings;

pub use settings::LifecycleSettings;
