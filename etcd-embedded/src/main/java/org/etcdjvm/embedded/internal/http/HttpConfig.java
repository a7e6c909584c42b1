package org.etcdjvm.embedded.internal.http;

import java.time.Duration;
import java.util.Objects;

/**
 * How the client-facing HTTP server listens and what it tolerates. Immutable and thread-safe;
 * validated eagerly.
 *
 * @param host           the interface to listen on, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
 * @param port           the TCP port; {@code 0} picks any free port (see {@link V1HttpServer#boundAddress()})
 * @param maxBodyBytes   the largest request body accepted; a larger one is answered {@code 413} with
 *     the etcd error JSON (default {@value #DEFAULT_MAX_BODY_BYTES}, 2 MiB)
 * @param maxConnections how many client connections may be open at once; a connection accepted
 *     beyond that is closed at once, before any byte is read (default {@value #DEFAULT_MAX_CONNECTIONS})
 * @param idleTimeout    how long a keep-alive connection may sit with no request in progress before
 *     the server closes it (default 5 minutes). A connection waiting in a watch or for a write to
 *     commit is never idle. {@link Duration#ZERO} never closes idle connections.
 */
public record HttpConfig(String host, int port, int maxBodyBytes, int maxConnections, Duration idleTimeout) {

  /** 2 MiB: a 1 MiB value, percent-encoded, still fits with room to spare. */
  public static final int DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;
  public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);

  /**
   * @throws NullPointerException     if host or idleTimeout is null
   * @throws IllegalArgumentException if a number is out of range
   */
  public HttpConfig {
    Objects.requireNonNull(host, "host == null");
    Objects.requireNonNull(idleTimeout, "idleTimeout == null");
    if (host.isBlank()) {
      throw new IllegalArgumentException("host is blank");
    }
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    if (maxBodyBytes < 1) {
      throw new IllegalArgumentException("maxBodyBytes < 1: " + maxBodyBytes);
    }
    if (maxConnections < 1) {
      throw new IllegalArgumentException("maxConnections < 1: " + maxConnections);
    }
    if (idleTimeout.isNegative()) {
      throw new IllegalArgumentException("idleTimeout < 0: " + idleTimeout);
    }
  }

  /** Listens on {@code host:port} with every other setting at its default. */
  public static HttpConfig of(String host, int port) {
    return new HttpConfig(host, port, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONNECTIONS, DEFAULT_IDLE_TIMEOUT);
  }

  public HttpConfig withMaxBodyBytes(int maxBodyBytes) {
    return new HttpConfig(host, port, maxBodyBytes, maxConnections, idleTimeout);
  }

  public HttpConfig withMaxConnections(int maxConnections) {
    return new HttpConfig(host, port, maxBodyBytes, maxConnections, idleTimeout);
  }

  public HttpConfig withIdleTimeout(Duration idleTimeout) {
    return new HttpConfig(host, port, maxBodyBytes, maxConnections, idleTimeout);
  }
}
