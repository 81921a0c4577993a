#!/usr/bin/env bash
# A real single-node Apache Kafka 4.x (KRaft, broker + controller in one JVM) for local work and
# the integration tests, from the Maven Central jars and Debian's OpenJDK 17 — no Docker, no
# tarball. reference/infra.md §4 has the background.
#
#   deploy/local/kafka.sh start  [--dir DIR]   start (or find running) and print HRET_KAFKA=...
#   deploy/local/kafka.sh stop   [--dir DIR]   stop and delete the broker's data
#   deploy/local/kafka.sh stop --keep [--dir DIR]  stop the JVM only: the next start restarts the
#                                              same broker (same port, data and topics)
#   deploy/local/kafka.sh status [--dir DIR]   print HRET_KAFKA=... and exit 0 when running
#
# DIR holds the state of one broker (default $HRET_KAFKA_DIR, else /tmp/hret-kafka-$UID); give
# each concurrent user its own DIR. The first start downloads the jars with Maven into
# deploy/local/.cache/kafka-<version>/ (git-ignored); later starts reuse them.
#
# Environment: KAFKA_VERSION (default 4.1.1), HRET_KAFKA_PARTITIONS (default 3),
# HRET_KAFKA_TOPICS (default: the hret.eval.* topics and their .dlq), HRET_KAFKA_HEAP (512m),
# HRET_KAFKA_START_TIMEOUT seconds (default 90).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
version=${KAFKA_VERSION:-4.1.1}
log4j_version=2.24.3
slf4j_version=2.0.16 # kafka's poms say 1.7.36 (for old clients); the log4j2 binding needs 2.x
cache=${HRET_KAFKA_CACHE:-$here/.cache}/kafka-$version
partitions=${HRET_KAFKA_PARTITIONS:-3}
heap=${HRET_KAFKA_HEAP:-512m}
start_timeout=${HRET_KAFKA_START_TIMEOUT:-90}
default_topics="hret.eval.requests hret.eval.tasks hret.eval.results hret.eval.alerts"
topics=${HRET_KAFKA_TOPICS:-}
if [ -z "$topics" ]; then
  for t in $default_topics; do topics="$topics $t $t.dlq"; done
fi

die() { echo "kafka.sh: $*" >&2; exit 1; }
say() { echo "kafka.sh: $*" >&2; }

cmd=${1:-}
[ $# -gt 0 ] && shift
dir=${HRET_KAFKA_DIR:-${TMPDIR:-/tmp}/hret-kafka-$(id -u)}
keep=0
while [ $# -gt 0 ]; do
  case $1 in
  --dir) dir=${2:?--dir needs a directory}; shift 2 ;;
  --keep) keep=1; shift ;;
  *) die "unknown argument '$1' (usage: kafka.sh start|stop|status [--dir DIR])" ;;
  esac
done

# ---- jars -------------------------------------------------------------------------------------

# The broker's runtime class path plus a log4j2 backend (not a dependency of kafka_2.13, so
# without it the broker logs nothing at all).
fetch_jars() {
  local recipe="kafka_2.13:$version log4j:$log4j_version slf4j:$slf4j_version"
  [ "$(cat "$cache/libs/.complete" 2>/dev/null)" = "$recipe" ] && return 0
  command -v mvn >/dev/null || die "mvn not found (deploy/local/deps.sh installs maven)"
  say "downloading Apache Kafka $version jars with Maven into $cache (first run only)"
  mkdir -p "$cache"
  cat >"$cache/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.hret</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>$version</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId>
      <version>$slf4j_version</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId>
      <version>$log4j_version</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId>
      <version>$log4j_version</version></dependency>
  </dependencies>
</project>
EOF
  rm -rf "$cache/libs.tmp"
  if ! mvn -B -q -f "$cache/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$cache/libs.tmp" >"$cache/mvn.log" 2>&1; then
    tail -n 30 "$cache/mvn.log" >&2
    die "maven could not resolve org.apache.kafka:kafka_2.13:$version (log: $cache/mvn.log)"
  fi
  ls "$cache/libs.tmp"/kafka_2.13-"$version".jar >/dev/null || die "kafka_2.13 jar missing"
  echo "$recipe" >"$cache/libs.tmp/.complete"
  rm -rf "$cache/libs"
  mv "$cache/libs.tmp" "$cache/libs"
}

# A small admin program (kafka-clients AdminClient): waits until the broker answers a metadata
# request, creates the topics and waits until each has a leader. One JVM instead of one
# kafka-topics run per topic. Compiled once per version with javac (openjdk-17-jdk-headless);
# without javac, java runs the source file directly (that needs the jdk.compiler module).
admin_src() {
  cat <<'EOF'
import java.util.*;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.errors.TopicExistsException;

public class HretKafkaReady {
    public static void main(String[] a) throws Exception {
        String brokers = a[0];
        long pid = Long.parseLong(a[1]);
        long deadline = System.currentTimeMillis() + Long.parseLong(a[2]) * 1000L;
        int partitions = Integer.parseInt(a[3]);
        List<String> topics = Arrays.asList(a).subList(4, a.length);
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "200");
        try (Admin admin = Admin.create(p)) {
            while (true) {
                if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                    fail("the broker process " + pid + " exited");
                if (System.currentTimeMillis() > deadline) fail("no metadata before the deadline");
                try {
                    admin.describeCluster().nodes().get();
                    break;
                } catch (ExecutionException e) {
                    Thread.sleep(100);
                }
            }
            List<NewTopic> want = new ArrayList<>();
            for (String t : topics) want.add(new NewTopic(t, partitions, (short) 1));
            for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<Void>> e :
                 admin.createTopics(want).values().entrySet()) {
                try {
                    e.getValue().get();
                } catch (ExecutionException ex) {
                    if (!(ex.getCause() instanceof TopicExistsException)) throw ex;
                }
            }
            while (true) {
                if (System.currentTimeMillis() > deadline) fail("topics have no leader in time");
                try {
                    boolean ok = true;
                    for (TopicDescription d : admin.describeTopics(topics).allTopicNames().get().values())
                        for (org.apache.kafka.common.TopicPartitionInfo i : d.partitions())
                            ok &= i.leader() != null && i.leader().id() >= 0;
                    if (ok) return;
                } catch (ExecutionException e) {
                    // unknown topic right after creation: ask again
                }
                Thread.sleep(100);
            }
        }
    }

    static void fail(String why) {
        System.err.println("kafka.sh: readiness: " + why);
        System.exit(1);
    }
}
EOF
}

admin_ready() { # brokers pid timeout
  local classes=$cache/admin
  if [ ! -f "$classes/HretKafkaReady.class" ] && command -v javac >/dev/null; then
    mkdir -p "$classes.tmp"
    admin_src >"$classes.tmp/HretKafkaReady.java"
    if javac -nowarn -cp "$cache/libs/*" -d "$classes.tmp" "$classes.tmp/HretKafkaReady.java" \
      2>"$cache/javac.log"; then
      rm -rf "$classes" && mv "$classes.tmp" "$classes"
    fi
  fi
  local jopts=(-Xshare:auto -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m
    -Dlog4j2.configurationFile="$dir/log4j2-tools.properties")
  if [ -f "$classes/HretKafkaReady.class" ]; then
    java "${jopts[@]}" -cp "$classes:$cache/libs/*" HretKafkaReady "$@" "$partitions" $topics
  else # JRE only: Java 11+ runs a single source file directly
    admin_src >"$dir/HretKafkaReady.java"
    java "${jopts[@]}" -cp "$cache/libs/*" "$dir/HretKafkaReady.java" "$@" "$partitions" $topics
  fi
}

# ---- state ------------------------------------------------------------------------------------

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

running_pid() { # prints the pid when the recorded broker is alive
  [ -f "$dir/pid" ] || return 1
  local pid
  pid=$(cat "$dir/pid")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # a recycled pid is not our broker
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka.Kafka' || return 1
  echo "$pid"
}

do_status() {
  if running_pid >/dev/null && [ -f "$dir/brokers" ]; then
    echo "HRET_KAFKA=$(cat "$dir/brokers")"
    return 0
  fi
  say "not running (state in $dir)"
  return 3
}

do_stop() {
  local pid
  if pid=$(running_pid); then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do # controlled shutdown takes a few seconds
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "broker $pid did not stop in 15 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  if [ "$keep" = 1 ] && [ -f "$dir/brokers" ]; then
    touch "$dir/kept" # the next start relaunches this broker on its data and port
    rm -f "$dir/pid"
    return 0
  fi
  rm -rf "$dir/data" "$dir/pid" "$dir/brokers" "$dir/kept" "$dir/HretKafkaReady.java"
}

t0=$SECONDS

do_start() {
  if do_status 2>/dev/null; then
    return 0
  fi
  command -v java >/dev/null || die "java not found (deploy/local/deps.sh installs openjdk-17)"
  fetch_jars
  if [ -f "$dir/kept" ]; then # after stop --keep: same server.properties, no format
    run_broker && rm -f "$dir/kept" && return 0
    tail -n 40 "$dir/kafka.log" >&2
    die "the kept broker did not become ready again (log: $dir/kafka.log)"
  fi
  for attempt in 1 2 3; do
    launch && return 0
    # a free port can be taken between choosing it and binding it: choose again
    grep -q 'Address already in use' "$dir/kafka.log" 2>/dev/null && [ "$attempt" -lt 3 ] ||
      break
    say "port taken while starting; retrying"
  done
  tail -n 40 "$dir/kafka.log" >&2
  die "the broker did not become ready (log: $dir/kafka.log)"
}

launch() {
  rm -rf "$dir/data"
  local port cport id
  port=$(free_port)
  cport=$(free_port)
  while [ "$cport" = "$port" ]; do cport=$(free_port); done
  # A cluster id is 16 random bytes in URL-safe base64 without padding (what
  # `kafka-storage random-uuid` prints); one not starting with '-' reads as no option.
  id=-
  while [ "${id:0:1}" = - ]; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
  done
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=$partitions
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
message.max.bytes=10485760
EOF
  cat >"$dir/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
logger.kafka.name = kafka
logger.kafka.level = warn
logger.server.name = org.apache.kafka
logger.server.level = warn
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = info
EOF
  # the tools only say what went wrong: connection refused while waiting is expected
  sed 's/level = warn$/level = error/' "$dir/log4j2.properties" >"$dir/log4j2-tools.properties"
  local common=(-Xshare:auto -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$dir/log4j2.properties" -Dkafka.logs.dir="$dir"
    -cp "$cache/libs/*")
  # a short-lived tool: the quick JIT tier and the serial GC start fastest
  if ! java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "${common[@]}" \
    -Dlog4j2.configurationFile="$dir/log4j2-tools.properties" \
    kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" >"$dir/format.log" 2>&1; then
    cat "$dir/format.log" >&2
    die "formatting the storage failed"
  fi
  run_broker
}

# Starts the JVM on $dir/server.properties and waits until it answers (and has the topics).
run_broker() {
  local common=(-Xshare:auto -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$dir/log4j2.properties" -Dkafka.logs.dir="$dir"
    -cp "$cache/libs/*")
  local port
  port=$(sed -n 's/^advertised.listeners=PLAINTEXT:\/\/127.0.0.1://p' "$dir/server.properties")
  nohup setsid java -Xmx"$heap" -Xms"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 "${common[@]}" \
    kafka.Kafka "$dir/server.properties" >"$dir/kafka.log" 2>&1 \
    </dev/null 9>&- &
  local pid=$!
  echo "$pid" >"$dir/pid"
  if ! admin_ready "127.0.0.1:$port" "$pid" "$start_timeout"; then
    do_stop
    return 1
  fi
  echo "127.0.0.1:$port" >"$dir/brokers"
  say "Kafka $version ready on 127.0.0.1:$port in $((SECONDS - t0)) s (state in $dir)"
  echo "HRET_KAFKA=127.0.0.1:$port"
}

# one command at a time per state directory (two tests starting the same broker)
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock -w 180 9 || die "another kafka.sh has held $dir/.lock for 3 minutes"

case $cmd in
start) do_start ;;
stop) do_stop ;;
status) do_status ;;
*) die "usage: kafka.sh start|stop|status [--dir DIR]" ;;
esac
