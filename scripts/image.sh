#!/usr/bin/env bash
# Builds podsg's container image as an OCI archive with buildah, from
# deploy/image/Containerfile, without any image registry: the root
# filesystem is assembled by debootstrap (Debian bookworm, minbase, plus
# nftables and iproute2) from Debian's packages, and the binaries are
# built here. Then runs `podsg --version` and `nft --version` inside it.
#
#   scripts/image.sh [OUT]    # default target/image/podsg-VERSION.oci.tar
#
# Needs root (buildah, debootstrap); without it says so and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIPPED privileged test: the image build needs root (buildah, debootstrap)" >&2
    exit 0
fi
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
out=${1:-target/image/podsg-$version.oci.tar}
work=target/image

missing=()
for p in buildah debootstrap; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "image: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cargo build --release --locked -p podsg --bins
mkdir -p "$work/context"
rootfs="$work/rootfs"
if [ ! -x "$rootfs/usr/sbin/nft" ]; then
    rm -rf "$rootfs"
    echo "image: assembling the root filesystem (debootstrap)" >&2
    debootstrap --variant=minbase --include=nftables,iproute2 bookworm "$rootfs.tmp" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
        || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
    # What a running image never uses: package caches and documentation.
    rm -rf "$rootfs.tmp"/var/cache/apt/archives/*.deb "$rootfs.tmp"/var/lib/apt/lists/* \
        "$rootfs.tmp"/usr/share/doc "$rootfs.tmp"/usr/share/man "$rootfs.tmp"/usr/share/locale
    mv "$rootfs.tmp" "$rootfs"
fi
rm -rf "$work/context/rootfs"
cp -a "$rootfs" "$work/context/rootfs"
cp target/release/podsg target/release/podsg-cni "$work/context/"

image="localhost/podsg:$version"
buildah --storage-driver vfs build --quiet -f deploy/image/Containerfile -t "$image" "$work/context" >/dev/null
rm -f "$out"
buildah --storage-driver vfs push --quiet "$image" "oci-archive:$out:ghcr.io/podsg/podsg:$version"
buildah --storage-driver vfs rmi "$image" >/dev/null
rm -rf "$work/context/rootfs"
echo "image: $out ($(du -h "$out" | cut -f1))" >&2

# Run from inside the archive, as a runtime would.
container=$(buildah --storage-driver vfs from --quiet "oci-archive:$out")
trap 'buildah --storage-driver vfs rm "$container" >/dev/null; buildah --storage-driver vfs rmi --all >/dev/null 2>&1 || true' EXIT
podsg_version=$(buildah --storage-driver vfs run --isolation chroot "$container" -- podsg --version)
nft_version=$(buildah --storage-driver vfs run --isolation chroot "$container" -- nft --version)
echo "image: inside it: $podsg_version; $nft_version" >&2
[ "$podsg_version" = "podsg $version" ] || { echo "image: expected podsg $version" >&2; exit 1; }
case "$nft_version" in nftables*) ;; *) echo "image: nft does not run inside it" >&2; exit 1 ;; esac
