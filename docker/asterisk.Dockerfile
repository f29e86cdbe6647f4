# Asterisk 22 with CapConduit's sample configuration (asterisk/), for the `asterisk` profile of
# docker/compose.yaml. Build from the repository root:
#   docker build -f docker/asterisk.Dockerfile -t capconduit-asterisk .
# Built from Asterisk's release tarball with what the daemon needs: PJSIP (bundled pjproject), ARI,
# res_config_pgsql and cdr_pgsql (libpq) and func_curl (libcurl).
FROM debian:bookworm-slim AS build
ARG ASTERISK_VERSION=22.10.1
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential pkg-config ca-certificates curl bzip2 patch \
      libedit-dev libjansson-dev libsqlite3-dev uuid-dev libxml2-dev libssl-dev libsrtp2-dev \
      libcurl4-openssl-dev libpq-dev \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /usr/src
RUN curl -fsSL "https://downloads.asterisk.org/pub/telephony/asterisk/releases/asterisk-${ASTERISK_VERSION}.tar.gz" | tar xz
WORKDIR /usr/src/asterisk-${ASTERISK_VERSION}
RUN ./configure --with-pjproject-bundled \
  && make menuselect.makeopts \
  && menuselect/menuselect --enable res_config_pgsql --enable cdr_pgsql --enable func_curl menuselect.makeopts \
  && make -j"$(nproc)" \
  && make install DESTDIR=/opt/asterisk

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      ca-certificates libedit2 libjansson4 libsqlite3-0 libuuid1 libxml2 libssl3 libsrtp2-1 libcurl4 libpq5 \
  && rm -rf /var/lib/apt/lists/* \
  && useradd --system --home /var/lib/asterisk asterisk
COPY --from=build /opt/asterisk/ /
# The sample configuration, unchanged but for the addresses a container network needs: PostgreSQL is
# the compose service `postgres`, and ARI/AMI listen on the container's network (not published; the
# daemon reaches them as asterisk:8088 and asterisk:5038). test/unit/container-config.test.ts checks
# that each edit still finds its line.
COPY asterisk/ /etc/asterisk/
RUN sed -i 's/^dbhost = 127.0.0.1$/dbhost = postgres/' /etc/asterisk/res_pgsql.conf \
  && sed -i 's/^hostname = 127.0.0.1$/hostname = postgres/' /etc/asterisk/cdr_pgsql.conf \
  && sed -i 's/^bindaddr = 127.0.0.1$/bindaddr = 0.0.0.0/' /etc/asterisk/http.conf /etc/asterisk/manager.conf \
  && sed -i 's#^permit = 127.0.0.1/255.255.255.255$#permit = 0.0.0.0/0.0.0.0#' /etc/asterisk/manager.conf \
  && chown -R asterisk:asterisk /etc/asterisk /var/lib/asterisk /var/spool/asterisk /var/log/asterisk /var/run/asterisk
USER asterisk
# SIP for phones and trunks; media needs an RTP range published too (rtp.conf) for real calls.
EXPOSE 5060/udp
CMD ["asterisk", "-f", "-vvv"]
