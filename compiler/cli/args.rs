//! The command-line grammar (clap). Every command's `--help` carries an example.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "hac",
    version,
    about = "Compile a highly available Kubernetes control plane from a .ha file",
    long_about = "hac evaluates a cluster description written in .ha (a pure subset of the Nix \
language), enforces the quorum, network and load-balancer rules, and emits a reproducible bundle: \
one archive per host with its certificates, systemd units, keepalived/haproxy/nginx configs and \
kubeadm configuration, plus cloud-init user-data and an Ansible inventory and play.",
    after_help = "Example:\n  hac secrets init cluster.ha\n  hac check cluster.ha\n  hac build cluster.ha -o out/prod\n  hac graph cluster.ha -o topology.svg"
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Common {
    /// How diagnostics are printed on stderr.
    #[arg(long, global = true, value_enum, default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,
    /// Treat warnings as errors.
    #[arg(long, global = true)]
    pub deny_warnings: bool,
    /// When to colour diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Print only diagnostics (no progress, no report).
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageFormat {
    Human,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// One reproducible hosts/<node>.tar.gz per node.
    Tar,
    /// Plain folders hosts/<node>/… (reviewable in git).
    Tree,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check the cluster, then write the bundle.
    #[command(
        after_help = "Example:\n  hac build cluster.ha                # → out/<name>/, secrets from cluster.secrets\n  hac build cluster.ha -o out/prod --format tree"
    )]
    Build {
        /// The cluster file.
        file: PathBuf,
        /// Output folder (default: out/<name>).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// The secrets file (default: FILE with .ha replaced by .secrets).
        #[arg(long)]
        secrets: Option<PathBuf>,
        /// Archives or plain folders.
        #[arg(long, value_enum, default_value_t = OutputFormat::Tar)]
        format: OutputFormat,
        /// The bundle running today (an output folder of `hac build`, archives or tree, or
        /// the `.ha` file it was built from): its state says which etcd members exist, so
        /// new ones start as `existing`, and a VIP or endpoint port that moves is served
        /// beside the running one until a later build.
        #[arg(long, value_name = "BUNDLE|FILE.ha")]
        from: Option<PathBuf>,
        /// A node of the live cluster that is down for good (host gone or data lost), as
        /// given to `hac plan --failed`: its etcd member rejoins empty, as `existing`
        /// (repeatable; needs --from).
        #[arg(long, value_name = "NODE", requires = "from")]
        failed: Vec<String>,
        #[command(flatten)]
        clock: ClockFlags,
        #[command(flatten)]
        eval: EvalFlags,
    },
    /// Plan the change of a live cluster: the ordered steps, per host, from the bundle it runs
    /// (--from) to this build, each with the availability it leaves; refuses changes that
    /// cannot be made safely.
    #[command(
        long_about = "Plan the change of a live cluster from the bundle it runs (--from, an output \
folder of `hac build`) to this build: ordered steps, per host, one membership change at a time \
(failed nodes forgotten first with --failed, a new VIP or endpoint port served beside the old \
one, haproxy and nginx swapped, a new endpoint published, workers, external etcd members as \
learners, control planes, load-balancer backends, the Kubernetes upgrade, renewed \
certificates, CAs renewed under the same key or rotated to new keys in two builds), each with the availability after it (etcd members and those down, \
quorum, failures tolerated, apiservers behind the load balancer). Changes that cannot be made \
safely are refused with an E09xx diagnostic (`hac explain E0903`). Writes nothing.\n\nExit \
status: 0 a plan (or nothing to do) was printed, 1 the change is refused or the input is wrong, \
2 --from is not a bundle, 3 an I/O failure.",
        after_help = "Example:\n  hac build cluster.ha -o deploy/prod          # what runs today\n  # … edit cluster.ha: 3 → 5 etcd members …\n  hac plan cluster.ha --from deploy/prod\n  hac build cluster.ha --from deploy/prod -o deploy/prod"
    )]
    Plan {
        /// The cluster file (the change).
        file: PathBuf,
        /// The bundle the live cluster runs (an output folder of `hac build`), or the `.ha`
        /// file it was built from (with its secrets file beside it).
        #[arg(long, value_name = "BUNDLE|FILE.ha")]
        from: PathBuf,
        /// A node of the live cluster that is down for good (its host gone or its data
        /// lost): its etcd member is removed and its Node deleted first, and, when this build
        /// keeps it, it joins again as a new node (repeatable). Build with the same --failed.
        #[arg(long, value_name = "NODE")]
        failed: Vec<String>,
        /// The secrets file (default: FILE with .ha replaced by .secrets).
        #[arg(long)]
        secrets: Option<PathBuf>,
        /// Words for people, or one JSON object for tools.
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
        /// Also write an Ansible play running the steps in order, a health gate after each
        /// (e.g. -o deploy/plan.yml beside the new bundle's ansible/).
        #[arg(long, value_name = "FILE")]
        play: Option<PathBuf>,
        #[command(flatten)]
        clock: ClockFlags,
        #[command(flatten)]
        eval: EvalFlags,
    },
    /// Evaluate and enforce every rule without writing; print the availability report.
    #[command(
        after_help = "Example:\n  hac check cluster.ha\n  hac check cluster.ha --deny-warnings --message-format json"
    )]
    Check {
        file: PathBuf,
        #[command(flatten)]
        clock: ClockFlags,
        #[command(flatten)]
        eval: EvalFlags,
    },
    /// Draw the cluster as SVG: zones as columns, nodes and roles, the VIP and its failover
    /// order, load balancers and backends, the etcd quorum, what each zone's loss leaves, and
    /// the report's warnings in red (the picture every bundle holds as topology.svg). Needs no
    /// secrets file.
    #[command(
        after_help = "Example:\n  hac graph cluster.ha -o topology.svg\n  hac graph cluster.ha > topology.svg   # the same picture on stdout"
    )]
    Graph {
        /// The cluster file.
        file: PathBuf,
        /// Write the SVG to this file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        eval: EvalFlags,
    },
    /// Evaluate a .ha file and print its value, deep-forced.
    #[command(after_help = "Example:\n  hac eval cluster.ha --json -A nodes.master-0")]
    Eval {
        file: PathBuf,
        /// Print JSON (as `nix-instantiate --eval --strict --json`).
        #[arg(long, conflicts_with = "yaml")]
        json: bool,
        /// Print YAML.
        #[arg(long)]
        yaml: bool,
        /// Select an attribute path of the value, e.g. `nodes.master-0`.
        #[arg(short = 'A', long = "attr")]
        attr: Option<String>,
        #[command(flatten)]
        eval: EvalFlags,
    },
    /// Manage the secrets file (root secret, VRRP password, bootstrap token, adopted CA).
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Print the long explanation of a diagnostic code, or list every code.
    #[command(
        after_help = "Example:\n  hac explain E0201\n  hac explain --list",
        group(clap::ArgGroup::new("what").required(true).args(["code", "list"]))
    )]
    Explain {
        /// A code such as E0201.
        code: Option<String>,
        /// List every diagnostic code with its one-line title.
        #[arg(long)]
        list: bool,
    },
    /// Print the reference of every cluster-file attribute and library function (Markdown).
    #[command(after_help = "Example:\n  hac reference > docs/reference.md")]
    Reference,
    /// Format .ha files in place (comments kept); --check only lists the files that would change.
    #[command(after_help = "Example:\n  hac fmt cluster.ha\n  hac fmt --check *.ha")]
    Fmt {
        /// The .ha files to format.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write nothing; exit 1 and list the files that are not formatted.
        #[arg(long)]
        check: bool,
    },
    /// List what a built archive or tree holds: files, modes, certificates.
    #[command(after_help = "Example:\n  hac inspect out/prod/hosts/master-0.tar.gz")]
    Inspect {
        /// A hosts/<node>.tar.gz archive, a hosts/<node>/ folder, or a whole output folder.
        path: PathBuf,
    },
    /// Say, per host and in words, what changed between two built bundles.
    #[command(
        long_about = "Say, per host and in words, what changed between two built bundles: files \
added, removed or changed (modes too), each re-issued certificate and why (subject, SANs, \
validity, issuer, key, serial), the changed lines of readable text files, and the bundle-level \
files (cloud-init, Ansible, report.txt, SHA256SUMS). Archives and trees compare alike. Files \
only their owner may read (keys, kubeconfigs, user-data) are only said to have changed: no \
contents, no digests.\n\nExit status: 0 the bundles are the same, 1 they differ, 2 an \
argument is not a readable bundle, 3 an I/O failure.",
        after_help = "Example:\n  hac build cluster.ha -o /tmp/old --format tree\n  # … edit cluster.ha …\n  hac build cluster.ha -o /tmp/new\n  hac diff /tmp/old /tmp/new"
    )]
    Diff {
        /// The bundle before the change (an output folder of `hac build`).
        old: PathBuf,
        /// The bundle after the change.
        new: PathBuf,
        /// Words for people, or one JSON object for tools.
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
    },
}

#[derive(Subcommand, Debug)]
pub enum SecretsCommand {
    /// Create the secrets file beside FILE (mode 0600); refuses to overwrite one.
    #[command(after_help = "Example:\n  hac secrets init cluster.ha   # writes cluster.secrets")]
    Init {
        /// The cluster file (cluster.ha → cluster.secrets), or the secrets file itself.
        file: PathBuf,
    },
    /// Adopt an existing cluster CA (certificate and key) into the secrets file.
    #[command(
        after_help = "Example:\n  hac secrets import-ca cluster.ha --cert ca.crt --key ca.key"
    )]
    ImportCa {
        /// The cluster file (or its secrets file).
        file: PathBuf,
        #[arg(long)]
        cert: PathBuf,
        #[arg(long)]
        key: PathBuf,
    },
}

/// The one read of the clock: certificate expiry (W0502 soon, E0504 expired).
#[derive(Args, Debug, Clone, Default)]
pub struct ClockFlags {
    /// Build or check even when a certificate has already expired (E0504 becomes W0501).
    #[arg(long)]
    pub allow_expired: bool,
}

#[derive(Args, Debug, Clone, Default)]
pub struct EvalFlags {
    /// Let imports read this directory too (repeatable); the default sandbox is the root
    /// file's directory tree.
    #[arg(long = "allow-path", value_name = "DIR")]
    pub allow_paths: Vec<PathBuf>,
    /// Stop evaluation after this many steps (thunks forced and functions called; default
    /// 100,000,000): ends runaway recursion with E0020.
    #[arg(long = "max-eval-steps", value_name = "N")]
    pub max_eval_steps: Option<u64>,
    /// Stop evaluation when its values take about this many MiB (default 1024): ends runaway
    /// strings and lists with E0021.
    #[arg(long = "max-memory", value_name = "MIB")]
    pub max_memory: Option<u64>,
}
