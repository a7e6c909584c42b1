package org.etcdjvm.embedded.internal.http;

import io.netty.util.internal.PlatformDependent;
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
  /** A fifth of the node's connections: five greedy hosts at their cap still leave nothing idle for others, one cannot. */
  public static final int DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 2_000;
  /** Shorter than any long poll (which is never idle), long enough that a client's pool reuses connections. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
  /** A tenth of the node's 10 000 watchers: ten busy hosts can all watch, one cannot take every slot. */
  public static final int DEFAULT_MAX_WATCHERS_PER_ADDRESS = 1_000;
  /**
   * About a tenth of a second of writes at the 10-15 k writes/s measured on 2 cores; a deeper queue
   * only adds latency, and every waiting write keeps its value in memory.
   */
  public static final int DEFAULT_MAX_PENDING_WRITES = 1_000;
  /**
   * A quarter of {@link #DEFAULT_MAX_PENDING_WRITES}: 250 writes in flight already fill the
   * 256-write Raft batches, so one host still gets the node's full write rate, and cannot take the
   * whole queue. With {@link #DEFAULT_MAX_REQUESTS_IN_PROGRESS_PER_ADDRESS} (128) an address never
   * has this many; it bounds the queue where that is raised (a proxy's address).
   */
  public static final int DEFAULT_MAX_PENDING_WRITES_PER_ADDRESS = 250;
  /**
   * Requests of one client address being worked on at once (writes waiting for Raft, consistent
   * reads, listings being written): 128 connections in flight still get about the node's full write
   * rate on 2 cores, and a host flooding the node with more cannot push every other client's
   * requests behind its own on the event loops.
   */
  public static final int DEFAULT_MAX_REQUESTS_IN_PROGRESS_PER_ADDRESS = 128;
  /** Copying 100 000 children takes a few milliseconds, under the store's read lock (writes wait). */
  public static final int DEFAULT_MAX_LISTING_ENTRIES = 100_000;
  /** A request line and headers are a few hundred bytes; 10 s is generous even on a bad link. */
  public static final Duration DEFAULT_READ_HEADER_TIMEOUT = Duration.ofSeconds(10);
  /** A 2 MiB body (the largest accepted) in 30 s needs 70 KB/s. */
  public static final Duration DEFAULT_READ_BODY_TIMEOUT = Duration.ofSeconds(30);
  /** A client that takes none of a response for 30 s is gone or hostile. */
  public static final Duration DEFAULT_WRITE_TIMEOUT = Duration.ofSeconds(30);
  /**
   * 256 MiB (128 bodies at the 2 MiB limit), but at most a quarter of the JVM's direct memory, where
   * Netty keeps request bytes.
   */
  public static final long DEFAULT_MAX_BUFFERED_REQUEST_BYTES =
      Math.max(DEFAULT_MAX_BODY_BYTES, Math.min(256L * 1024 * 1024, PlatformDependent.maxDirectMemory() / 4));

  private final String host;
  private final int port;
  private final int maxBodyBytes;
  private final int maxFormFields;
  private final int maxConnections;
  private final int maxConnectionsPerAddress;
  private final int maxWatchersPerAddress;
  private final int maxPendingWrites;
  private final int maxPendingWritesPerAddress;
  private final int maxRequestsInProgressPerAddress;
  private final int maxListingEntries;
  /** 0: the default (never below one body at the limit). */
  private final long maxBufferedRequestBytes;
  /** 0: the default, a quarter of maxBufferedRequestBytes (never below one body at the limit). */
  private final long maxBufferedRequestBytesPerAddress;
  private final Duration idleTimeout;
  private final Duration readHeaderTimeout;
  private final Duration readBodyTimeout;
  private final Duration writeTimeout;

  private HttpConfig(Builder b) {
    this.host = b.host;
    this.port = b.port;
    this.maxBodyBytes = b.maxBodyBytes;
    this.maxFormFields = b.maxFormFields;
    this.maxConnections = b.maxConnections;
    this.maxConnectionsPerAddress = b.maxConnectionsPerAddress;
    this.maxWatchersPerAddress = b.maxWatchersPerAddress;
    this.maxPendingWrites = b.maxPendingWrites;
    this.maxPendingWritesPerAddress = b.maxPendingWritesPerAddress;
    this.maxRequestsInProgressPerAddress = b.maxRequestsInProgressPerAddress;
    this.maxListingEntries = b.maxListingEntries;
    this.maxBufferedRequestBytes = b.maxBufferedRequestBytes;
    this.maxBufferedRequestBytesPerAddress = b.maxBufferedRequestBytesPerAddress;
    this.idleTimeout = b.idleTimeout;
    this.readHeaderTimeout = b.readHeaderTimeout;
    this.readBodyTimeout = b.readBodyTimeout;
    this.writeTimeout = b.writeTimeout;
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
   * How many connections one client IP address may have open at once; one more is closed at once,
   * before any byte is read (default {@value #DEFAULT_MAX_CONNECTIONS_PER_ADDRESS}).
   */
  public int maxConnectionsPerAddress() {
    return maxConnectionsPerAddress;
  }

  /**
   * How many watches one client IP address may have waiting at once; one more is answered {@code 503}
   * with error 300 (default {@value #DEFAULT_MAX_WATCHERS_PER_ADDRESS}). The node-wide cap is the
   * store's.
   */
  public int maxWatchersPerAddress() {
    return maxWatchersPerAddress;
  }

  /**
   * How many writes this node may have submitted to Raft and not yet seen completed; one more is
   * answered {@code 503} with error 300 and is not submitted (default {@value #DEFAULT_MAX_PENDING_WRITES}).
   */
  public int maxPendingWrites() {
    return maxPendingWrites;
  }

  /**
   * Like {@link #maxPendingWrites()}, for the writes of one client IP address; one more is answered
   * {@code 503} with error 300 and is not submitted (default
   * {@value #DEFAULT_MAX_PENDING_WRITES_PER_ADDRESS}).
   */
  public int maxPendingWritesPerAddress() {
    return maxPendingWritesPerAddress;
  }

  /**
   * How many requests of one client IP address may be in progress at once: read and not yet
   * answered, not counting long-poll watches (they have {@link #maxWatchersPerAddress()}). Beyond
   * it, that address's next requests wait unread (their connections stop reading) until one of its
   * requests is answered; nothing is refused (default
   * {@value #DEFAULT_MAX_REQUESTS_IN_PROGRESS_PER_ADDRESS}).
   */
  public int maxRequestsInProgressPerAddress() {
    return maxRequestsInProgressPerAddress;
  }

  /**
   * How many children a directory listing may have; a larger directory is answered {@code 400},
   * error 209 (default {@value #DEFAULT_MAX_LISTING_ENTRIES}). Listings are written in chunks as the
   * client reads them, so their size in bytes needs no limit of its own.
   */
  public int maxListingEntries() {
    return maxListingEntries;
  }

  /**
   * How many bytes of requests the node keeps in memory at once, all clients together: bodies being
   * received, pipelined requests waiting their turn, writes waiting for Raft. A request that would
   * go over is answered {@code 503} (error 300) before its body is read, or, if it is already being
   * received, {@code 503} and the connection closed (default {@link
   * #DEFAULT_MAX_BUFFERED_REQUEST_BYTES}).
   */
  public long maxBufferedRequestBytes() {
    return maxBufferedRequestBytes > 0 ? maxBufferedRequestBytes : Math.max(maxBodyBytes, DEFAULT_MAX_BUFFERED_REQUEST_BYTES);
  }

  /**
   * Like {@link #maxBufferedRequestBytes()}, for one client IP address (default a quarter of it, so
   * that a single client cannot take all of it).
   */
  public long maxBufferedRequestBytesPerAddress() {
    return maxBufferedRequestBytesPerAddress > 0
        ? maxBufferedRequestBytesPerAddress
        : Math.max(maxBodyBytes, maxBufferedRequestBytes() / 4);
  }

  /**
   * How long a keep-alive connection may sit with no request in progress before the server closes
   * it (default 60 s). A connection waiting in a watch or for a write to commit is never idle.
   */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  /**
   * How long a request line and headers may take to arrive, from their first byte (or, for the
   * first request, from the connection being accepted); then the server answers {@code 408} and
   * closes (default 10 s).
   */
  public Duration readHeaderTimeout() {
    return readHeaderTimeout;
  }

  /** How long a request body may take to arrive after its headers; then {@code 408} and close (default 30 s). */
  public Duration readBodyTimeout() {
    return readBodyTimeout;
  }

  /**
   * How long a response may wait for a client that does not read it (the connection's write buffer
   * stays above its high-water mark); then the connection is closed (default 30 s).
   */
  public Duration writeTimeout() {
    return writeTimeout;
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
    return o instanceof HttpConfig c && values().equals(c.values());
  }

  @Override
  public int hashCode() {
    return values().hashCode();
  }

  @Override
  public String toString() {
    return "HttpConfig" + values();
  }

  private java.util.List<Object> values() {
    return java.util.List.of(host, port, maxBodyBytes, maxFormFields, maxConnections, maxConnectionsPerAddress,
        maxWatchersPerAddress, maxPendingWrites, maxPendingWritesPerAddress, maxRequestsInProgressPerAddress, maxListingEntries, maxBufferedRequestBytes, maxBufferedRequestBytesPerAddress, idleTimeout, readHeaderTimeout, readBodyTimeout,
        writeTimeout);
  }

  /** Collects settings; {@link #build()} validates them all. Not thread-safe. */
  public static final class Builder {
    private String host;
    private int port;
    private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
    private int maxFormFields = DEFAULT_MAX_FORM_FIELDS;
    private int maxConnections = DEFAULT_MAX_CONNECTIONS;
    private int maxConnectionsPerAddress = DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
    private int maxWatchersPerAddress = DEFAULT_MAX_WATCHERS_PER_ADDRESS;
    private int maxPendingWrites = DEFAULT_MAX_PENDING_WRITES;
    private int maxPendingWritesPerAddress = DEFAULT_MAX_PENDING_WRITES_PER_ADDRESS;
    private int maxRequestsInProgressPerAddress = DEFAULT_MAX_REQUESTS_IN_PROGRESS_PER_ADDRESS;
    private int maxListingEntries = DEFAULT_MAX_LISTING_ENTRIES;
    private long maxBufferedRequestBytes;
    private long maxBufferedRequestBytesPerAddress;
    private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
    private Duration readHeaderTimeout = DEFAULT_READ_HEADER_TIMEOUT;
    private Duration readBodyTimeout = DEFAULT_READ_BODY_TIMEOUT;
    private Duration writeTimeout = DEFAULT_WRITE_TIMEOUT;

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
      this.maxConnectionsPerAddress = c.maxConnectionsPerAddress;
      this.maxWatchersPerAddress = c.maxWatchersPerAddress;
      this.maxPendingWrites = c.maxPendingWrites;
      this.maxPendingWritesPerAddress = c.maxPendingWritesPerAddress;
      this.maxRequestsInProgressPerAddress = c.maxRequestsInProgressPerAddress;
      this.maxListingEntries = c.maxListingEntries;
      this.maxBufferedRequestBytes = c.maxBufferedRequestBytes;
      this.maxBufferedRequestBytesPerAddress = c.maxBufferedRequestBytesPerAddress;
      this.idleTimeout = c.idleTimeout;
      this.readHeaderTimeout = c.readHeaderTimeout;
      this.readBodyTimeout = c.readBodyTimeout;
      this.writeTimeout = c.writeTimeout;
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

    public Builder maxConnectionsPerAddress(int connections) {
      this.maxConnectionsPerAddress = connections;
      return this;
    }

    public Builder maxWatchersPerAddress(int watchers) {
      this.maxWatchersPerAddress = watchers;
      return this;
    }

    public Builder maxPendingWrites(int writes) {
      this.maxPendingWrites = writes;
      return this;
    }

    public Builder maxPendingWritesPerAddress(int writes) {
      this.maxPendingWritesPerAddress = writes;
      return this;
    }

    public Builder maxRequestsInProgressPerAddress(int requests) {
      this.maxRequestsInProgressPerAddress = requests;
      return this;
    }

    public Builder maxListingEntries(int entries) {
      this.maxListingEntries = entries;
      return this;
    }

    /** At least {@link #maxBodyBytes}; 0 restores the default. */
    public Builder maxBufferedRequestBytes(long bytes) {
      this.maxBufferedRequestBytes = bytes;
      return this;
    }

    /** At least {@link #maxBodyBytes}; 0 restores the default. */
    public Builder maxBufferedRequestBytesPerAddress(long bytes) {
      this.maxBufferedRequestBytesPerAddress = bytes;
      return this;
    }

    public Builder idleTimeout(Duration timeout) {
      this.idleTimeout = timeout;
      return this;
    }

    public Builder readHeaderTimeout(Duration timeout) {
      this.readHeaderTimeout = timeout;
      return this;
    }

    public Builder readBodyTimeout(Duration timeout) {
      this.readBodyTimeout = timeout;
      return this;
    }

    public Builder writeTimeout(Duration timeout) {
      this.writeTimeout = timeout;
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
      atLeast(maxConnectionsPerAddress, 1, "maxConnectionsPerAddress");
      atLeast(maxWatchersPerAddress, 1, "maxWatchersPerAddress");
      atLeast(maxPendingWrites, 1, "maxPendingWrites");
      atLeast(maxPendingWritesPerAddress, 1, "maxPendingWritesPerAddress");
      atLeast(maxRequestsInProgressPerAddress, 1, "maxRequestsInProgressPerAddress");
      atLeast(maxListingEntries, 1, "maxListingEntries");
      // A body at the size limit must fit, or such requests could never be served. 0 is the default.
      if (maxBufferedRequestBytes != 0) {
        atLeast(maxBufferedRequestBytes, maxBodyBytes, "maxBufferedRequestBytes");
      }
      if (maxBufferedRequestBytesPerAddress != 0) {
        atLeast(maxBufferedRequestBytesPerAddress, maxBodyBytes, "maxBufferedRequestBytesPerAddress");
      }
      notNegative(idleTimeout, "idleTimeout");
      notNegative(readHeaderTimeout, "readHeaderTimeout");
      notNegative(readBodyTimeout, "readBodyTimeout");
      notNegative(writeTimeout, "writeTimeout");
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
