# The sciops workers image: the CLI and the worker entry on Node.js 20, with PostgreSQL's client tools (pg_dump,
# psql) that backups and restores stream through. One image for every queue: the command picks what runs,
#   docker run IMAGE worker --queues db        (the default command runs every queue)
#   docker run IMAGE codec-server --listen 0.0.0.0:8081 --ui-origin https://temporal-ui.example.org
# NODE_IMAGE and BASE_IMAGE can point at a mirror. BASE_IMAGE is Debian 13 (trixie) for its PostgreSQL client, 17:
# pg_dump dumps servers of its own major version or older only, and docker-compose.yml runs postgres:16. Debian 12
# (bookworm) and bookworm-backports carry client 15 only, which refuses a 16 server ("server version mismatch").
# The compose file's server stays at 16: no other major version opens its data directory without pg_upgrade.
# A bookworm base still builds (the test build uses one); its db worker then refuses backups of newer servers up
# front, naming SCIOPS_PG_BIN_DIR. Node's binary from NODE_IMAGE (bookworm) runs on trixie's newer C library.
ARG NODE_IMAGE=node:20-bookworm-slim
ARG BASE_IMAGE=debian:trixie-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# `npm install`, not `npm ci`: the lockfile (written by npm 11) lacks other platforms' optional packages, which
# `npm ci` then calls out of sync; versions still come from the lockfile (as scripts/node-deps.sh does).
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE} AS node

FROM ${BASE_IMAGE}
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates postgresql-client \
  && rm -rf /var/lib/apt/lists/* \
  && pg_dump --version && psql --version
COPY --from=node /usr/local/bin/node /usr/local/bin/node
# Workers run as an unprivileged user; only the docker queue's worker needs the Docker socket (see docker-compose.yml).
RUN useradd --system --uid 10001 --home-dir /var/lib/sciops --create-home sciops
WORKDIR /opt/sciops
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
ENV NODE_ENV=production \
  SCIOPS_STATE_DIR=/var/lib/sciops \
  SCIOPS_EXPERIMENTS_DIR=/var/lib/sciops/experiments \
  SCIOPS_SECRETS_DIR=/var/lib/sciops/secrets \
  SCIOPS_LOG_FORMAT=json \
  SCIOPS_METRICS_ADDRESS=0.0.0.0:9464
USER sciops
EXPOSE 9464
ENTRYPOINT ["node", "/opt/sciops/dist/clients/cli.js"]
CMD ["worker"]
