//! ciba-idp over real HTTP on a loopback port: the protocol endpoints as a client library would use
//! them, and the approval API as the SPA does.

mod approval_api;
mod code_check;
mod connections;
mod durability;
mod limits;
mod logs;
mod probe;
mod protocol;
mod push;
mod sessions;
mod startup;
mod support;
