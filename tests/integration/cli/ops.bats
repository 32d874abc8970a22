#!/usr/bin/env bats
# berth stop, kill, restart, pause, unpause, rm, rename, update, port, top, diff, commit,
# export, inspect, stats, events, container prune and the `container` group, compared with the
# docker CLI on the same daemon (ops_helpers.bash).

load ops_helpers

setup_file() { ops_setup_file; }
teardown_file() { ops_teardown_file; }
teardown() { ops_teardown; }

@test "missing containers: docker's errors and exit codes, per name" {
  local c
  for c in stop kill rm pause unpause restart top port diff export commit; do
    same_as_docker $c ops-nope
  done
  same_as_docker stop ops-nope1 ops-nope2
  same_as_docker rm -f ops-nope
  same_as_docker inspect ops-nope
  same_as_docker container inspect ops-nope
  same_as_docker rename ops-nope ops-x
  same_as_docker update --memory 10m ops-nope
  same_as_docker stats --no-stream ops-nope
  same_as_docker cp ops-nope:/x "$OPS_DIR/x"
}

@test "usage errors: missing arguments exit 1, unknown flags 125" {
  same_as_docker stop
  same_as_docker rm
  same_as_docker stop --bogus x
  same_as_docker inspect --type foo x
}

@test "stop, kill, restart, pause, unpause, rm print each name; the others still happen" {
  drun --name ops-a busybox sleep 600 >/dev/null
  drun --name ops-b busybox sleep 600 >/dev/null
  run -0 b pause ops-a ops-b
  assert_eq "$output" $'ops-a\nops-b'
  assert_contains "$(b ps --filter name=ops-a --format '{{.Status}}')" "(Paused)"
  run -0 b unpause ops-a ops-b
  assert_eq "$(d inspect -f '{{.State.Paused}}' ops-a)" false
  run_bd kill ops-a ops-nope ops-b
  assert_eq "$B_RC" 1
  assert_eq "$B_OUT" $'ops-a\nops-b'
  assert_eq "$B_ERR" "Error response from daemon: Cannot kill container: ops-nope: No such container: ops-nope"
  assert_eq "$(d inspect -f '{{.State.Running}}' ops-a)" false
  run -0 b restart -t 0 ops-a
  assert_eq "$output" ops-a
  assert_eq "$(d inspect -f '{{.State.Running}}' ops-a)" true
  run -0 b stop -t 1 ops-a
  assert_eq "$(d inspect -f '{{.State.Running}}' ops-a)" false
  run -1 b rm ops-a ops-nope
  assert_eq "$(d ps -aq --filter name=ops-a)" ""
  run -0 b rm -f ops-b
  assert_eq "$output" ops-b
}

@test "rename, update, port, top, diff" {
  drun --name ops-u busybox sh -c 'mkdir /newdir; echo x >/tmp/f; rm /bin/ls; sleep 600' >/dev/null
  run -0 b rename ops-u ops-v
  assert_eq "$(d inspect -f '{{.Name}}' ops-v)" /ops-v
  run -0 b update --memory 20m --memory-swap 40m --cpus 0.5 --cpu-shares 512 --pids-limit 50 --restart on-failure:3 ops-v
  assert_contains "$output" ops-v
  assert_eq "$(d inspect -f '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' ops-v)" \
    "20971520 41943040 500000000 512 50 on-failure:3"
  run -0 b update --cpuset-cpus 0 ops-v
  assert_eq "$(d inspect -f '{{.HostConfig.CpusetCpus}}' ops-v)" 0
  run -1 b update ops-v
  assert_contains "$output" "you must provide one or more flags"
  same_as_docker port ops-v
  same_as_docker port ops-v 80
  # the default columns include C (CPU %) and TIME, which may tick between the two runs
  run_bd top ops-v
  assert_eq "$B_RC" 0
  assert_eq "$(head -1 <<<"$B_OUT")" "$(head -1 <<<"$D_OUT")" "top header"
  assert_eq "$(awk '{print $2, $3}' <<<"$B_OUT")" "$(awk '{print $2, $3}' <<<"$D_OUT")" "top pids"
  same_as_docker top ops-v -o pid,comm
  run_bd diff ops-v
  assert_eq "$(sort <<<"$B_OUT")" "$(sort <<<"$D_OUT")" "diff"
  assert_contains "$B_OUT" "A /newdir"
  assert_contains "$B_OUT" "D /bin/ls"
}

@test "commit (-m -a -c) and export" {
  drun --name ops-c busybox sh -c 'echo hello >/hello; sleep 600' >/dev/null
  run -0 b commit -m msg -a me -c 'ENV A=1' ops-c ops-img:v1
  [[ $output == sha256:* ]] || fail "commit printed '$output'"
  assert_eq "$(d inspect -f '{{.Id}}' ops-img:v1)" "$output"
  assert_eq "$(d inspect -f '{{.Comment}} {{.Author}}' ops-img:v1)" "msg me"
  assert_contains "$(d inspect -f '{{.Config.Env}}' ops-img:v1)" "A=1"
  d rmi ops-img:v1 >/dev/null
  run -0 b export -o "$OPS_DIR/c.tar" ops-c
  tar -xOf "$OPS_DIR/c.tar" hello >"$OPS_DIR/hello"
  assert_eq "$(cat "$OPS_DIR/hello")" hello
  b export ops-c | tar -t >"$OPS_DIR/list"
  grep -qx 'bin/sh' "$OPS_DIR/list" || fail "export to stdout has no bin/sh"
}

@test "inspect: containers first, --type, -f, -s, container inspect, image inspect" {
  drun --name ops-i -l k=v busybox sleep 600 >/dev/null
  same_as_docker inspect -f '{{.Name}} {{.State.Status}} {{index .Config.Labels "k"}}' ops-i
  same_as_docker inspect -f '{{json .Config.Labels}}' ops-i
  same_as_docker inspect --type container -f '{{.Id}}' ops-i
  same_as_docker inspect --type image -f '{{.Id}}' busybox
  same_as_docker inspect -f '{{.Id}}' busybox
  same_as_docker inspect -s -f '{{.State.Running}} {{.SizeRw}}' ops-i
  same_as_docker inspect -f '{{.Name}}' ops-nope ops-i
  same_as_docker container inspect -f '{{range .Mounts}}{{.Destination}}{{end}}|{{.HostConfig.NetworkMode}}' ops-i
  same_as_docker image inspect -f '{{.Os}}' busybox
  run_bd inspect ops-i
  assert_eq "$B_RC" 0
  assert_eq "$(jq -r '.[0].Id' <<<"$B_OUT" 2>/dev/null || python3 -c 'import json,sys;print(json.load(sys.stdin)[0]["Id"])' <<<"$B_OUT")" \
    "$(d inspect -f '{{.Id}}' ops-i)"
}

@test "stats --no-stream: docker's columns for the same containers; stats streams" {
  drun --name ops-s busybox sleep 600 >/dev/null
  dcreate --name ops-s2 busybox >/dev/null
  run -0 b stats --no-stream ops-s ops-s2
  assert_eq "${lines[0]}" "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O   PIDS"
  [[ ${lines[1]} == "$(d inspect -f '{{slice .Id 0 12}}' ops-s)   ops-s "* ]] || fail "row: ${lines[1]}"
  [[ ${lines[1]} =~ [0-9.]+%\ +[0-9.]+[KMG]?i?B\ /\ [0-9.]+[KMGT]?i?B ]] || fail "usage: ${lines[1]}"
  same_as_docker stats --no-stream ops-s2 --format '{{json .}}'
  run -0 b stats --no-stream --format '{{.Name}} {{.PIDs}}' ops-s
  assert_eq "$output" "ops-s 1"
  run -0 b stats --no-stream --no-trunc --format '{{.ID}}' ops-s
  assert_eq "$output" "$(d inspect -f '{{.Id}}' ops-s)"
  # live: a redraw arrives within the first seconds
  BERTH_HOST="unix://$OPS_SOCK" timeout 4 "$BERTH" stats --format '{{.Name}}' ops-s >"$OPS_DIR/live" || true
  grep -qx ops-s "$OPS_DIR/live" || fail "live stats printed: $(cat "$OPS_DIR/live")"
}

@test "events --since/--until, --filter, --format as docker prints them" {
  local since
  since=$(date +%s)
  drun --name ops-e busybox true >/dev/null
  d wait ops-e >/dev/null
  local until=$(($(date +%s) + 1))
  same_as_docker events --since "$since" --until "$until" --filter container=ops-e
  same_as_docker events --since "$since" --until "$until" --filter event=start --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'
  same_as_docker events --since "$since" --until "$until" --filter container=ops-e --format json
  run -0 b events --since "$since" --until "$until" --filter container=ops-e
  assert_contains "$output" " container start "
  # a live stream prints each event as it comes
  BERTH_HOST="unix://$OPS_SOCK" timeout 5 "$BERTH" events --filter container=ops-e2 --format '{{.Action}}' >"$OPS_DIR/ev" &
  local pid=$!
  sleep 1
  dcreate --name ops-e2 busybox >/dev/null
  wait "$pid" || true
  grep -qx create "$OPS_DIR/ev" || fail "live events: $(cat "$OPS_DIR/ev")"
}

@test "container prune and the container group" {
  d run -l berth-ops-test=1 -l prune-me=1 --name ops-p busybox true >/dev/null
  run -0 b container ls -aq --filter name=ops-p
  assert_eq "$output" "$(d ps -aq --filter name=ops-p)"
  run -0 b container prune -f --filter label=prune-me=1
  assert_contains "$output" "Deleted Containers:"
  assert_contains "$output" "$(d inspect -f '{{.Id}}' ops-p 2>/dev/null || true)"
  assert_contains "$output" "Total reclaimed space:"
  assert_eq "$(d ps -aq --filter name=ops-p)" ""
  run -0 b container prune -f --filter label=prune-me=1
  assert_eq "$output" "Total reclaimed space: 0B"
  run -0 b container prune <<<"n"
  assert_contains "$output" "WARNING! This will remove all stopped containers."
  drun --name ops-g busybox sleep 600 >/dev/null
  run -0 b container stop -t 0 ops-g
  assert_eq "$output" ops-g
  run -0 b container inspect -f '{{.State.Status}}' ops-g
  assert_eq "$output" exited
  run -0 b container rm ops-g
}
