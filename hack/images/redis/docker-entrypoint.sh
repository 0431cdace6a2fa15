#!/bin/sh
# docker-entrypoint.sh of localhost/redis (hack/images/build.sh), as in the official redis
# image: a first argument that is an option (-...) or a config file (*.conf) gets
# `redis-server` put in front; anything else runs as given. (The operator sets the command
# `redis-server` itself, which replaces this entrypoint.) The image runs as redis (999:1000),
# so there is no root-to-redis step.
set -eu
if [ "$#" = 0 ] || [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
exec "$@"
