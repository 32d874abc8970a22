# Docker-archive tarballs (the `docker save` format) written by hand with tar, sha256sum and
# jq, for tests and benchmarks that need a large image without a registry or a builder.
# Plain bash: tests/integration/api/crash.bats and bench/image/run.sh use it.
#
#   make_docker_archive OUT.tar TAG LAYER.tar...
#       manifest.json, repositories, <config>.json and <diffid>/layer.tar per layer
#   make_big_layers DIR [MB] [FILES]
#       DIR/base.tar (busybox rootfs), DIR/big.tar (MB MiB of /dev/urandom, default 100),
#       DIR/small.tar (FILES files of 2 KiB, default 5000, 0 for none)

_ARCHIVE_SRC=${BERTH_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}

make_docker_archive() {
  local out=$1 tag=$2
  shift 2
  local work diff_ids=() layers=() l d
  work=$(mktemp -d "${TMPDIR:-/tmp}/berth-archive.XXXXXX")
  for l in "$@"; do
    d=$(sha256sum "$l" | cut -d' ' -f1)
    mkdir -p "$work/$d"
    ln "$l" "$work/$d/layer.tar" 2>/dev/null || cp "$l" "$work/$d/layer.tar"
    diff_ids+=("sha256:$d")
    layers+=("$d/layer.tar")
  done
  local created=2026-01-01T00:00:00Z cfg cid
  cfg=$(jq -cn --arg c "$created" --args '{
      architecture: "amd64", os: "linux", created: $c,
      config: {Cmd: ["sh"], Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
      rootfs: {type: "layers", diff_ids: $ARGS.positional},
      history: [$ARGS.positional[] | {created: $c, created_by: "make_docker_archive"}]
    }' "${diff_ids[@]}")
  printf '%s' "$cfg" >"$work/config.json"
  cid=$(sha256sum "$work/config.json" | cut -d' ' -f1)
  mv "$work/config.json" "$work/$cid.json"
  jq -cn --arg cfg "$cid.json" --arg tag "$tag" --args \
    '[{Config: $cfg, RepoTags: [$tag], Layers: $ARGS.positional}]' "${layers[@]}" >"$work/manifest.json"
  local repo=${tag%:*} t=${tag##*:}
  jq -cn --arg r "$repo" --arg t "$t" --arg id "${diff_ids[-1]#sha256:}" \
    '{($r): {($t): $id}}' >"$work/repositories"
  tar -C "$work" --numeric-owner --owner=0 --group=0 -cf "$out" manifest.json repositories "$cid.json" "${layers[@]}"
  rm -rf "$work"
  echo "sha256:$cid"
}

make_big_layers() {
  local dir=$1 mb=${2:-100} files=${3:-5000}
  mkdir -p "$dir/base" "$dir/big/data" "$dir/small/data/small"
  "$_ARCHIVE_SRC/scripts/make-rootfs-busybox" "$dir/base" >/dev/null
  head -c $((mb * 1024 * 1024)) /dev/urandom >"$dir/big/data/random.bin"
  if ((files > 0)); then
    # 2 KiB files (base64 of random bytes), written by one process
    head -c $((files * 1536)) /dev/urandom | base64 -w 2048 | split -l 1 -a 5 -d - "$dir/small/data/small/f"
  fi
  local t=(--numeric-owner --owner=0 --group=0 --sort=name --mtime=2026-01-01)
  tar -C "$dir/base" "${t[@]}" -cf "$dir/base.tar" .
  tar -C "$dir/big" "${t[@]}" -cf "$dir/big.tar" .
  if ((files > 0)); then tar -C "$dir/small" "${t[@]}" -cf "$dir/small.tar" .; fi
  rm -rf "$dir/base" "$dir/big" "$dir/small"
}
