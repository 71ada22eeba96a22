# tiegraph: multi-stage build. The runtime image holds the binary, the seed and nothing else
# of the toolchain, and runs as an unprivileged user.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# The explorer's page and scripts are compiled into the binary.
COPY explorer ./explorer
COPY tests ./tests
COPY seed ./seed
COPY schema.graphql ./
RUN cargo build --release --locked --bin tiegraph

FROM debian:bookworm-slim AS runtime
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin tiegraph \
    && mkdir -p /app /data \
    && chown tiegraph:tiegraph /data
WORKDIR /app
COPY --from=build /src/target/release/tiegraph /usr/local/bin/tiegraph
COPY seed ./seed
ENV TIEGRAPH_LISTEN=0.0.0.0:8080 \
    TIEGRAPH_DATA_DIR=/data \
    TIEGRAPH_SEED_DIR=/app/seed \
    RUST_LOG=info
USER tiegraph
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["tiegraph", "health"]
ENTRYPOINT ["tiegraph"]
CMD ["serve"]
