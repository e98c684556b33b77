#!/usr/bin/env bash
# The main job: the handbook scenario (seed 002). Checks the manifests and
# explains why the green pod reaches the PostgreSQL database and the red pod
# does not.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked -q -p podsg
podsg=target/release/podsg
dir=examples/handbook

echo "== podsg check $dir"
$podsg check "$dir"
for pod in green-pod red-pod; do
    echo
    echo "== podsg explain $dir --from networking/$pod --to rds-ekslab.internal --port 5432"
    $podsg explain "$dir" --from "networking/$pod" --to rds-ekslab.internal --port 5432
done
echo
echo "== podsg explain $dir --from networking/green-pod --to kube-system/coredns --protocol udp --port 53"
$podsg explain "$dir" --from networking/green-pod --to kube-system/coredns --protocol udp --port 53
