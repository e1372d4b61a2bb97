//! Diagnostic codes of `hac plan` (E09xx): changes to a live cluster that cannot be made
//! safely. Explained in compiler/check/src/explanations.md.

hac_core::diagnostic_kinds! {
    /// The codes of `hac plan` and `hac build --from`.
    pub enum PlanCode {
        OtherCluster = "E0901",
        EtcdTopologyChange = "E0902",
        EtcdFaultToleranceLost = "E0903",
        EtcdMemberMoved = "E0904",
        KubernetesMinorSkipped = "E0905",
        KubernetesDowngrade = "E0906",
        NoControlPlaneKept = "E0907",
        EndpointChange = "E0908",
        CaRotation = "E0909",
        StateUnreadable = "E0910",
        FailedNodeUnknown = "E0911",
        EtcdQuorumLost = "E0912",
        UpgradeWithMembershipChange = "E0913",
        NodeRoleChange = "E0914",
    }
}
