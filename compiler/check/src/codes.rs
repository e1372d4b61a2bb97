//! The stable diagnostic codes of the cluster model and its rules, in one place so that the
//! converter, the rules, the tests and `hac explain` cannot drift apart.
//!
//! E01xx conversion (data → model), E02xx quorum / topology / zones / roles, E03xx addresses /
//! CIDRs / SANs, E04xx load balancer / VRRP / ports, E05xx versions / PKI. Warnings use the
//! same numbering with a `W`.

// Conversion.
pub const WRONG_TYPE: &str = "E0101";
pub const MISSING_ATTRIBUTE: &str = "E0102";
pub const UNKNOWN_ATTRIBUTE: &str = "E0103";
pub const INVALID_ENUM: &str = "E0104";
pub const MALFORMED: &str = "E0105";
pub const OUT_OF_RANGE: &str = "E0106";
pub const INVALID_VALUE: &str = "E0107";
/// An `extraArgs` flag that hac sets itself.
pub const RESERVED_FLAG: &str = "E0108";
/// `network.cni.manifest` cannot be read (missing, not a regular file, not UTF-8).
pub const CNI_MANIFEST_UNREADABLE: &str = "E0109";
/// `network.cni.manifest` lies outside the import sandbox.
pub const CNI_MANIFEST_OUTSIDE: &str = "E0110";
/// `network.cni.manifest` is not a Kubernetes manifest, or is too large.
pub const CNI_MANIFEST_INVALID: &str = "E0111";

// Quorum, topology, zones, roles.
pub const SINGLE_ETCD_MEMBER: &str = "E0201";
pub const TWO_ETCD_MEMBERS: &str = "E0202";
pub const EVEN_ETCD_MEMBERS: &str = "E0203";
pub const EXTERNAL_TOO_FEW_ETCD: &str = "E0204";
pub const EXTERNAL_TOO_FEW_CONTROL_PLANES: &str = "E0205";
pub const NO_CONTROL_PLANE: &str = "E0206";
pub const ETCD_ROLE_WITH_STACKED: &str = "E0207";
pub const NODE_WITHOUT_ROLE: &str = "E0208";
pub const LOAD_BALANCER_ROLE_UNUSED: &str = "E0209";
pub const TOO_MANY_ETCD_MEMBERS: &str = "W0201";
pub const ZONE_LOSS_BREAKS_CONTROL_PLANE: &str = "W0202";

// Addresses, CIDRs, SANs.
pub const DUPLICATE_ADDRESS: &str = "E0301";
pub const DUPLICATE_NAME: &str = "E0302";
pub const INVALID_NAME: &str = "E0303";
pub const VIP_OUTSIDE_SUBNET: &str = "E0304";
pub const VIP_IS_NODE_ADDRESS: &str = "E0305";
pub const VIP_IN_CLUSTER_CIDR: &str = "E0306";
pub const CIDR_OVERLAP: &str = "E0307";
pub const SERVICE_CIDR_TOO_LARGE: &str = "E0308";
pub const POD_CIDR_TOO_SMALL: &str = "E0309";
pub const INVALID_SAN: &str = "E0310";
pub const INVALID_ENDPOINT: &str = "E0311";
pub const ADDRESS_WITHOUT_PREFIX: &str = "E0312";
pub const INVALID_DNS_DOMAIN: &str = "E0313";
pub const KUBELET_RESTRICTED_LABEL: &str = "E0314";

// Load balancer, VRRP, ports.
pub const DEDICATED_WITHOUT_LOAD_BALANCER: &str = "E0401";
pub const ROUTER_ID_OUT_OF_RANGE: &str = "E0402";
pub const PRIORITY_OUT_OF_RANGE: &str = "E0403";
pub const DUPLICATE_PRIORITY: &str = "E0404";
pub const NOT_ONE_MASTER: &str = "E0405";
pub const FAILOVER_IMPOSSIBLE: &str = "E0406";
pub const PORT_CONFLICT: &str = "E0408";
pub const EXTERNAL_WITHOUT_ADDRESS: &str = "E0409";
pub const VIP_WITH_EXTERNAL_LOAD_BALANCER: &str = "E0413";
pub const MISSING_VIP: &str = "E0410";
pub const VIP_PORT_MISMATCH: &str = "E0411";
pub const DEDICATED_WITHOUT_PROXY: &str = "E0412";
pub const SINGLE_DEDICATED_LOAD_BALANCER: &str = "W0401";

// Versions and PKI.
pub const KUBERNETES_VERSION_UNSUPPORTED: &str = "E0501";
pub const LEAF_OUTLIVES_CA: &str = "E0502";
pub const ETCD_VERSION_UNSUPPORTED: &str = "E0503";
pub const CERTIFICATES_NOT_VALID_NOW: &str = "W0501";
pub const CERTIFICATES_EXPIRED: &str = "E0504";
pub const CERTIFICATES_EXPIRE_SOON: &str = "W0502";

// Component settings.
pub const WEAKENING_SETTING: &str = "W0801";
pub const OIDC_WITHOUT_AUDIT: &str = "W0802";

/// Every code this crate emits (the explanations test walks it).
pub const ALL: &[&str] = &[
    WRONG_TYPE,
    MISSING_ATTRIBUTE,
    UNKNOWN_ATTRIBUTE,
    INVALID_ENUM,
    MALFORMED,
    OUT_OF_RANGE,
    INVALID_VALUE,
    RESERVED_FLAG,
    CNI_MANIFEST_UNREADABLE,
    CNI_MANIFEST_OUTSIDE,
    CNI_MANIFEST_INVALID,
    SINGLE_ETCD_MEMBER,
    TWO_ETCD_MEMBERS,
    EVEN_ETCD_MEMBERS,
    EXTERNAL_TOO_FEW_ETCD,
    EXTERNAL_TOO_FEW_CONTROL_PLANES,
    NO_CONTROL_PLANE,
    ETCD_ROLE_WITH_STACKED,
    NODE_WITHOUT_ROLE,
    LOAD_BALANCER_ROLE_UNUSED,
    TOO_MANY_ETCD_MEMBERS,
    ZONE_LOSS_BREAKS_CONTROL_PLANE,
    DUPLICATE_ADDRESS,
    DUPLICATE_NAME,
    INVALID_NAME,
    VIP_OUTSIDE_SUBNET,
    VIP_IS_NODE_ADDRESS,
    VIP_IN_CLUSTER_CIDR,
    CIDR_OVERLAP,
    SERVICE_CIDR_TOO_LARGE,
    POD_CIDR_TOO_SMALL,
    INVALID_SAN,
    INVALID_ENDPOINT,
    ADDRESS_WITHOUT_PREFIX,
    INVALID_DNS_DOMAIN,
    KUBELET_RESTRICTED_LABEL,
    DEDICATED_WITHOUT_LOAD_BALANCER,
    ROUTER_ID_OUT_OF_RANGE,
    PRIORITY_OUT_OF_RANGE,
    DUPLICATE_PRIORITY,
    NOT_ONE_MASTER,
    FAILOVER_IMPOSSIBLE,
    PORT_CONFLICT,
    EXTERNAL_WITHOUT_ADDRESS,
    VIP_WITH_EXTERNAL_LOAD_BALANCER,
    MISSING_VIP,
    VIP_PORT_MISMATCH,
    DEDICATED_WITHOUT_PROXY,
    SINGLE_DEDICATED_LOAD_BALANCER,
    KUBERNETES_VERSION_UNSUPPORTED,
    LEAF_OUTLIVES_CA,
    ETCD_VERSION_UNSUPPORTED,
    CERTIFICATES_NOT_VALID_NOW,
    CERTIFICATES_EXPIRED,
    CERTIFICATES_EXPIRE_SOON,
    WEAKENING_SETTING,
    OIDC_WITHOUT_AUDIT,
];

/// The language's codes (hac-syntax / hac-eval), documented by `hac explain` too.
pub const LANGUAGE: &[&str] = &[
    "E0001", "E0002", "E0003", "E0004", "E0005", "E0006", "E0007", "E0008", "E0009", "E0010",
    "E0011", "E0012", "E0013", "E0014", "E0015", "E0016", "E0017", "E0018", "E0019", "E0020",
    "E0021", "E0022",
];

/// Codes of later stages documented here too, so that `hac explain` knows them: the secrets
/// file and the PKI (E0601–E0611, W0601; E0601/E0602/E0610/E0611/W0601 are raised by the
/// CLI), and the bundle writer's refusals (E0704, E0705).
pub const OTHER_STAGES: &[&str] = &[
    "E0601", "E0602", "E0603", "E0604", "E0605", "E0606", "E0607", "E0608", "E0609", "E0610",
    "E0611", "W0601", "E0704", "E0705",
    // hac-plan (`hac plan`): changes to a live cluster that cannot be made safely.
    "E0901", "E0902", "E0903", "E0904", "E0905", "E0906", "E0907", "E0908", "E0909", "E0910",
    "E0911", "E0912",
];
