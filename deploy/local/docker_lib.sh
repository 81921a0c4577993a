# A private Docker engine and locally made Debian base images, as shell functions: sourced by
# deploy/local/test_deploy.sh (make test-deploy). Not a script of its own.
#
# No image registry is reachable here, and the machine's own Docker (if any) is left alone:
#   docker_up       start dockerd on its own socket (vfs storage, no iptables, no default
#                   bridge: `docker run` gets --network host or none; user-defined bridge
#                   networks, as compose makes, work container to container), data under
#                   HRET_DEPLOY_CACHE/docker so built layers survive between runs; exports
#                   DOCKER_HOST. Waits until it answers, then removes what an interrupted run
#                   left (containers, volumes, networks: under the lock, nothing else is running)
#   docker_down     stop that dockerd (SIGTERM, then its pidfile is gone) and its containerd
#   docker_bases    debian:bookworm and debian:bookworm-slim made with
#                   `debootstrap --variant=minbase bookworm` + `docker import`; the rootfs
#                   tarball is cached in HRET_DEPLOY_CACHE/rootfs, so only the first run on a
#                   machine bootstraps
#   docker_build_hret SRC LOG
#                   build deploy/Dockerfile from the sources in SRC now, tagged by their content
#                   (hret:src-<sha256 of the worktree's files>), and print that tag; keeps the
#                   newest 3 such builds (and their build stages, the compile cache), removes
#                   older ones and untagged leftovers so the cache stays bounded
#   docker_source_id SRC
#                   that content hash: deploy/Dockerfile and every file of the build context
#                   (what .dockerignore lets through of the files git lists in SRC, tracked or
#                   not), by path, mode and content
#
# HRET_DEPLOY_CACHE defaults to /var/cache/hret-deploy: outside the checkout on purpose (CI
# runs on a clean checkout; the second run on a machine is warm). One engine per cache: a lock
# (flock on HRET_DEPLOY_CACHE/lock, held by the caller's shell) serialises concurrent runs.

: "${HRET_DEPLOY_CACHE:=/var/cache/hret-deploy}"
DOCKER_BIN=/usr/bin/docker # Debian's docker.io, whatever else is on PATH
docker_run_dir=""

docker_say() { printf '    %s\n' "$*"; }
docker_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

docker_cli() { "$DOCKER_BIN" "$@"; }

docker_lock() {
  mkdir -p "$HRET_DEPLOY_CACHE"
  exec 9>"$HRET_DEPLOY_CACHE/lock"
  flock -w 3600 9 || docker_die "another make test-deploy holds $HRET_DEPLOY_CACHE/lock"
}

docker_up() {
  docker_lock
  docker_run_dir=$(mktemp -d /tmp/hret-dockerd.XXXXXX)
  export DOCKER_HOST="unix://$docker_run_dir/docker.sock"
  setsid /usr/sbin/dockerd --storage-driver vfs --iptables=false --ip-masq=false --bridge=none \
    -H "$DOCKER_HOST" --data-root "$HRET_DEPLOY_CACHE/docker" --exec-root "$docker_run_dir/exec" \
    --pidfile "$docker_run_dir/dockerd.pid" >"$docker_run_dir/dockerd.log" 2>&1 </dev/null &
  local i
  for i in $(seq 120); do
    docker_cli version >/dev/null 2>&1 && {
      docker_say "dockerd (private): $DOCKER_HOST, data in $HRET_DEPLOY_CACHE/docker"
      docker_sweep
      return 0
    }
    sleep 0.5
  done
  docker_die "dockerd did not answer in 60 s: $(tail -n 20 "$docker_run_dir/dockerd.log")"
}

# docker_sweep: what a run killed before its cleanup left in the engine (containers, compose
# volumes and networks). The lock makes this run the engine's only user.
docker_sweep() {
  local ids
  ids=$(docker_cli ps -aq)
  [ -z "$ids" ] || docker_cli rm -f -v $ids >/dev/null
  docker_cli volume prune -f >/dev/null
  docker_cli network prune -f >/dev/null
  [ -z "$ids" ] || docker_say "removed $(wc -w <<<"$ids") container(s) an earlier run left"
}

docker_down() {
  [ -n "$docker_run_dir" ] || return 0
  local pid i
  pid=$(cat "$docker_run_dir/dockerd.pid" 2>/dev/null) || pid=""
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for i in $(seq 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  # what dockerd leaves mounted in its exec root (the default network namespace)
  findmnt -rn -o TARGET | grep "^$docker_run_dir/" | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$docker_run_dir" 2>/dev/null || true
  docker_run_dir=""
}

# docker_rootfs: the minbase bookworm tarball, bootstrapped once per machine.
docker_rootfs() {
  local tar="$HRET_DEPLOY_CACHE/rootfs/bookworm-minbase.tar" root
  if [ ! -s "$tar" ]; then
    docker_say "debootstrap --variant=minbase bookworm (first run on this machine)" >&2
    mkdir -p "$HRET_DEPLOY_CACHE/rootfs"
    root=$(mktemp -d "$HRET_DEPLOY_CACHE/rootfs/build.XXXXXX")
    chmod 755 "$root" # the image's / (mktemp makes it 0700: no one but root could enter)
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian \
      >"$root.log" 2>&1 || docker_die "debootstrap failed: $(tail -n 20 "$root.log")"
    # As Debian's images: the same sources as the host (bookworm, -updates, -security), no
    # cached package lists, no recommends.
    cat >"$root/etc/apt/sources.list" <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
    echo 'APT::Install-Recommends "false";' >"$root/etc/apt/apt.conf.d/99no-recommends"
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
    tar -C "$root" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    rm -rf "$root" "$root.log"
  fi
  printf '%s\n' "$tar"
}

# docker_bases: import the tarball as debian:bookworm, and without documentation, man pages and
# locales (what Debian's -slim drops, kept out of later installs by a dpkg path-exclude) as
# debian:bookworm-slim. Skipped when both images exist.
docker_bases() {
  if docker_cli image inspect debian:bookworm debian:bookworm-slim >/dev/null 2>&1; then
    docker_say "base images debian:bookworm, debian:bookworm-slim: present"
    return 0
  fi
  local tar slim
  tar=$(docker_rootfs)
  docker_cli import -c 'CMD ["bash"]' "$tar" debian:bookworm >/dev/null ||
    docker_die "docker import debian:bookworm failed"
  slim=$(mktemp -d /tmp/hret-slim.XXXXXX)
  chmod 755 "$slim"
  tar -C "$slim" -xf "$tar"
  rm -rf "$slim"/usr/share/doc/* "$slim"/usr/share/man/* "$slim"/usr/share/info/*
  find "$slim/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  cat >"$slim/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  tar -C "$slim" -c . | docker_cli import -c 'CMD ["bash"]' - debian:bookworm-slim >/dev/null ||
    docker_die "docker import debian:bookworm-slim failed"
  rm -rf "$slim"
  docker_say "base images debian:bookworm, debian:bookworm-slim: imported from $tar"
}

docker_source_id() {
  git -C "$1" ls-files -z -co --exclude-standard | (cd "$1" && python3 -c '
import fnmatch, hashlib, os, sys
# The build context as .dockerignore (deploy/Dockerfile.dockerignore) gives it: "*", then
# "!PATH" for what goes in, then "**/PATTERN" for what stays out of it. Any other form is
# refused rather than read wrongly.
take, drop = [], []
for line in open(".dockerignore", encoding="utf-8"):
    line = line.strip()
    if not line or line.startswith("#") or line == "*":
        continue
    if line.startswith("!") and "*" not in line:
        take.append(line[1:].rstrip("/"))
    elif line.startswith("**/"):
        drop.append(line[3:].rstrip("/"))
    else:
        sys.exit(f"docker_source_id: cannot read the .dockerignore line {line!r}")
def in_context(p):
    if not any(p == t or p.startswith(t + "/") for t in take):
        return False
    parts = p.split("/")
    return not any(fnmatch.fnmatch(x, d) for d in drop for x in parts)
h = hashlib.sha256()
paths = {p.decode() for p in sys.stdin.buffer.read().split(b"\0") if p}
for p in sorted(p for p in paths if in_context(p) or p == "deploy/Dockerfile"):
    h.update(p.encode() + b"\0")
    if os.path.islink(p):
        h.update(b"l" + os.readlink(p).encode() + b"\0")
    elif os.path.isfile(p):
        st = os.stat(p)
        h.update(b"f%o %d\0" % (st.st_mode & 0o111, st.st_size))
        with open(p, "rb") as f:
            h.update(f.read())
print(h.hexdigest())')
}

docker_build_hret() {
  local src=$1 log=$2 id tag keep old
  id=$(docker_source_id "$src") || docker_die "cannot hash the sources in $src"
  tag=hret:src-${id:0:16}
  # The build stage tagged too: it is the compile cache the next build of these sources reuses.
  (cd "$src" && DOCKER_BUILDKIT=0 docker_cli build --force-rm --network host \
    -f deploy/Dockerfile --target build -t "hret-build:src-${id:0:16}" . &&
    DOCKER_BUILDKIT=0 docker_cli build --force-rm --network host -f deploy/Dockerfile \
      --label "hret.source-id=$id" -t "$tag" .) >"$log" 2>&1 || return 1
  # this build and the two newest others stay; older builds and their build stages go
  keep=$( (echo "src-${id:0:16}"
    docker_cli images --format '{{.CreatedAt}} {{.Tag}}' hret | sort -r | awk '{print $NF}' |
      grep '^src-' | grep -vx "src-${id:0:16}" | sed -n 1,2p) || true)
  for old in $( (docker_cli images --format '{{.Tag}}' hret
    docker_cli images --format '{{.Tag}}' hret-build) | grep '^src-' | sort -u); do
    grep -qx "$old" <<<"$keep" && continue
    docker_cli rmi "hret:$old" >/dev/null 2>&1 || true
    docker_cli rmi "hret-build:$old" >/dev/null 2>&1 || true
  done
  docker_cli rmi hret:test-deploy >/dev/null 2>&1 || true # the name before content tags
  docker_cli image prune -f >/dev/null # untagged: failed or superseded builds
  printf '%s\n' "$tag"
}
