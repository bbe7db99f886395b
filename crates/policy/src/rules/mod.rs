//! One rule per file. Each rule only adds [`crate::Reason`]s; [`crate::Policy::decide`] runs them
//! in a fixed order and [`crate::Decision::from_reasons`] turns them into a verdict.

pub mod caps;
pub mod classified;
pub mod consent;
pub mod content;
pub mod duplicate;
pub mod number;
pub mod quiet_hours;
pub mod rates;
pub mod suspension;
