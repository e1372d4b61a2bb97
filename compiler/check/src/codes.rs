//! The stable diagnostic codes of the cluster model and its rules, in one place so that the
//! converter, the rules, the tests and `hac explain` cannot drift apart.
//!
//! E01xx conversion (data → model), E02xx quorum / topology / zones / roles, E03xx addresses /
//! CIDRs / SANs, E04xx load balancer / VRRP / ports, E05xx versions / PKI. Warnings use the
//! same numbering with a `W`.

hac_core::diagnostic_kinds! {
    /// The codes of the cluster model and its rules (conversion, quorum, addresses, load
    /// balancer, versions and PKI, component settings).
    pub enum CheckCode {
        // Conversion.
        WrongType = "E0101",
        MissingAttribute = "E0102",
        UnknownAttribute = "E0103",
        InvalidEnum = "E0104",
        Malformed = "E0105",
        OutOfRange = "E0106",
        InvalidValue = "E0107",
        /// An `extraArgs` flag that hac sets itself.
        ReservedFlag = "E0108",
        /// `network.cni.manifest` cannot be read (missing, not a regular file, not UTF-8).
        CniManifestUnreadable = "E0109",
        /// `network.cni.manifest` lies outside the import sandbox.
        CniManifestOutside = "E0110",
        /// `network.cni.manifest` is not a Kubernetes manifest, or is too large.
        CniManifestInvalid = "E0111",

        // Quorum, topology, zones, roles.
        SingleEtcdMember = "E0201",
        TwoEtcdMembers = "E0202",
        EvenEtcdMembers = "E0203",
        ExternalTooFewEtcd = "E0204",
        ExternalTooFewControlPlanes = "E0205",
        NoControlPlane = "E0206",
        EtcdRoleWithStacked = "E0207",
        NodeWithoutRole = "E0208",
        LoadBalancerRoleUnused = "E0209",
        TooManyEtcdMembers = "W0201",
        ZoneLossBreaksControlPlane = "W0202",

        // Addresses, CIDRs, SANs.
        DuplicateAddress = "E0301",
        DuplicateName = "E0302",
        InvalidName = "E0303",
        VipOutsideSubnet = "E0304",
        VipIsNodeAddress = "E0305",
        VipInClusterCidr = "E0306",
        CidrOverlap = "E0307",
        ServiceCidrTooLarge = "E0308",
        PodCidrTooSmall = "E0309",
        InvalidSan = "E0310",
        InvalidEndpoint = "E0311",
        AddressWithoutPrefix = "E0312",
        InvalidDnsDomain = "E0313",
        KubeletRestrictedLabel = "E0314",

        // Load balancer, VRRP, ports.
        DedicatedWithoutLoadBalancer = "E0401",
        RouterIdOutOfRange = "E0402",
        PriorityOutOfRange = "E0403",
        DuplicatePriority = "E0404",
        NotOneMaster = "E0405",
        FailoverImpossible = "E0406",
        PortConflict = "E0408",
        ExternalWithoutAddress = "E0409",
        VipWithExternalLoadBalancer = "E0413",
        MissingVip = "E0410",
        VipPortMismatch = "E0411",
        DedicatedWithoutProxy = "E0412",
        SingleDedicatedLoadBalancer = "W0401",

        // Versions and PKI.
        KubernetesVersionUnsupported = "E0501",
        LeafOutlivesCa = "E0502",
        EtcdVersionUnsupported = "E0503",
        CertificatesNotValidNow = "W0501",
        CertificatesExpired = "E0504",
        CertificatesExpireSoon = "W0502",

        // Component settings.
        WeakeningSetting = "W0801",
        OidcWithoutAudit = "W0802",
    }
}
