//! Diagnostic codes of `hac plan` (E09xx): changes to a live cluster that cannot be made
//! safely. Explained in compiler/check/src/explanations.md.

pub const OTHER_CLUSTER: &str = "E0901";
pub const ETCD_TOPOLOGY_CHANGE: &str = "E0902";
pub const ETCD_FAULT_TOLERANCE_LOST: &str = "E0903";
pub const ETCD_MEMBER_MOVED: &str = "E0904";
pub const KUBERNETES_MINOR_SKIPPED: &str = "E0905";
pub const KUBERNETES_DOWNGRADE: &str = "E0906";
pub const NO_CONTROL_PLANE_KEPT: &str = "E0907";
pub const ENDPOINT_CHANGE: &str = "E0908";
pub const CA_ROTATION: &str = "E0909";
pub const STATE_UNREADABLE: &str = "E0910";
pub const FAILED_NODE_UNKNOWN: &str = "E0911";
pub const ETCD_QUORUM_LOST: &str = "E0912";

/// Every code this crate emits (the explanations test walks it).
pub const ALL: &[&str] = &[
    OTHER_CLUSTER,
    ETCD_TOPOLOGY_CHANGE,
    ETCD_FAULT_TOLERANCE_LOST,
    ETCD_MEMBER_MOVED,
    KUBERNETES_MINOR_SKIPPED,
    KUBERNETES_DOWNGRADE,
    NO_CONTROL_PLANE_KEPT,
    ENDPOINT_CHANGE,
    CA_ROTATION,
    STATE_UNREADABLE,
    FAILED_NODE_UNKNOWN,
    ETCD_QUORUM_LOST,
];
