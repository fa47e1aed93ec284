//! The kit against a real ciba-idp: every promise kept, Duende's forgetting caught, and each promise
//! broken on purpose by a proxy.

mod against_idp;
mod faults;
mod support;
