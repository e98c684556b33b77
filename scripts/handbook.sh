#!/usr/bin/env bash
# The main job: the handbook scenario (seed 002) in lab mode, for real. Two
# nodes, the green and red pods wired by podsg's CNI plugin, a PostgreSQL
# database, a cluster DNS; then every expectation is checked with real
# connections and the from x to matrix printed. Needs root (network
# namespaces, nftables). The lab stays up: explore it with
# `podsg lab exec networking/green-pod -- psql ...`, remove it with `podsg lab down`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
    # Lab mode needs root; cargo stays on the caller's PATH.
    exec sudo --preserve-env=PATH,HOME,CARGO_HOME,RUSTUP_HOME "$0" "$@"
fi
scripts/setup.sh
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked -q -p podsg
podsg=target/release/podsg
dir=examples/handbook

$podsg lab down 2>/dev/null || true
$podsg check "$dir"
$podsg lab up "$dir"
echo
echo "== green-pod reads the database (podsg lab exec networking/green-pod -- psql ...)"
$podsg lab exec networking/green-pod -- env PGPASSWORD=podsg-lab psql -h rds-ekslab.internal -U postgres -d postgres \
    -c "SELECT id, message FROM test_data ORDER BY id;"
echo "== red-pod cannot (it times out)"
$podsg lab exec networking/red-pod -- env PGPASSWORD=podsg-lab PGCONNECT_TIMEOUT=3 psql -h rds-ekslab.internal -U postgres -d postgres \
    -c "SELECT 1;" || true
echo
echo "== podsg lab check $dir"
$podsg lab check "$dir"
