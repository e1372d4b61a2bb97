//! The diagnostic codes the render stage raises (E07xx / W07xx) and their long explanations,
//! for `hac explain` (the CLI can list [`EXPLANATIONS`] beside hac-check's).

hac_core::diagnostic_kinds! {
    /// The render stage's codes (E07xx / W07xx).
    pub enum RenderCode {
        /// A node's cloud-init user-data is over 16 KiB.
        UserDataTooLarge = "W0701",
        /// A template or serializer failed: a bug in hac, not in the input.
        RenderBug = "E0703",
        /// A node's user-data carries private keys (`outputs.cloudInitKeys = "inline"`).
        KeysInUserData = "W0706",
    }
}

/// (code, explanation) of every render-stage code.
pub const EXPLANATIONS: &[(&str, &str)] = &[
    (
        RenderCode::UserDataTooLarge.code(),
        "W0701 cloud-init user-data over 16 KiB\n\n\
         EC2 (and several other clouds) refuse user-data larger than 16 KiB. A node's\n\
         user-data carries every file of its archive (readable text as is, private and binary\n\
         files gzipped and base64-encoded), so a control plane with its certificates, keys\n\
         and kubeconfigs can exceed it. hac packs the readable files that shrink most\n\
         (`gz+b64`) until it fits, and failing that writes cloud-init/NODE.yaml.gz beside the\n\
         readable file, to be uploaded instead (cloud-init unpacks gzip user-data). This\n\
         warning means even that gzip is over 16 KiB.\n\n\
         Fix: provision that node with the Ansible play (outputs.ansible), or have its\n\
         user-data fetch the bundle's files.",
    ),
    (
        RenderCode::KeysInUserData.code(),
        "W0706 cloud-init user-data carries private keys\n\n\
         With `outputs.cloudInitKeys = \"inline\"` a node's user-data holds its private\n\
         files: keys, kubeconfigs, the bootstrap token, keepalived's VRRP password (on a\n\
         control plane: the cluster CA's key). Most clouds serve user-data through the\n\
         instance metadata service (169.254.169.254) to any process on the instance that\n\
         can reach it, pods included unless it is blocked (e.g. EC2's IMDSv2 with a hop\n\
         limit of 1), keep it in their API for whoever may describe the instance, and\n\
         cloud-init stores a copy under /var/lib/cloud.\n\n\
         Fix: `outputs.cloudInitKeys = \"separate\";` (the default). The user-data then\n\
         carries only readable files; `cloud-init/<node>-keys.tar.gz` (0600) holds the rest.\n\
         Copy it to the host as /root/hac-keys.tar.gz (scp, or a secrets manager's agent):\n\
         bootstrap.sh waits for it (HAC_WAIT_TRIES x HAC_WAIT_SECONDS, 90 x 10 s by\n\
         default), unpacks it without touching existing folders, deletes it and goes on.",
    ),
    (
        RenderCode::RenderBug.code(),
        "E0703 hac failed to render one of its own files\n\n\
         An embedded template or serializer failed, or the issued PKI does not hold\n\
         exactly the files the archive table gives the node. This is a bug in hac, not in your cluster description: please\n\
         report it with the .ha file (never the secrets file).",
    ),
];

/// The explanation of `code`, if it is a render-stage code.
pub fn explain(code: &str) -> Option<&'static str> {
    EXPLANATIONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, e)| *e)
}
