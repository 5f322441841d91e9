# civicline: one static-ish binary on a slim Debian, run as a non-root user.
# Build: docker build -t civicline .
# Run:   docker run -p 8080:8080 -v civicline-data:/var/lib/civicline \
#          -e CIVICLINE_SMS__PROVIDER=twilio -e CIVICLINE_TWILIO__AUTH_TOKEN=... \
#          -e CIVICLINE_SERVER__PUBLIC_URL=https://sms.example.org civicline

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependencies first, so a source change does not rebuild them. .cargo/config.toml compiles
# SQLite's percentile functions in (the dashboard's medians).
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
# Stub targets (the manifest names a bench and an example), so that this layer is the
# dependencies alone.
RUN mkdir -p src benches && echo 'fn main() {}' > src/main.rs && echo '' > src/lib.rs \
    && echo 'fn main() {}' > benches/outbox_drain.rs && echo 'fn main() {}' > benches/loadgen.rs \
    && cargo build --release --locked \
    && rm -rf src benches target/release/.fingerprint/civicline-*
# Everything the build reads: sqlx embeds migrations/, askama compiles templates/, the binary
# embeds config/ and static/; build.rs makes cargo notice new migrations.
COPY build.rs ./
COPY src src
COPY benches benches
COPY migrations migrations
COPY config config
COPY templates templates
COPY static static
RUN cargo build --release --locked && strip target/release/civicline

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/civicline --create-home civicline
COPY --from=build /src/target/release/civicline /usr/local/bin/civicline
USER civicline
WORKDIR /var/lib/civicline
ENV CIVICLINE_SERVER__BIND=0.0.0.0:8080 \
    CIVICLINE_DATABASE__URL=sqlite:///var/lib/civicline/civicline.db \
    CIVICLINE_LOG__FORMAT=json
EXPOSE 8080
VOLUME ["/var/lib/civicline"]
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
# SIGTERM lets in-flight webhooks finish (server.shutdown_grace_secs).
STOPSIGNAL SIGTERM
ENTRYPOINT ["civicline"]
CMD ["serve"]
