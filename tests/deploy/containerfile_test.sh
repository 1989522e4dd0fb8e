#!/usr/bin/env bash
# The runtime stage of deploy/Containerfile installs the package of every library habilisd links to directly,
# and the build context leaves out builds, data and secrets.
#   tests/deploy/containerfile_test.sh HABILISD CONTAINERFILE CONTAINERIGNORE
set -euo pipefail
binary="$1" containerfile="$2" ignore="$3"
installed=$(sed -n '/^FROM debian:bookworm$/,$p' "$containerfile" | tail -n +2 | tr '\\\n' '  ')
status=0
for lib in $(readelf -d "$binary" | awk '/NEEDED/ {gsub(/[][]/, "", $5); print $5}'); do
  path=$(ldd "$binary" | awk -v l="$lib" '$1 == l {print $3}')
  package=$(dpkg -S "$path" 2>/dev/null || dpkg -S "/usr$path" 2>/dev/null || true)
  package=${package%%:*}
  case "$package" in
    libc6|libgcc-s1|libstdc++6) continue ;;  # in every Debian image
    "") echo "no package owns $lib ($path)"; status=1; continue ;;
  esac
  if ! grep -qw -- "$package" <<<"$installed"; then
    echo "$lib comes from $package, which the Containerfile's runtime stage does not install"
    status=1
  fi
done
for kept_out in build data '\*.outbox-key' certs; do
  grep -qx -- "$kept_out" "$ignore" || { echo "$ignore does not keep out $kept_out"; status=1; }
done
grep -q '^USER habilis' "$containerfile" || { echo "the image does not run as a user of its own"; status=1; }
grep -q '^HEALTHCHECK' "$containerfile" || { echo "the image has no health check"; status=1; }
grep -q 'build/clients/habilisctl' "$containerfile" || { echo "the image lacks habilisctl (its health check)"; status=1; }
exit $status
