# syntax=docker/dockerfile:1
# Gatehouse container image: a release build in the Rust image, then only the binary and its
# default configuration on debian-slim, run as an unprivileged user.
#
#   docker build -t gatehouse .
#   docker run --rm -p 8080:8080 -e GATEHOUSE_ISSUER=http://localhost:8080 gatehouse
#
# State: the SQLite default lives in the /var/lib/gatehouse volume; for several nodes set
# GATEHOUSE_DATABASE_URL=postgres://… (see compose.yaml and docs/operations.md).

# ---- build ----
FROM rust:1.95-bookworm AS build
# aws-lc-rs (TLS, JOSE) compiles C; cmake and clang cover every aws-lc-sys build path.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake clang \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The cache mounts keep the registry and the target directory between builds; the binary is
# copied out of the mounted target directory so that the next stage can see it.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin gatehouse \
 && install -D -m 0755 target/release/gatehouse /out/gatehouse

# ---- runtime ----
FROM debian:bookworm-slim AS runtime
# ca-certificates: outbound HTTPS (jwks_uri fetches); curl: the health check below.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 gatehouse \
 && useradd --system --uid 10001 --gid gatehouse --home-dir /var/lib/gatehouse \
      --shell /usr/sbin/nologin gatehouse \
 && install -d -o gatehouse -g gatehouse -m 0700 /var/lib/gatehouse
COPY --from=build /out/gatehouse /usr/local/bin/gatehouse
COPY config/gatehouse.toml /etc/gatehouse/gatehouse.toml

ENV GATEHOUSE_LISTEN=0.0.0.0:8080 \
    GATEHOUSE_DATABASE_URL=sqlite:///var/lib/gatehouse/gatehouse.db?mode=rwc \
    GATEHOUSE_LOG_FORMAT=json
USER 10001:10001
WORKDIR /var/lib/gatehouse
VOLUME ["/var/lib/gatehouse"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/health/ready >/dev/null || exit 1
ENTRYPOINT ["/usr/local/bin/gatehouse", "--config", "/etc/gatehouse/gatehouse.toml"]
CMD ["serve"]
