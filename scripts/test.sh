#!/usr/bin/env bash
# Every test: formatting, lints, unit, property, integration, CLI, CNI,
# kernel and lab tests, each benchmark once in test mode, and the container
# image built and run (scripts/image.sh). The kernel, lab and image tests
# need root; they are skipped (saying why) without it, and fail
# under CI instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --all-targets --locked --no-fail-fast
# The container image, built for real (buildah, no registry), run once.
scripts/image.sh
