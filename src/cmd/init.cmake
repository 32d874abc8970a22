# berth-init: the pid 1 of `docker run --init` containers (bind-mounted at /sbin/docker-init).
# Fully static: it runs inside images that have no libc, or another one.
add_executable(berth-init ${CMAKE_CURRENT_LIST_DIR}/berth_init.cc)
target_link_options(berth-init PRIVATE -static)
