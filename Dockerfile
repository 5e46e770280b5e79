# syntax=docker/dockerfile:1
# The ADO image: `ado worker --pool task|code|review` and `ado api` against a Temporal cluster.
# No Temporal CLI inside: production workers connect to a cluster (TEMPORAL_ADDRESS...), they do
# not start a dev server. Secrets come from the environment at run time, never from the image.
#
#   docker build -t ado:0.1.0 .
#   docker run --rm ado:0.1.0 --help
#
# The code and review pools run repository commands in bubblewrap, which needs user namespaces
# inside the container: see docs/production.md ("The sandbox inside a container").

# Same Node.js as development and CI; pin a digest too (node:20.20.2-bookworm-slim@sha256:...)
# when your registry policy asks for it.
ARG NODE_VERSION=20.20.2

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# Dependencies first, so that a source change does not reinstall them. Scripts are skipped here:
# the package's own `prepare` would build before the sources are copied, and no dependency needs
# its install script for the build (native parts come as prebuilt optional packages).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
# dist/ (compiled CLI, workers, API) and dist/workflow-bundle.js (the prebuilt workflow code),
# then only the production dependencies for the runtime stage.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# gVisor's runsc, for ADO_SANDBOX=gvisor, only when asked: docker build --build-arg WITH_RUNSC=true .
# Built from the Go module proxy (the Go toolchain comes from there too); the pins are those of
# src/sandbox/gvisor/runsc-binary.ts. Without it the stage is an empty folder and costs nothing.
FROM node:${NODE_VERSION}-bookworm-slim AS runsc
ARG WITH_RUNSC=false
ARG RUNSC_GO_TOOLCHAIN=go1.27.3
ARG RUNSC_VERSION=v0.0.0-20260905035102-160fafc42237
COPY scripts/runsc/build-static.sh /usr/local/bin/build-runsc
RUN mkdir -p /opt/runsc \
  && if [ "$WITH_RUNSC" = true ]; then \
       apt-get update && apt-get install -y --no-install-recommends ca-certificates unzip \
       && build-runsc /opt/runsc "$RUNSC_GO_TOOLCHAIN" "$RUNSC_VERSION"; \
     fi

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# bubblewrap: the sandbox (prlimit, which it also uses, is in util-linux, part of every Debian);
# git: workspaces and the shared remotes; openssh-client: repositories given as ssh:// or
# git@host:owner/repo URLs; ca-certificates: TLS to Temporal Cloud, the LLM, GitHub.
RUN apt-get update \
  && apt-get install -y --no-install-recommends bubblewrap git openssh-client ca-certificates \
  && rm -rf /var/lib/apt/lists/*
# A fixed, unprivileged uid/gid, so that volumes shared between hosts (the git remotes) can be
# owned by it. /var/lib/ado is ADO home; its git/ folder is where the shared remotes volume is
# mounted, created here so that a new named volume starts out owned by ado.
RUN groupadd --system --gid 10001 ado \
  && useradd --system --uid 10001 --gid ado --home-dir /var/lib/ado --shell /usr/sbin/nologin ado \
  && mkdir -p /var/lib/ado/git /var/lib/ado/workspaces \
  && chown -R ado:ado /var/lib/ado
WORKDIR /app
# The code belongs to root and is read-only for the process that runs it.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# The web console's static files, which the API serves from the package's src/console/assets.
COPY --from=build /app/src/console/assets ./src/console/assets
# runsc when the image was built WITH_RUNSC=true (the gvisor backend finds it on PATH), else nothing.
COPY --from=runsc /opt/runsc/ /usr/local/bin/
ENV NODE_ENV=production \
    ADO_HOME=/var/lib/ado \
    ADO_GIT_REMOTES=/var/lib/ado/git \
    ADO_WORKSPACES=/var/lib/ado/workspaces \
    ADO_LOG_FORMAT=json
USER ado:ado
ENTRYPOINT ["node", "bin/ado.js"]
CMD ["--help"]
