//! `podsg-cni`: the CNI plugin binary (CNI spec 1.0.0 and 1.1.0).

fn main() -> std::process::ExitCode {
    podsg_cni::plugin::main()
}
