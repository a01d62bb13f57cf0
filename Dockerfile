# creditwatch in a container: a build stage that compiles a Release binary and packages it
# with `cpack -G DEB`, and a slim runtime stage that installs that .deb (so apt resolves the
# exact runtime libraries) and runs as a non-root user.
#
#   docker build -t creditwatch .
#   docker run -d --name creditwatch -p 127.0.0.1:9477:9477 \
#     -v "$PWD/creditwatch.yaml:/etc/creditwatch/creditwatch.yaml:ro" \
#     -v creditwatch-data:/var/lib/creditwatch \
#     -e DEEPSEEK_API_KEY creditwatch
#
# In a container the config must listen on every interface, or the published port reaches
# nothing:   http: { listen: 0.0.0.0:9477 }
# The database goes to $STATE_DIRECTORY/creditwatch.db (/var/lib/creditwatch) unless
# storage.path says otherwise. Keys come from the environment (`api_key: ${DEEPSEEK_API_KEY}`)
# or from mounted files (`api_key_file: /run/secrets/deepseek_api_key`), see
# docker-compose.example.yml.

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake ninja-build g++ pkg-config dpkg-dev file \
      libcurl4-openssl-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libsqlite3-dev \
      libcli11-dev libcpp-httplib-dev libssl-dev \
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
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      /tmp/creditwatch_*.deb ca-certificates curl tzdata \
 && rm -rf /var/lib/apt/lists/* /tmp/creditwatch_*.deb \
 && groupadd --system --gid 10001 creditwatch \
 && useradd --system --uid 10001 --gid creditwatch --home-dir /var/lib/creditwatch \
      --shell /usr/sbin/nologin creditwatch \
 && install -d -o creditwatch -g creditwatch -m 0700 /var/lib/creditwatch \
 && install -d -m 0755 /etc/creditwatch
ENV CREDITWATCH_CONFIG=/etc/creditwatch/creditwatch.yaml \
    STATE_DIRECTORY=/var/lib/creditwatch
VOLUME ["/etc/creditwatch", "/var/lib/creditwatch"]
USER 10001:10001
WORKDIR /var/lib/creditwatch
EXPOSE 9477
# /healthz needs no token even when http.auth_token is set.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:9477/healthz"]
ENTRYPOINT ["creditwatch", "run"]
