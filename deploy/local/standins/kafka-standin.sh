#!/bin/bash
# The apache/kafka stand-in's commands, by the name it is called with (kafka.Dockerfile).
set -euo pipefail
cp="/opt/kafka/admin:/opt/kafka/libs/*"
quiet=(-Xshare:auto -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m
  -Dlog4j2.configurationFile=/tmp/log4j2-tools.properties)
printf 'status = error\nrootLogger.level = error\n' >/tmp/log4j2-tools.properties

arg() { # --name: its value from "$@" after the first argument
  local want=$1
  shift
  while [ $# -gt 0 ]; do
    [ "$1" = "$want" ] && { echo "$2"; return; }
    shift
  done
}

case $(basename "$0") in
kafka-broker-api-versions.sh) # the healthcheck: the broker answers metadata
  exec java "${quiet[@]}" -cp "$cp" HretKafkaReady "$(arg --bootstrap-server "$@")" $$ 8 1 ;;
kafka-topics.sh) # only --create [--if-not-exists] --topic T --partitions N (what compose uses)
  [[ " $* " == *" --create "* ]] || { echo "kafka stand-in: only --create" >&2; exit 2; }
  exec java "${quiet[@]}" -cp "$cp" HretKafkaReady "$(arg --bootstrap-server "$@")" $$ 60 \
    "$(arg --partitions "$@")" "$(arg --topic "$@")" ;;
kafka-server.sh)
  props=/var/lib/kafka/server.properties
  env | sed -n 's/^KAFKA_\([A-Z0-9_]*\)=\(.*\)$/\1=\2/p' | while IFS='=' read -r k v; do
    printf '%s=%s\n' "$(tr 'A-Z_' 'a-z.' <<<"$k")" "$v"
  done >"$props"
  if [ ! -f /var/lib/kafka/data/meta.properties ]; then
    id=-
    while [ "${id:0:1}" = - ]; do id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'); done
    java "${quiet[@]}" -cp "$cp" kafka.tools.StorageTool format -t "$id" -c "$props" >/dev/null
  fi
  printf 'status = warn\nappender.out.type = Console\nappender.out.name = out\nappender.out.layout.type = PatternLayout\nappender.out.layout.pattern = [%%d] %%p %%m (%%c)%%n\nrootLogger.level = warn\nrootLogger.appenderRef.out.ref = out\nlogger.started.name = kafka.server.KafkaRaftServer\nlogger.started.level = info\n' >/tmp/log4j2.properties
  exec java -Xmx512m -Xms512m -Xshare:auto -Dlog4j2.configurationFile=/tmp/log4j2.properties \
    -cp "$cp" kafka.Kafka "$props" ;;
*) echo "kafka stand-in: unknown command $(basename "$0")" >&2; exit 2 ;;
esac
