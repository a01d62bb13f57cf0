# creditwatch in a container: a build stage that compiles a Release binary and packages it
# with `cpack -G DEB`, and a slim runtime stage that installs that .deb (so apt resolves the
# exact runtime libraries) and runs as a non-root user (uid 10001).
#
#   docker build -t creditwatch .                  (podman: podman build --format docker ...,
#                                                    or HEALTHCHECK is dropped from the image)
#   docker run -d --name creditwatch -p 127.0.0.1:9477:9477 \
#     -v "$PWD/creditwatch.yaml:/etc/creditwatch/creditwatch.yaml:ro" \
#     -v creditwatch-data:/var/lib/creditwatch \
#     -e DEEPSEEK_API_KEY creditwatch
#
# In a container the config must listen on every interface, or the published port reaches
# nothing:   http: { listen: 0.0.0.0:9477 }   (any port: the health check follows it)
# The config file must be readable by uid 10001 (0644, or 0640 with group 10001); the keys it
# names likewise. The database goes to $STATE_DIRECTORY/creditwatch.db (/var/lib/creditwatch)
# unless storage.path says otherwise. Keys come from the environment
# (`api_key: ${DEEPSEEK_API_KEY}`) or from mounted files
# (`api_key_file: /run/secrets/deepseek_api_key`), see docker-compose.example.yml.
#
# scripts/container-test reuses the .deb it built on the host instead of compiling again:
# `podman build --build-context build=DIR` (DIR/out/creditwatch_*.deb) stands in for the
# build stage, which is then skipped. A plain build compiles as below.

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake ninja-build g++ pkg-config dpkg-dev file \
      libcurl4-openssl-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libsqlite3-dev \
      libcli11-dev libcpp-httplib-dev libssl-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY include/ include/
COPY src/ src/
COPY web/ web/
COPY config/ config/
COPY systemd/ systemd/
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCREDITWATCH_TESTS=OFF \
 && cmake --build /build \
 && cd /build && cpack -G DEB -B /out \
 && /build/src/creditwatch --version

FROM debian:bookworm-slim
COPY --from=build /out/creditwatch_*.deb /tmp/
COPY deploy/docker/creditwatch-healthcheck /usr/local/bin/creditwatch-healthcheck
# What each runtime package is for (apt adds only what these depend on):
#   the creditwatch .deb  the binary; its Depends pull the shared libraries it links
#                         (libcurl4, libyaml-cpp0.7, libsqlite3-0, libspdlog1.10, libpq5, ...)
#   ca-certificates       the CA bundle libcurl verifies the providers' and sinks' HTTPS with
#   curl                  the HEALTHCHECK's HTTP client (about 0.5 MB: libcurl4 is there anyway)
#   tzdata                zone files for quiet hours, digests and schedules in a named time zone
# The cleanup is done here rather than left to the base image: the official
# debian:bookworm-slim deletes downloaded .debs by itself (/etc/apt/apt.conf.d/docker-clean),
# a base made with debootstrap or mmdebstrap does not, and the image grew by 74 MB on one.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      /tmp/creditwatch_*.deb ca-certificates curl tzdata \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old /var/lib/dpkg/*-old \
      /var/log/apt /var/log/dpkg.log /var/log/alternatives.log /tmp/creditwatch_*.deb \
 && groupadd --system --gid 10001 creditwatch \
 && useradd --system --uid 10001 --gid creditwatch --home-dir /var/lib/creditwatch \
      --shell /usr/sbin/nologin creditwatch \
 && install -d -o creditwatch -g creditwatch -m 0700 /var/lib/creditwatch \
 && install -d -m 0755 /etc/creditwatch
ENV CREDITWATCH_CONFIG=/etc/creditwatch/creditwatch.yaml \
    STATE_DIRECTORY=/var/lib/creditwatch
# Only the database is a volume. The config is mounted by the user (a file or the directory);
# declaring /etc/creditwatch a volume as well left an anonymous volume behind on every run
# that mounted a single file into it.
VOLUME ["/var/lib/creditwatch"]
USER 10001:10001
WORKDIR /var/lib/creditwatch
EXPOSE 9477
# /healthz needs no token even when http.auth_token is set. The check finds the port the
# daemon listens on (deploy/docker/creditwatch-healthcheck), so http.listen may use any port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/creditwatch-healthcheck"]
ENTRYPOINT ["creditwatch", "run"]
