#!/usr/bin/env bats
# `berth registry serve` over HTTP on loopback: the spec's endpoints through curl, and real
# clients (skopeo) pushing to it and pulling from it; basic auth; hostile requests.

load helpers

setup() { registry_setup; }
teardown() { registry_teardown; }

# put_blob REPO FILE: a monolithic POST ?digest=; prints the digest.
put_blob() {
  local d
  d=$(sha256 "$2")
  curl -sf -X POST --data-binary "@$2" -H 'Content-Type: application/octet-stream' \
    "$URL/v2/$1/blobs/uploads/?digest=$d" >/dev/null || return 1
  echo "$d"
}

@test "GET /v2/ and the spec's error body" {
  start_registry
  run -0 curl -si "$URL/v2/"
  assert_contains "$output" "HTTP/1.1 200"
  assert_contains "$output" "Docker-Distribution-API-Version: registry/2.0"
  run -0 curl -s "$URL/v2/lib/x/manifests/latest"
  assert_eq "$(jq -r '.errors[0].code' <<<"$output")" MANIFEST_UNKNOWN
  run -0 curl -s -o /dev/null -w '%{http_code}' "$URL/v2/lib/x/blobs/sha256:123"
  assert_eq "$output" 400
  stop_registry
}

@test "chunked upload, 416 out of order, ranged reads, a manifest by tag and digest" {
  start_registry
  head -c 300000 /dev/urandom >"$TEST_DIR/blob"
  split -b 100000 -d "$TEST_DIR/blob" "$TEST_DIR/part."
  local d loc
  d=$(sha256 "$TEST_DIR/blob")
  run -0 curl -si -X POST "$URL/v2/app/blobs/uploads/"
  assert_contains "$output" "HTTP/1.1 202"
  loc=$(sed -n 's/^Location: \(.*\)\r$/\1/p' <<<"$output")
  run -0 curl -s -o /dev/null -w '%{http_code}' -X PATCH --data-binary "@$TEST_DIR/part.00" \
    -H 'Content-Range: 0-99999' -H 'Content-Type: application/octet-stream' "$URL$loc"
  assert_eq "$output" 202
  run -0 curl -s -o /dev/null -w '%{http_code}' -X PATCH --data-binary "@$TEST_DIR/part.02" \
    -H 'Content-Range: 200000-299999' -H 'Content-Type: application/octet-stream' "$URL$loc"
  assert_eq "$output" 416
  run -0 curl -si "$URL$loc"
  assert_contains "$output" "HTTP/1.1 204"
  assert_contains "$output" "Range: 0-99999"
  run -0 curl -s -o /dev/null -w '%{http_code}' -X PATCH --data-binary "@$TEST_DIR/part.01" \
    -H 'Content-Range: 100000-199999' -H 'Content-Type: application/octet-stream' "$URL$loc"
  assert_eq "$output" 202
  run -0 curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary "@$TEST_DIR/part.02" \
    -H 'Content-Type: application/octet-stream' "$URL$loc?digest=$d"
  assert_eq "$output" 201
  # The whole blob, a range of it, and a range past its end.
  run -0 bash -c "curl -sf '$URL/v2/app/blobs/$d' | cmp - '$TEST_DIR/blob'"
  run -0 bash -c "curl -sf -r 1000-1999 '$URL/v2/app/blobs/$d' | cmp - <(tail -c +1001 '$TEST_DIR/blob' | head -c 1000)"
  run -0 curl -s -o /dev/null -w '%{http_code}' -r 300000- "$URL/v2/app/blobs/$d"
  assert_eq "$output" 416
  run -0 curl -sI "$URL/v2/app/blobs/$d"
  assert_contains "$output" "Content-Length: 300000"
  # A manifest naming it, refused until its config is there.
  echo '{}' >"$TEST_DIR/config"
  local c
  c=$(sha256 "$TEST_DIR/config")
  jq -n --arg c "$c" --arg d "$d" '{schemaVersion:2, mediaType:"application/vnd.oci.image.manifest.v1+json",
    config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$c,size:3},
    layers:[{mediaType:"application/vnd.oci.image.layer.v1.tar",digest:$d,size:300000}]}' \
    >"$TEST_DIR/manifest"
  local mt='Content-Type: application/vnd.oci.image.manifest.v1+json'
  run -0 curl -s -X PUT -H "$mt" --data-binary "@$TEST_DIR/manifest" "$URL/v2/app/manifests/v1"
  assert_eq "$(jq -r '.errors[0].code' <<<"$output")" MANIFEST_BLOB_UNKNOWN
  run -0 put_blob app "$TEST_DIR/config"
  run -0 curl -si -X PUT -H "$mt" --data-binary "@$TEST_DIR/manifest" "$URL/v2/app/manifests/v1"
  assert_contains "$output" "HTTP/1.1 201"
  local md
  md=$(sha256 "$TEST_DIR/manifest")
  assert_contains "$output" "Docker-Content-Digest: $md"
  run -0 bash -c "curl -sf '$URL/v2/app/manifests/$md' | cmp - '$TEST_DIR/manifest'"
  run -0 curl -sI "$URL/v2/app/manifests/v1"
  assert_contains "$output" "Content-Type: application/vnd.oci.image.manifest.v1+json"
  run -0 curl -s "$URL/v2/app/tags/list"
  assert_eq "$output" '{"name":"app","tags":["v1"]}'
  run -0 curl -s "$URL/v2/_catalog"
  assert_eq "$output" '{"repositories":["app"]}'
  # Kept across a restart.
  stop_registry
  start_registry
  run -0 bash -c "curl -sf '$URL/v2/app/manifests/v1' | cmp - '$TEST_DIR/manifest'"
}

@test "skopeo copies an OCI layout into the registry and back" {
  command -v skopeo >/dev/null || skip "no skopeo"
  oci_layout "$TEST_DIR/oci" bb
  start_registry
  run -0 skopeo copy --dest-tls-verify=false "oci:$TEST_DIR/oci:bb" "docker://$REG/tests/busybox:1"
  run -0 skopeo inspect --tls-verify=false "docker://$REG/tests/busybox:1"
  assert_eq "$(jq -r '.RepoTags[0]' <<<"$output")" 1
  run -0 skopeo copy --src-tls-verify=false "docker://$REG/tests/busybox:1" "oci:$TEST_DIR/back:bb"
  # The same manifest (so the same config and layers) came back.
  local a b
  a=$(jq -r '.manifests[] | select(.annotations."org.opencontainers.image.ref.name"=="bb") | .digest' "$TEST_DIR/oci/index.json")
  b=$(jq -r '.manifests[0].digest' "$TEST_DIR/back/index.json")
  assert_eq "$b" "$a"
  run -0 cmp "$TEST_DIR/oci/blobs/sha256/${a#sha256:}" "$TEST_DIR/back/blobs/sha256/${a#sha256:}"
  # A second repository: each blob is stored once.
  run -0 skopeo copy --dest-tls-verify=false "oci:$TEST_DIR/oci:bb" "docker://$REG/other/busybox:1"
  run -0 bash -c "ls '$ROOT/blobs/sha256' | wc -l"
  assert_eq "$output" 3
  # Registry to registry, and a delete by digest.
  run -0 skopeo copy --src-tls-verify=false --dest-tls-verify=false \
    "docker://$REG/tests/busybox:1" "docker://$REG/tests/copy:2"
  run -0 skopeo delete --tls-verify=false "docker://$REG/tests/copy:2"
  run -1 skopeo inspect --tls-verify=false "docker://$REG/tests/copy:2"
}

@test "htpasswd: basic auth with bcrypt, for curl and skopeo" {
  command -v htpasswd >/dev/null || skip "no htpasswd (apache2-utils)"
  htpasswd -B -b -c "$TEST_DIR/htpasswd" alice s3cret 2>/dev/null
  start_registry --htpasswd "$TEST_DIR/htpasswd"
  run -0 curl -si "$URL/v2/"
  assert_contains "$output" "HTTP/1.1 401"
  assert_contains "$output" 'WWW-Authenticate: Basic realm="Berth Registry"'
  run -0 curl -s -o /dev/null -w '%{http_code}' -u alice:wrong "$URL/v2/"
  assert_eq "$output" 401
  run -0 curl -s -o /dev/null -w '%{http_code}' -u alice:s3cret "$URL/v2/"
  assert_eq "$output" 200
  if command -v skopeo >/dev/null && command -v umoci >/dev/null; then
    oci_layout "$TEST_DIR/oci" bb
    run -1 skopeo copy --dest-tls-verify=false --dest-creds alice:wrong \
      "oci:$TEST_DIR/oci:bb" "docker://$REG/auth/bb:1"
    run -0 skopeo copy --dest-tls-verify=false --dest-creds alice:s3cret \
      "oci:$TEST_DIR/oci:bb" "docker://$REG/auth/bb:1"
    run -0 skopeo inspect --tls-verify=false --creds alice:s3cret "docker://$REG/auth/bb:1"
  fi
}

@test "bearer tokens: the registry's own token endpoint, for curl and skopeo" {
  command -v htpasswd >/dev/null || skip "no htpasswd (apache2-utils)"
  htpasswd -B -b -c "$TEST_DIR/htpasswd" alice s3cret 2>/dev/null
  start_registry --htpasswd "$TEST_DIR/htpasswd" --token-realm /token --token-service reg
  run -0 curl -si "$URL/v2/tok/bb/manifests/1"
  assert_contains "$output" "HTTP/1.1 401"
  assert_contains "$output" "WWW-Authenticate: Bearer realm=\"$URL/token\",service=\"reg\",scope=\"repository:tok/bb:pull\""
  # The token endpoint wants alice's password.
  run -0 curl -s -o /dev/null -w '%{http_code}' "$URL/token?service=reg&scope=repository:tok/bb:pull"
  assert_eq "$output" 401
  run -0 curl -s -o /dev/null -w '%{http_code}' -u alice:wrong "$URL/token?service=reg"
  assert_eq "$output" 401
  run -0 curl -sf -u alice:s3cret "$URL/token?service=reg&scope=repository:tok/bb:pull"
  local pull
  pull=$(jq -r .token <<<"$output")
  assert_eq "$(jq -r .access_token <<<"$output")" "$pull"
  assert_eq "$(jq -r .expires_in <<<"$output")" 300
  # Its claims: ES256, the service as audience, pull on tok/bb only.
  local claims
  claims=$(cut -d. -f2 <<<"$pull" | tr '_-' '/+')
  while ((${#claims} % 4)); do claims+="="; done
  claims=$(base64 -d <<<"$claims")
  assert_eq "$(jq -r .aud <<<"$claims")" reg
  assert_eq "$(jq -c .access <<<"$claims")" '[{"actions":["pull"],"name":"tok/bb","type":"repository"}]'
  run -0 curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $pull" "$URL/v2/tok/bb/manifests/1"
  assert_eq "$output" 404
  # A pull token does not push: 401 insufficient_scope.
  run -0 curl -si -X POST -H "Authorization: Bearer $pull" "$URL/v2/tok/bb/blobs/uploads/"
  assert_contains "$output" "HTTP/1.1 401"
  assert_contains "$output" 'error="insufficient_scope"'
  # A forged signature is refused.
  run -0 curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${pull%.*}.AAAA" "$URL/v2/tok/bb/manifests/1"
  assert_eq "$output" 401
  if command -v skopeo >/dev/null && command -v umoci >/dev/null; then
    oci_layout "$TEST_DIR/oci" bb
    run -1 skopeo copy --dest-tls-verify=false --dest-creds alice:wrong \
      "oci:$TEST_DIR/oci:bb" "docker://$REG/tok/bb:1"
    run -0 skopeo copy --dest-tls-verify=false --dest-creds alice:s3cret \
      "oci:$TEST_DIR/oci:bb" "docker://$REG/tok/bb:1"
    run -0 skopeo copy --src-tls-verify=false --src-creds alice:s3cret \
      "docker://$REG/tok/bb:1" "oci:$TEST_DIR/back:bb"
    run -0 skopeo inspect --tls-verify=false --creds alice:s3cret "docker://$REG/tok/bb:1"
    assert_eq "$(jq -r '.RepoTags[0]' <<<"$output")" 1
    run -1 skopeo inspect --tls-verify=false "docker://$REG/tok/bb:1"
  fi
}

@test "bearer tokens: a --token-key survives a restart; an outside issuer's public key verifies" {
  command -v htpasswd >/dev/null || skip "no htpasswd (apache2-utils)"
  command -v openssl >/dev/null || skip "no openssl"
  htpasswd -B -b -c "$TEST_DIR/htpasswd" alice s3cret 2>/dev/null
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TEST_DIR/key.pem" 2>/dev/null
  openssl pkey -in "$TEST_DIR/key.pem" -pubout -out "$TEST_DIR/pub.pem" 2>/dev/null
  start_registry --htpasswd "$TEST_DIR/htpasswd" --token-realm /token --token-key "$TEST_DIR/key.pem"
  run -0 curl -sf -u alice:s3cret "$URL/token?scope=repository:k/x:pull"
  local token
  token=$(jq -r .token <<<"$output")
  stop_registry
  # Restarted with the same key: the token still works.
  start_registry --htpasswd "$TEST_DIR/htpasswd" --token-realm /token --token-key "$TEST_DIR/key.pem"
  run -0 curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$URL/v2/k/x/tags/list"
  assert_eq "$output" 404
  stop_registry
  # A registry that only verifies (the issuer is elsewhere): the token works, /token is not served.
  start_registry --token-realm https://auth.example/token --token-key "$TEST_DIR/pub.pem"
  run -0 curl -si "$URL/v2/k/x/tags/list"
  assert_contains "$output" 'Bearer realm="https://auth.example/token",service="berth-registry",scope="repository:k/x:pull"'
  run -0 curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$URL/v2/k/x/tags/list"
  assert_eq "$output" 404
  run -0 curl -s -o /dev/null -w '%{http_code}' -u alice:s3cret "$URL/token"
  assert_eq "$output" 404
  stop_registry
}

@test "gc while serving: a deleted image's blobs go, the image sharing its layers stays whole" {
  command -v skopeo >/dev/null || skip "no skopeo"
  oci_layout "$TEST_DIR/oci" one
  # two: one's busybox layer, a config of its own and a second layer.
  umoci config --image "$TEST_DIR/oci:one" --tag two --config.cmd ls >/dev/null
  echo extra >"$TEST_DIR/extra"
  umoci insert --image "$TEST_DIR/oci:two" "$TEST_DIR/extra" /extra >/dev/null
  local m1 m2 c1
  m1=$(jq -r '.manifests[] | select(.annotations."org.opencontainers.image.ref.name"=="one") | .digest' "$TEST_DIR/oci/index.json")
  m2=$(jq -r '.manifests[] | select(.annotations."org.opencontainers.image.ref.name"=="two") | .digest' "$TEST_DIR/oci/index.json")
  c1=$(jq -r .config.digest "$TEST_DIR/oci/blobs/sha256/${m1#sha256:}")
  start_registry
  run -0 skopeo copy --dest-tls-verify=false "oci:$TEST_DIR/oci:one" "docker://$REG/gc/one:1"
  run -0 skopeo copy --dest-tls-verify=false "oci:$TEST_DIR/oci:two" "docker://$REG/gc/two:1"
  run -0 bash -c "ls '$ROOT/blobs/sha256' | wc -l"
  assert_eq "$output" 6  # 2 manifests, 2 configs, 2 layers (busybox shared)
  run -0 skopeo delete --tls-verify=false "docker://$REG/gc/one:1"
  # Everything was pushed long ago as far as the grace period is concerned.
  find "$ROOT/blobs" -type f -exec touch -d '3 hours ago' {} +
  run -0 "$BERTH" registry gc --root "$ROOT" --dry-run
  assert_contains "$output" "would delete $m1"
  run -0 bash -c "ls '$ROOT/blobs/sha256' | wc -l"
  assert_eq "$output" 6
  run -0 "$BERTH" registry gc --root "$ROOT"
  assert_contains "$output" "deleted $m1"
  assert_contains "$output" "deleted $c1"
  assert_contains "$output" "deleted 2 blobs"
  [[ ! -e $ROOT/blobs/sha256/${m1#sha256:} && ! -e $ROOT/blobs/sha256/${c1#sha256:} ]]
  run -0 bash -c "ls '$ROOT/blobs/sha256' | wc -l"
  assert_eq "$output" 4
  # The registry served on: two pulls whole, with the layer it shared with one.
  run -0 skopeo copy --src-tls-verify=false "docker://$REG/gc/two:1" "oci:$TEST_DIR/back:two"
  assert_eq "$(jq -r '.manifests[0].digest' "$TEST_DIR/back/index.json")" "$m2"
  local l
  for l in $(jq -r '.layers[].digest, .config.digest' "$TEST_DIR/oci/blobs/sha256/${m2#sha256:}"); do
    run -0 cmp "$TEST_DIR/oci/blobs/sha256/${l#sha256:}" "$TEST_DIR/back/blobs/sha256/${l#sha256:}"
  done
  run -1 skopeo inspect --tls-verify=false "docker://$REG/gc/one:1"
  # one pushed again: whole again.
  run -0 skopeo copy --dest-tls-verify=false "oci:$TEST_DIR/oci:one" "docker://$REG/gc/one:1"
  run -0 skopeo copy --src-tls-verify=false "docker://$REG/gc/one:1" "oci:$TEST_DIR/back:one"
  stop_registry
}

# self_signed DIR: a self-signed certificate for 127.0.0.1 (DIR/cert.pem, DIR/key.pem), and
# DIR/certs/ca.crt: the directory skopeo's --*-cert-dir take.
self_signed() {
  command -v openssl >/dev/null || skip "no openssl"
  mkdir -p "$1/certs"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$1/key.pem" -out "$1/cert.pem" 2>/dev/null
  cp "$1/cert.pem" "$1/certs/ca.crt"
}

@test "TLS: HTTPS with a self-signed certificate, for curl and skopeo (with bearer tokens)" {
  self_signed "$TEST_DIR/tls"
  start_registry --tls-cert "$TEST_DIR/tls/cert.pem" --tls-key "$TEST_DIR/tls/key.pem"
  URL=https://$REG
  run -0 curl -si --cacert "$TEST_DIR/tls/cert.pem" "$URL/v2/"
  assert_contains "$output" "HTTP/1.1 200"
  assert_contains "$output" "Docker-Distribution-API-Version: registry/2.0"
  # Not trusted without the CA; plain HTTP on the TLS port gets no answer but a TLS alert.
  run -60 curl -s "$URL/v2/"
  run ! curl -sf "http://$REG/v2/"
  # Keep-alive through TLS, and a body in both directions.
  echo hello >"$TEST_DIR/f"
  local d
  d=$(sha256 "$TEST_DIR/f")
  run -0 curl -sf --cacert "$TEST_DIR/tls/cert.pem" -X POST --data-binary "@$TEST_DIR/f" \
    "$URL/v2/t/x/blobs/uploads/?digest=$d" -o /dev/null --next --cacert "$TEST_DIR/tls/cert.pem" \
    "$URL/v2/t/x/blobs/$d"
  assert_eq "$output" hello
  run -0 curl -s --cacert "$TEST_DIR/tls/cert.pem" -o /dev/null -w '%{http_code}' "$URL/v2/t/x/blobs/sha256:12"
  assert_eq "$output" 400
  stop_registry
  if command -v skopeo >/dev/null && command -v umoci >/dev/null && command -v htpasswd >/dev/null; then
    htpasswd -B -b -c "$TEST_DIR/htpasswd" alice s3cret 2>/dev/null
    start_registry --tls-cert "$TEST_DIR/tls/cert.pem" --tls-key "$TEST_DIR/tls/key.pem" \
      --htpasswd "$TEST_DIR/htpasswd" --token-realm /token
    run -0 curl -si --cacert "$TEST_DIR/tls/cert.pem" "https://$REG/v2/"
    assert_contains "$output" "Bearer realm=\"https://$REG/token\""
    oci_layout "$TEST_DIR/oci" bb
    run -1 skopeo copy --dest-creds alice:s3cret "oci:$TEST_DIR/oci:bb" "docker://$REG/tls/bb:1"
    run -0 skopeo copy --dest-cert-dir "$TEST_DIR/tls/certs" --dest-creds alice:s3cret \
      "oci:$TEST_DIR/oci:bb" "docker://$REG/tls/bb:1"
    run -0 skopeo copy --src-cert-dir "$TEST_DIR/tls/certs" --src-creds alice:s3cret \
      "docker://$REG/tls/bb:1" "oci:$TEST_DIR/back:bb"
    local a b
    a=$(jq -r '.manifests[] | select(.annotations."org.opencontainers.image.ref.name"=="bb") | .digest' "$TEST_DIR/oci/index.json")
    b=$(jq -r '.manifests[0].digest' "$TEST_DIR/back/index.json")
    assert_eq "$b" "$a"
    stop_registry
  fi
}

@test "gc racing pushes and deletes: every push that succeeds pulls whole" {
  command -v skopeo >/dev/null || skip "no skopeo"
  oci_layout "$TEST_DIR/oci" base
  local i
  for i in 1 2 3 4 5 6; do
    umoci config --image "$TEST_DIR/oci:base" --tag "t$i" --config.cmd "echo $i" >/dev/null
  done
  start_registry --gc-interval 1s --gc-grace 0s
  # A collector with no grace at all, over and over, in another process too.
  (while :; do "$BERTH" registry gc --root "$ROOT" --grace 0s >/dev/null 2>&1 || true; done) &
  echo $! >>"$TEST_DIR/pids"
  local gc_pid=$! ok=0
  for i in 1 2 3 4 5 6; do
    # The previous image goes first: the layer it shares with this one is unreferenced until
    # this push's manifest names it again.
    if ((i > 1)); then
      skopeo delete --tls-verify=false "docker://$REG/race/img:t$((i - 1))" >/dev/null 2>&1 || true
    fi
    # A push may fail (a blob it found present collected before its manifest came: the
    # registry says MANIFEST_BLOB_UNKNOWN); one that succeeds must pull whole, GC running on.
    if skopeo copy --dest-tls-verify=false "oci:$TEST_DIR/oci:t$i" "docker://$REG/race/img:t$i" >/dev/null 2>&1; then
      ok=$((ok + 1))
      run -0 skopeo copy --src-tls-verify=false "docker://$REG/race/img:t$i" "oci:$TEST_DIR/back:t$i"
    fi
  done
  kill "$gc_pid"
  wait "$gc_pid" 2>/dev/null || true
  ((ok > 0)) || fail "no push succeeded"
  echo "# $ok of 6 pushes succeeded" >&3
  # Pushed again once the collectors stop: whole.
  run -0 skopeo copy --dest-tls-verify=false "oci:$TEST_DIR/oci:t1" "docker://$REG/race/img:again"
  run -0 skopeo copy --src-tls-verify=false "docker://$REG/race/img:again" "oci:$TEST_DIR/back:again"
  stop_registry
}

@test "hostile requests are refused and the registry keeps serving" {
  start_registry
  echo data >"$TEST_DIR/f"
  run -0 put_blob safe "$TEST_DIR/f"
  local t
  for t in "/v2/a/../safe/tags/list" "/v2/..%2Fsafe/tags/list" "/v2/_x/tags/list" "/v2/A/tags/list"; do
    run -0 curl -s --path-as-is "$URL$t"
    assert_eq "$(jq -r '.errors[0].code' <<<"$output")" NAME_INVALID "$t"
  done
  # A manifest over 4 MiB.
  head -c $((4 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$TEST_DIR/big"
  run -0 curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary "@$TEST_DIR/big" \
    -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' "$URL/v2/safe/manifests/big"
  assert_eq "$output" 413
  # Garbage instead of HTTP, and a client that goes away mid-chunk.
  exec 7<>"/dev/tcp/127.0.0.1/${REG#*:}"
  printf 'NOT HTTP AT ALL\r\n\r\n' >&7
  exec 7>&-
  local loc
  loc=$(curl -si -X POST "$URL/v2/safe/blobs/uploads/" | sed -n 's/^Location: \(.*\)\r$/\1/p')
  exec 7<>"/dev/tcp/127.0.0.1/${REG#*:}"
  printf 'PATCH %s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789' "$loc" >&7
  exec 7>&-
  # The upload keeps what arrived (resumable) once the server has seen the close.
  local i range=
  for ((i = 0; i < 100; i++)); do
    range=$(curl -si "$URL$loc" | sed -n 's/^Range: \(.*\)\r$/\1/p')
    [[ $range == 0-9 ]] && break
    sleep 0.05
  done
  assert_eq "$range" 0-9
  run -0 curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL$loc"
  assert_eq "$output" 204
  run -0 curl -s "$URL/v2/safe/tags/list"
  assert_eq "$output" '{"name":"safe","tags":[]}'
  stop_registry
}
