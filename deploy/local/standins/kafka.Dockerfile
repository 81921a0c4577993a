# Stand-in for apache/kafka (deploy/compose.yaml's HRET_KAFKA_IMAGE) where no registry is
# reachable: the Maven Central jars deploy/local/kafka.sh runs, on Debian's OpenJDK 17 JRE.
# Behaves as the official image does for compose.yaml: KAFKA_* variables become
# server.properties (KAFKA_NODE_ID -> node.id), the storage is formatted on first start, and
# /opt/kafka/bin/kafka-topics.sh --create and kafka-broker-api-versions.sh (the subset compose
# uses) work. Context: deploy/local/test_compose.sh assembles it (libs/, admin/, this script).
FROM debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 1000 appuser \
 && useradd --system --uid 1000 --gid 1000 --home-dir /var/lib/kafka appuser \
 && mkdir -p /var/lib/kafka/data /opt/kafka/bin \
 && chown -R appuser:appuser /var/lib/kafka
COPY libs/ /opt/kafka/libs/
COPY admin/ /opt/kafka/admin/
COPY kafka-standin.sh /opt/kafka/bin/
RUN cd /opt/kafka/bin && ln -s kafka-standin.sh kafka-topics.sh \
 && ln -s kafka-standin.sh kafka-broker-api-versions.sh && ln -s kafka-standin.sh kafka-server.sh
USER appuser
ENTRYPOINT ["/opt/kafka/bin/kafka-server.sh"]
