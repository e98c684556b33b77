#!/usr/bin/env bash
# Installs what podsg needs on a fresh Debian machine. Safe to run again.
set -euo pipefail

# Debian packages the build, the tests and the lab need; netperf, ipset and
# iptables for the firewall benchmark (podsg side by side with ipset and
# iptables); python3-yaml (PyYAML, a YAML 1.1 reader) for the test that what
# podsg writes reads back the same; python3-pip for check-jsonschema below;
# kubectl for `kubectl kustomize`, which renders deploy/ in the tests;
# chromium (headless) renders podsg's pictures in the tests.
# netperf is in Debian's non-free component.
APT_PACKAGES=(ca-certificates python3-yaml python3-pip kubectl nftables iproute2 iputils-ping procps util-linux conntrack postgresql dnsmasq-base iperf3 netperf ipset iptables chromium)
# The Rust toolchain podsg is built with (edition 2024, let-chains).
MIN_RUST=1.89

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Enables Debian's non-free component (for netperf) where it is off.
enable_non_free() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -e "$f" ] || continue
        as_root sed -i -E '/^Components:.*\bmain\b/{/ non-free( |$)/!s/$/ non-free/}' "$f"
    done
    if [ -f /etc/apt/sources.list ]; then
        as_root sed -i -E '/^deb .* main/{/non-free( |$)/!s/$/ non-free/}' /etc/apt/sources.list
    fi
}

if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    [[ " ${missing[*]} " == *" netperf "* ]] && enable_non_free
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# check-jsonschema (PyPI): the independent validator that the generated CRD
# schemas are checked with.
if ! command -v check-jsonschema >/dev/null; then
    echo "setup: installing check-jsonschema (pip)" >&2
    python3 -m pip install --quiet check-jsonschema 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages check-jsonschema
fi

[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v cargo >/dev/null; then
    echo "setup: cargo not found: install Rust $MIN_RUST or newer (https://rustup.rs), then run this again" >&2
    exit 1
fi
have=$(rustc --version | awk '{print $2}')
if [ "$(printf '%s\n%s\n' "$MIN_RUST" "$have" | sort -V | head -n1)" != "$MIN_RUST" ]; then
    echo "setup: rustc $have is too old: podsg needs Rust $MIN_RUST or newer (rustup update stable)" >&2
    exit 1
fi
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        echo "setup: adding the $component component" >&2
        rustup component add "$component"
    fi
done
