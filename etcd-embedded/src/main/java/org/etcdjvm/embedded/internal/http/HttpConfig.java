package org.etcdjvm.embedded.internal.http;

import java.time.Duration;
import java.util.Objects;

/**
 * How the client-facing HTTP server listens and what it tolerates. Immutable and thread-safe;
 * validated eagerly. Start from {@link #of(String, int)} (every limit at its default) and change
 * what you need with {@link #toBuilder()} or the {@code with...} shortcuts.
 *
 * <p>A {@link Duration#ZERO} timeout means "no deadline".
 */
public final class HttpConfig {

  /** 2 MiB: a 1 MiB value, percent-encoded, still fits with room to spare. */
  public static final int DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;
  /** v1 reads at most four fields (value, prevValue, ttl, index); 1 000 leaves room for clients that add their own. */
  public static final int DEFAULT_MAX_FORM_FIELDS = 1_000;
  public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);

  private final String host;
  private final int port;
  private final int maxBodyBytes;
  private final int maxFormFields;
  private final int maxConnections;
  private final Duration idleTimeout;

  private HttpConfig(Builder b) {
    this.host = b.host;
    this.port = b.port;
    this.maxBodyBytes = b.maxBodyBytes;
    this.maxFormFields = b.maxFormFields;
    this.maxConnections = b.maxConnections;
    this.idleTimeout = b.idleTimeout;
  }

  /**
   * Listens on {@code host:port} with every other setting at its default.
   *
   * @throws NullPointerException     if host is null
   * @throws IllegalArgumentException if host is blank or the port out of range
   */
  public static HttpConfig of(String host, int port) {
    return new Builder(host, port).build();
  }

  /** A builder holding this configuration. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** The interface to listen on, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}. */
  public String host() {
    return host;
  }

  /** The TCP port; {@code 0} picks any free port (see {@link V1HttpServer#boundAddress()}). */
  public int port() {
    return port;
  }

  /**
   * The largest request body accepted; a larger one is answered {@code 413} with the etcd error
   * JSON (default {@value #DEFAULT_MAX_BODY_BYTES}, 2 MiB).
   */
  public int maxBodyBytes() {
    return maxBodyBytes;
  }

  /**
   * How many form fields (body and query string together) one request may carry; more are answered
   * {@code 400}, error 209 (default {@value #DEFAULT_MAX_FORM_FIELDS}).
   */
  public int maxFormFields() {
    return maxFormFields;
  }

  /**
   * How many client connections may be open at once; a connection accepted beyond that is closed at
   * once, before any byte is read (default {@value #DEFAULT_MAX_CONNECTIONS}).
   */
  public int maxConnections() {
    return maxConnections;
  }

  /**
   * How long a keep-alive connection may sit with no request in progress before the server closes
   * it (default 5 minutes). A connection waiting in a watch or for a write to commit is never idle.
   */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  public HttpConfig withMaxBodyBytes(int maxBodyBytes) {
    return toBuilder().maxBodyBytes(maxBodyBytes).build();
  }

  public HttpConfig withMaxConnections(int maxConnections) {
    return toBuilder().maxConnections(maxConnections).build();
  }

  public HttpConfig withIdleTimeout(Duration idleTimeout) {
    return toBuilder().idleTimeout(idleTimeout).build();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HttpConfig c && host.equals(c.host) && port == c.port && maxBodyBytes == c.maxBodyBytes
        && maxFormFields == c.maxFormFields && maxConnections == c.maxConnections && idleTimeout.equals(c.idleTimeout);
  }

  @Override
  public int hashCode() {
    return Objects.hash(host, port, maxBodyBytes, maxFormFields, maxConnections, idleTimeout);
  }

  @Override
  public String toString() {
    return "HttpConfig{" + host + ":" + port + ", maxBodyBytes=" + maxBodyBytes + ", maxFormFields=" + maxFormFields
        + ", maxConnections=" + maxConnections + ", idleTimeout=" + idleTimeout + "}";
  }

  /** Collects settings; {@link #build()} validates them all. Not thread-safe. */
  public static final class Builder {
    private String host;
    private int port;
    private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
    private int maxFormFields = DEFAULT_MAX_FORM_FIELDS;
    private int maxConnections = DEFAULT_MAX_CONNECTIONS;
    private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;

    private Builder(String host, int port) {
      this.host = host;
      this.port = port;
    }

    private Builder(HttpConfig c) {
      this.host = c.host;
      this.port = c.port;
      this.maxBodyBytes = c.maxBodyBytes;
      this.maxFormFields = c.maxFormFields;
      this.maxConnections = c.maxConnections;
      this.idleTimeout = c.idleTimeout;
    }

    public Builder maxBodyBytes(int bytes) {
      this.maxBodyBytes = bytes;
      return this;
    }

    public Builder maxFormFields(int fields) {
      this.maxFormFields = fields;
      return this;
    }

    public Builder maxConnections(int connections) {
      this.maxConnections = connections;
      return this;
    }

    public Builder idleTimeout(Duration timeout) {
      this.idleTimeout = timeout;
      return this;
    }

    /**
     * @throws NullPointerException     if host or a duration is null
     * @throws IllegalArgumentException if a setting is out of range
     */
    public HttpConfig build() {
      Objects.requireNonNull(host, "host == null");
      if (host.isBlank()) {
        throw new IllegalArgumentException("host is blank");
      }
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port out of range: " + port);
      }
      atLeast(maxBodyBytes, 1, "maxBodyBytes");
      atLeast(maxFormFields, 1, "maxFormFields");
      atLeast(maxConnections, 1, "maxConnections");
      notNegative(idleTimeout, "idleTimeout");
      return new HttpConfig(this);
    }

    private static void atLeast(long value, long min, String what) {
      if (value < min) {
        throw new IllegalArgumentException(what + " < " + min + ": " + value);
      }
    }

    private static void notNegative(Duration d, String what) {
      Objects.requireNonNull(d, what + " == null");
      if (d.isNegative()) {
        throw new IllegalArgumentException(what + " < 0: " + d);
      }
    }
  }
}
