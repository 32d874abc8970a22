#!/usr/bin/env bats
# Sizes through berthd with the docker CLI: ps -s and inspect -s count the writable layer's
# files (SizeRw) and the image below (SizeRootFs); system df counts containers, the images
# they use as active, and volumes with their sizes and links.

bats_require_minimum_version 1.5.0
load helpers

setup() { containers_setup; }
teardown() { containers_teardown; }

@test "ps -s, inspect -s and system df measure the writable layer and the volumes" {
  docker run --name s1 -v dv:/d busybox sh -c 'head -c 100000 /dev/zero >/big; head -c 5000 /dev/zero >/d/f'
  run -0 docker inspect -s -f '{{.SizeRw}}' s1
  assert_eq "$output" 100000
  image=$(docker image inspect -f '{{.Size}}' busybox)
  run -0 docker inspect -s -f '{{.SizeRootFs}}' s1
  # the image's files (a hard link counted once per layer), and the container's
  ((output >= 100000 + image * 9 / 10)) || fail "SizeRootFs $output, image $image"
  run -0 docker ps -as --format '{{.Names}} {{.Size}}'
  assert_eq "${output%% (virtual*}" "s1 100kB"
  run -0 docker system df --format '{{.Type}} {{.TotalCount}} {{.Active}} {{.Size}}'
  assert_contains "$output" "Images 1 1 "
  assert_contains "$output" "Containers 1 0 100kB"
  assert_contains "$output" "Local Volumes 1 1 5kB"
  run -0 docker system df -v --format '{{range .Volumes}}{{.Name}} {{.Links}} {{.Size}}{{end}}'
  assert_eq "$output" "dv 1 5kB"
}
