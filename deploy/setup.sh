#!/usr/bin/env bash
# Installs every Debian bookworm package that building, running and testing habilis needs.
# Idempotent; run as root on a fresh machine. Skips apt entirely when everything is present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev
  libabsl-dev librocksdb-dev libssl-dev libpq-dev postgresql-15
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  libargon2-dev libcurl4-openssl-dev python3-aiosmtpd prometheus-cpp-dev libcivetweb-dev libh2o-evloop-dev
  clang libclang-rt-14-dev clang-format clang-tidy libicu-dev libjemalloc-dev
  libreoffice-calc-nogui valgrind
  python3 openssl systemd binutils curl debootstrap util-linux iproute2
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "deploy/setup.sh: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
