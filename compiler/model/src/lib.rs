//! The typed cluster model of `shared/spec/cluster.md`: plain types that every stage after
//! evaluation reads, plus the derived facts several stages share (etcd members, keepalived
//! holders and priorities, the control-plane endpoint, the kubeadm API version), and the
//! plain types that flow between the later stages (issued PKI, rendered bundle).
//!
//! `archive` says which files each node's archive holds (the least-privilege table): pki
//! issues and render writes exactly its rows.
//!
//! `spelled` declares the enumerations a cluster file spells as strings (each once: variants,
//! spellings, default, noun).
//!
//! `schema` lists every attribute of a cluster file (type, default, allowed values, codes,
//! example): the converter reads its attribute names, ranges and defaults from it, `hac reference`
//! prints it.
//!
//! The model is built by `hac_check::convert` and then checked by `hac_check::rules`; code
//! that receives a `Cluster` after checking may rely on the rules having passed.

pub mod archive;
mod artifact;
mod cluster;
mod components;
mod derived;
mod hosts;
pub mod samples;
pub mod schema;
mod spelled;

pub use archive::{AUDIT_POLICY_PATH, ENCRYPTION_CONFIG_PATH, OIDC_CA_PATH};
pub use artifact::{
    Artifact, BootstrapToken, Bundle, IssuedPki, RenderSecrets, VrrpPassword, VRRP_PASSWORD_MAX,
};
pub use cluster::*;
pub use components::*;
pub use derived::*;
pub use hosts::*;
pub use spelled::Spelled;
