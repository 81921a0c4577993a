# Stand-in for the official postgres image (deploy/compose.yaml's HRET_POSTGRES_IMAGE) where no
# registry is reachable: Debian's PostgreSQL 15. Behaves as the official image does for
# compose.yaml: POSTGRES_DB, POSTGRES_USER and POSTGRES_PASSWORD create the database and its
# owner on first start, the data lives in /var/lib/postgresql/data, clients over the network
# authenticate with the password (scram-sha-256), pg_isready is on PATH.
FROM debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY postgres-standin.sh /usr/local/bin/
USER postgres
ENTRYPOINT ["/usr/local/bin/postgres-standin.sh"]
