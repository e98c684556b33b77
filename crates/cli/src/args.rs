use clap::{Args, Parser, Subcommand, ValueEnum};
use podsg_model::settings::EnforcingMode;
use std::path::PathBuf;

/// Security groups for Kubernetes pods: check and explain policies offline.
#[derive(Parser, Debug)]
#[command(
    name = "podsg",
    version,
    about,
    propagate_version = true,
    after_help = "Exit status: 0 success; 1 failure (what failed is on stderr); 2 bad input or a usage error. Each command's --help says what its statuses mean."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate manifests and warn about the pitfalls the EKS documentation
    /// warns about (DNS, probes, unused objects, quotas). Exit 1 on errors.
    #[command(
        after_help = "Exit status: 0 no errors; 1 errors (with --fail-on-warnings: or warnings); 2 a usage error."
    )]
    Check(Check),
    /// Say whether a flow would pass and which rules decide it.
    #[command(
        after_help = "Exit status: 0 whatever the verdict; 2 bad input. With --exit-code: 3 deny (for a Service: no backend or only some allow it, or none serves the port), 4 unknown."
    )]
    Explain(Explain),
    /// Draw the groups, who carries them and the rules between them (and with --matrix, who reaches whom).
    #[command(after_help = "Exit status: 0 drawn; 2 bad input or a usage error.")]
    Graph(GraphArgs),
    /// What a change does: the flows that NEW allows and OLD did not, and the reverse, with the rules that decide them.
    #[command(
        after_help = "OLD and NEW are each a directory, a file, or git:REV:PATH (PATH as of commit REV of the repository here).\n\nExit status: 0 compared (whatever changed); 1 with --fail-on-new-allow, when a flow is newly allowed; 2 bad input on either side or a usage error."
    )]
    Diff(DiffArgs),
    /// Convert other systems' security groups into podsg manifests.
    #[command(subcommand)]
    Import(Import),
    /// Run the node agent: enforce the node's pods' groups and serve the CNI plugin.
    #[command(
        after_help = "Exit status: 0 stopped by SIGTERM or SIGINT; 1 could not start or failed; 2 a usage error."
    )]
    Agent(AgentArgs),
    /// Exit 0 when the node agent has synced and serves the CNI plugin (the agent DaemonSet's readiness probe).
    #[command(after_help = "Exit status: 0 ready; 1 not ready (the reason is on stderr).")]
    Ready {
        /// The agent's socket.
        #[arg(long, value_name = "PATH", default_value = podsg_cni::config::DEFAULT_AGENT_SOCKET)]
        socket: String,
    },
    /// Install the CNI plugin and its network configuration on this node (the agent DaemonSet's init step).
    #[command(after_help = "Exit status: 0 installed; 1 could not install (the reason is on stderr); 2 a usage error.")]
    InstallCni(InstallCniArgs),
    /// Run the cluster controller: resolve pods' groups from the API, annotate pods, write events and statuses.
    #[command(
        after_help = "Exit status: 0 stopped by SIGTERM or SIGINT; 1 could not start or failed; 2 a usage error."
    )]
    Controller(ControllerArgs),
    /// Run the admission webhook (HTTPS): validate SGPs and SecurityGroups, guard the pod-eni annotation.
    #[command(
        after_help = "Exit status: 0 stopped by SIGTERM or SIGINT; 1 could not start or failed; 2 a usage error."
    )]
    Webhook(WebhookArgs),
    /// The whole system on this machine (root): nodes, pods and endpoints as network namespaces.
    #[command(
        subcommand,
        after_help = "Exit status: 0 success; 1 failure (lab check: an expectation does not hold); 2 bad input (manifests, LabSpec, LabExpectations) or a usage error; lab exec: the command's own."
    )]
    Lab(Lab),
    /// Print a shell completion script: source it, or install it where your shell looks (see the README).
    #[command(after_help = "Exit status: 0; 2 a usage error.")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write podsg's man pages (podsg.1, podsg-check.1, ...) into DIR.
    #[command(after_help = "Exit status: 0 written; 1 could not write; 2 a usage error.")]
    Man {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum Lab {
    /// Build a lab from the manifests in DIR (and its LabSpec and LabExpectations).
    #[command(
        after_help = "Exit status: 0 the lab is up; 1 a step failed (what remains is removed by lab down); 2 bad manifests (nothing was made) or a usage error."
    )]
    Up {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Apply edited manifests to the running lab: rules, SGPs and labels change at once.
    #[command(
        after_help = "Exit status: 0 applied; 1 a step failed; 2 bad manifests (nothing was changed), no lab up, or a usage error."
    )]
    Apply {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Cut established connections the new rules no longer allow (default: they continue, as on EC2).
        #[arg(long)]
        revoke_established: bool,
    },
    /// Test the LabExpectations in DIR with real connections; print a from x to matrix. Exit 0 only when all hold.
    #[command(
        after_help = "Exit status: 0 every expectation holds; 1 one does not; 2 no lab up, no expectations, or a usage error."
    )]
    Check {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// text (the matrix), json, yaml, or html (the matrix as a page, each cell's checks on hover).
        #[arg(long, short, value_enum, default_value = "text")]
        output: LabCheckOutput,
    },
    /// Run a command in a pod's (NAMESPACE/NAME; a workload: its first pod), a member's or a node's namespace.
    #[command(after_help = "Exit status: the command's own; 2 no such target or no lab up.")]
    Exec {
        #[arg(value_name = "TARGET")]
        target: String,
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Show the connections the nodes' dataplanes refused and logged (pods annotated podsg.io/log-denied: "true", or all with LabSpec logDenied).
    #[command(
        after_help = "Exit status: 0 (also when nothing was logged); 2 no lab up, no such pod, or a usage error."
    )]
    Logs {
        /// Only refused connections (today the only lines there are; kept for when allowed ones are logged too).
        #[arg(long)]
        denied: bool,
        /// Only this pod's (NAMESPACE/NAME of a pod or workload).
        #[arg(long, value_name = "NAMESPACE/NAME")]
        pod: Option<String>,
        #[arg(long, short, value_enum, default_value = "text")]
        output: Output,
    },
    /// Print a node's agent's Prometheus metrics (every node's without NODE): CNI requests, enforcement, and the dataplane's counters of new connections per pod and per rule.
    #[command(after_help = "Exit status: 0; 1 an agent cannot be reached; 2 no lab up or no such node.")]
    Metrics {
        #[arg(value_name = "NODE")]
        node: Option<String>,
    },
    /// Show the running lab.
    #[command(after_help = "Exit status: 0 (also when no lab is up); 1 the lab's state cannot be read.")]
    Status,
    /// Remove everything the lab made (also after a crash).
    #[command(after_help = "Exit status: 0 removed; 1 something could not be removed (it is named).")]
    Down,
    /// Serve echo on ADDRESS:PORT in the current namespace (the lab's stand-in service).
    #[command(hide = true)]
    Echo {
        #[arg(long)]
        udp: bool,
        #[arg(long)]
        tcp: bool,
        address: std::net::SocketAddr,
    },
    /// Serve HTTP GET on ADDRESS:PORT in the current namespace, answering with NAME (the lab's stand-in web server).
    #[command(hide = true)]
    HttpServe {
        address: std::net::SocketAddr,
        #[arg(long)]
        name: String,
    },
    /// GET http://HOST:PORT/ as curl would, names resolved by this namespace's resolver; exit 1 without an answer.
    #[command(hide = true)]
    HttpGet {
        host: String,
        port: u16,
        #[arg(long, default_value_t = 1500)]
        timeout_ms: u64,
    },
}

#[derive(Args, Debug)]
pub struct AgentArgs {
    /// This node's name (as in its Node object).
    #[arg(long, value_name = "NAME")]
    pub node_name: String,
    /// This node's own IPv4 address: the source of its traffic to pods, a member of the default groups.
    #[arg(long, value_name = "IP")]
    pub node_address: std::net::Ipv4Addr,
    /// The node's pod range for standalone mode, e.g. 10.1.0.0/24 (default with --kubernetes: the Node's spec.podCIDR). Without one, only chained mode works.
    #[arg(long, value_name = "CIDR")]
    pub pod_cidr: Option<ipnet::Ipv4Net>,
    /// The node's IPv6 pod range (e.g. fd00:10:244:1::/64): pods get an address of each family (dual-stack). Standalone mode.
    #[arg(long, value_name = "CIDR")]
    pub pod_cidr6: Option<ipnet::Ipv6Net>,
    /// Where attachments and the address allocator are kept.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/podsg")]
    pub state_dir: PathBuf,
    /// The socket the CNI plugin connects to (created with mode 0600).
    #[arg(long, value_name = "PATH", default_value = podsg_cni::config::DEFAULT_AGENT_SOCKET)]
    pub socket: PathBuf,
    /// Serve Prometheus metrics (/metrics) and /healthz here, e.g. 0.0.0.0:9842; off when not given.
    #[arg(long, value_name = "ADDRESS:PORT")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Manifest files or directories holding the desired state (lab mode), read again when they change.
    #[arg(
        long = "manifests",
        value_name = "PATH",
        required_unless_present = "kubernetes",
        conflicts_with = "kubernetes"
    )]
    pub manifests: Vec<PathBuf>,
    /// Take the desired state from the Kubernetes API: this node's pods, the SGPs, SecurityGroups and ServiceAccounts, and the MemberSlices of the groups its pods' rules name.
    #[arg(long)]
    pub kubernetes: bool,
    /// With --kubernetes: a kubeconfig file (default: in-cluster, then KUBECONFIG or ~/.kube/config).
    #[arg(long, value_name = "PATH", conflicts_with = "manifests")]
    pub kubeconfig: Option<PathBuf>,
    /// With --kubernetes: the kubeconfig context to use (default: its current context).
    #[arg(long, value_name = "NAME", conflicts_with = "manifests")]
    pub context: Option<String>,
    /// With --kubernetes: a file holding the ClusterConfig (default groups, enforcing mode); default: podsg's defaults.
    #[arg(long, value_name = "FILE", conflicts_with = "manifests")]
    pub config: Option<PathBuf>,
    /// Override the ClusterConfig's enforcing mode.
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// Log every pod's refused new connections (JSON lines on stderr, at most 10 a second per side); a pod annotated podsg.io/log-denied: "false" is left out. Default: only pods annotated "true".
    #[arg(long)]
    pub log_denied: bool,
    /// Log the refused new connections of pods that carry this group (repeat for more).
    #[arg(long, value_name = "GROUP_ID", value_parser = parse_group)]
    pub log_denied_group: Vec<podsg_model::group::SgId>,
}

fn parse_group(s: &str) -> Result<podsg_model::group::SgId, String> {
    podsg_model::group::SgId::parse(s)
}

#[derive(Args, Debug)]
pub struct InstallCniArgs {
    /// standalone: podsg wires pods itself (routed veth, addresses from the node's pod range); chained: after the cluster's CNI, enforcing on the interface it made.
    #[arg(long, value_enum)]
    pub mode: CniMode,
    /// The runtime's CNI binary directory (the host's /opt/cni/bin, mounted).
    #[arg(long, value_name = "DIR", default_value = "/host/opt/cni/bin")]
    pub bin_dir: PathBuf,
    /// The runtime's CNI configuration directory (the host's /etc/cni/net.d, mounted).
    #[arg(long, value_name = "DIR", default_value = "/host/etc/cni/net.d")]
    pub conf_dir: PathBuf,
    /// The plugin binary to install (default: podsg-cni beside this program).
    #[arg(long, value_name = "FILE")]
    pub plugin: Option<PathBuf>,
    /// The agent's socket, as the plugin will reach it.
    #[arg(long, value_name = "PATH", default_value = podsg_cni::config::DEFAULT_AGENT_SOCKET)]
    pub socket: String,
    /// Chained: how long to wait for the cluster's CNI to write its configuration.
    #[arg(long, value_name = "SECONDS", default_value = "300")]
    pub wait_seconds: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CniMode {
    Standalone,
    Chained,
}

#[derive(Args, Debug)]
pub struct ControllerArgs {
    /// A kubeconfig file (default: in-cluster, then KUBECONFIG or ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// A file holding the ClusterConfig (default groups, sgpAppliesTo); default: podsg's defaults.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Whether SGP and label changes reach running pods (all-pods) or only pods created afterwards (new-pods, as EKS). Overrides the ClusterConfig.
    #[arg(long, value_enum, value_name = "WHICH")]
    pub sgp_applies_to: Option<AppliesTo>,
    /// Where /metrics, /healthz and /readyz are served.
    #[arg(long, default_value = "0.0.0.0:8080", value_name = "ADDRESS:PORT")]
    pub listen: std::net::SocketAddr,
    /// The namespace of the leader-election Lease (default: $POD_NAMESPACE, else podsg-system).
    #[arg(long, value_name = "NAMESPACE")]
    pub lease_namespace: Option<String>,
    /// The name of the leader-election Lease.
    #[arg(long, default_value = "podsg-controller", value_name = "NAME")]
    pub lease_name: String,
    /// Seconds a lease lasts without renewal (a new leader takes over within this after a crash).
    #[arg(long, default_value = "15", value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(3..=300))]
    pub lease_seconds: u64,
    /// This replica's identity in the lease and in events (default: $POD_NAME, else the host name).
    #[arg(long, value_name = "NAME")]
    pub identity: Option<String>,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

#[derive(Args, Debug)]
pub struct WebhookArgs {
    /// Where admission reviews are served (HTTPS: POST /validate, GET /healthz).
    #[arg(long, default_value = "0.0.0.0:9443", value_name = "ADDRESS:PORT")]
    pub listen: std::net::SocketAddr,
    /// The serving certificate chain (PEM); read again when it changes.
    #[arg(long, default_value = "/etc/podsg/tls/tls.crt", value_name = "FILE")]
    pub tls_cert: PathBuf,
    /// The serving certificate's private key (PEM).
    #[arg(long, default_value = "/etc/podsg/tls/tls.key", value_name = "FILE")]
    pub tls_key: PathBuf,
    /// The user allowed to write pods' vpc.amazonaws.com/pod-eni (default: system:serviceaccount:$POD_NAMESPACE:podsg-controller, POD_NAMESPACE defaulting to podsg-system).
    #[arg(long, value_name = "USERNAME")]
    pub controller_user: Option<String>,
    /// How often the certificate files are read again, in seconds.
    #[arg(long, default_value = "10", value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub reload_seconds: u64,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AppliesTo {
    AllPods,
    NewPods,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
    Yaml,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    Strict,
    Standard,
}

impl From<Mode> for EnforcingMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Strict => EnforcingMode::Strict,
            Mode::Standard => EnforcingMode::Standard,
        }
    }
}

#[derive(Args, Debug)]
pub struct Check {
    /// Manifest files or directories (YAML, multi-document YAML, JSON); - for stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Enforcing mode to check probes against (default: the ClusterConfig's, else strict).
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    #[arg(long, short, value_enum, default_value = "text")]
    pub output: Output,
    /// Exit 1 on warnings too (for CI).
    #[arg(long)]
    pub fail_on_warnings: bool,
    /// Print every warning and note (text output summarises repeated ones).
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Args, Debug)]
pub struct GraphArgs {
    /// Manifest files or directories; - for stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// svg (a drawing), dot (for Graphviz), html (a page with the drawing).
    #[arg(long, short, value_enum, default_value = "svg")]
    pub format: GraphFormat,
    /// Add the reachability of every pod, workload and member to every other, on the ports their rules name, with the deciding rules (svg: in a list below; html: on hover and below).
    #[arg(long)]
    pub matrix: bool,
    /// Enforcing mode for the matrix (default: the ClusterConfig's, else strict).
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LabCheckOutput {
    Text,
    Json,
    Yaml,
    Html,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Svg,
    Dot,
    Html,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The manifests before: a directory, a file, or git:REV:PATH.
    #[arg(value_name = "OLD")]
    pub old: String,
    /// The manifests after, named like OLD.
    #[arg(value_name = "NEW")]
    pub new: String,
    #[arg(long, short, value_enum, default_value = "text")]
    pub output: DiffOutput,
    /// Exit 1 when the change newly allows a flow (for CI).
    #[arg(long)]
    pub fail_on_new_allow: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffOutput {
    Text,
    Json,
    Yaml,
    /// For a pull request comment.
    Markdown,
}

#[derive(Args, Debug)]
pub struct Explain {
    /// Manifest files or directories; - for stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Source: NAMESPACE/NAME of a pod or workload, KIND/NAMESPACE/NAME, a member's name, node[/NAME], or an IP.
    #[arg(long, value_name = "ENDPOINT")]
    pub from: String,
    /// Destination, named like --from.
    #[arg(long, value_name = "ENDPOINT")]
    pub to: String,
    /// Destination port (tcp, udp), or ICMP type (icmp, icmpv6; default 8, echo request); -1: every port or type.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub port: Option<i64>,
    /// tcp, udp, icmp, icmpv6, or an IP protocol number.
    #[arg(long, default_value = "tcp", value_name = "PROTOCOL")]
    pub protocol: String,
    /// ICMP code (icmp, icmpv6; default 0); -1 with --port -1: every type and code.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub icmp_code: Option<i64>,
    /// Enforcing mode (default: the ClusterConfig's, else strict).
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    #[arg(long, short, value_enum, default_value = "text")]
    pub output: Output,
    /// Exit 3 when the verdict is deny and 4 when it is unknown (default: 0 for every verdict).
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Subcommand, Debug)]
pub enum Import {
    /// Read what `aws ec2 describe-security-groups` prints (FILE, or - for stdin)
    /// and print SecurityGroup manifests; warnings go to stderr.
    #[command(
        after_help = "Exit status: 0 converted; 1 the input cannot be read or converted (nothing is printed); 2 a usage error."
    )]
    Aws(ImportAws),
}

#[derive(Args, Debug)]
pub struct ImportAws {
    /// The output of `aws ec2 describe-security-groups` (JSON, or YAML with `--output yaml`); - for stdin.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Also declare the groups that rules reference but FILE does not hold (another account, a peered VPC,
    /// or groups not exported) as `outside` groups, so that `podsg check` validates everything else.
    #[arg(long)]
    pub declare_outside: bool,
}
