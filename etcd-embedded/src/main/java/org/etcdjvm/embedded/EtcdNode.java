package org.etcdjvm.embedded;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.etcdjvm.embedded.internal.http.HttpConfig;
import org.etcdjvm.embedded.internal.http.V1HttpServer;
import org.etcdjvm.embedded.internal.raft.RaftConfig;
import org.etcdjvm.embedded.internal.raft.RaftNode;
import org.etcdjvm.embedded.internal.store.StoreLimits;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An etcd v1 node running inside this JVM: a replica of the key store, a member of an Atomix Raft
 * group, and an HTTP server speaking etcd's v1 API ({@code /v1/keys}, {@code /v1/watch}, ...).
 *
 * <pre>{@code
 * try (EtcdNode node = EtcdNode.builder().dataDir(dir).clientAddress("127.0.0.1:0").build()) {
 *   node.start().join();
 *   String url = node.clientUrl();   // e.g. http://127.0.0.1:41234
 * }
 * }</pre>
 *
 * <p><b>Defaults</b> (those of etcd 0.1): name {@code default}, data directory
 * {@code ./<name>.etcd}, client address {@code 127.0.0.1:4001}, peer address
 * {@code 127.0.0.1:7001}, no peers (a single-member cluster). Port 0 picks a free port.
 *
 * <p><b>Lifecycle.</b> {@link #start()} returns at once; its future completes when the node serves
 * reads and writes, or fails with a message saying what it was waiting for (the start timeout
 * defaults to 30 s). {@link #close()} stops the HTTP server, the Raft server and peer messaging
 * and frees their ports; data stays in the data directory, and a node started again on it recovers
 * every acknowledged write.
 *
 * <p><b>Clusters.</b> Give every member the same static member list: its own {@link
 * Builder#peerAddress peer address} plus the others' in {@link Builder#peers peers} (etcd's
 * {@code -s} and {@code -C}). Members are identified by peer address; names and client URLs are
 * learned from {@code /_etcd/machines/<name>}, which each member writes when it starts. The first
 * start of a group elects a leader as soon as a majority is up; {@code start()} of each member
 * completes once its own registration is committed and its local replica has caught up to it.
 * Writes sent to a follower get a 307 to the leader; reads and watches are served locally. A
 * member restarted on its data directory rejoins and catches up; one started on an empty (wiped)
 * directory rejoins as an empty member and receives the whole log (or a snapshot) from the leader.
 *
 * <p><b>JVM flags.</b> Atomix's serializer (Kryo 4) needs {@code --add-opens
 * java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED}
 * on Java 17+. Without them, {@code start()} fails at once with a message naming them.
 *
 * <p>Thread-safe. Instances are immutable apart from their lifecycle.
 */
public final class EtcdNode implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(EtcdNode.class);

  private final Builder config;
  private final String peerAddress;
  private final RaftNode raft;
  private final V1HttpServer http;
  private CompletableFuture<EtcdNode> started;
  private volatile String clientUrl;
  private volatile boolean closed;

  private EtcdNode(Builder builder) {
    this.config = builder.copy();
    this.peerAddress = withFreePort(config.peerAddress);
    StoreLimits limits = new StoreLimits(config.maxKeyBytes, config.maxValueBytes, config.historySize, config.maxWatchers);
    this.raft = new RaftNode(new RaftConfig(config.name, dataDir(), peerAddress, config.peers,
        config.electionTimeout, config.heartbeatInterval, Duration.ofSeconds(5), Duration.ofSeconds(1),
        config.commitTimeout, Duration.ofMillis(50), 1, 256, 32 * 1024 * 1024, limits));
    String[] client = splitHostPort(config.clientAddress);
    this.http = new V1HttpServer(raft, HttpConfig.of(client[0], Integer.parseInt(client[1])).toBuilder()
        .maxBodyBytes(config.maxBodyBytes)
        .maxFormFields(config.maxFormFields)
        .maxConnections(config.maxConnections)
        .maxConnectionsPerAddress(config.maxConnectionsPerAddress)
        .maxWatchersPerAddress(config.maxWatchersPerAddress)
        .maxPendingWrites(config.maxPendingWrites)
        .maxPendingWritesPerAddress(config.maxPendingWritesPerAddress)
        .maxListingEntries(config.maxListingEntries)
        .maxBufferedRequestBytes(config.maxBufferedRequestBytes)
        .maxBufferedRequestBytesPerAddress(config.maxBufferedRequestBytesPerAddress)
        .idleTimeout(config.idleTimeout)
        .readHeaderTimeout(config.readHeaderTimeout)
        .readBodyTimeout(config.readBodyTimeout)
        .writeTimeout(config.writeTimeout)
        .build());
  }

  /** A builder with etcd's defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts the node. Idempotent: later calls return the same future. Completes with this node once
   * it serves requests; fails if a port is taken, the data directory is unusable, the JVM lacks the
   * flags Atomix needs, or the start timeout passes (the message says what the node waited for).
   */
  public synchronized CompletableFuture<EtcdNode> start() {
    if (started != null) {
      return started;
    }
    if (closed) {
      return started = CompletableFuture.failedFuture(new IllegalStateException("node " + config.name + " is closed"));
    }
    List<String> missing = JvmFlags.missing();
    if (!missing.isEmpty()) {
      return started = CompletableFuture.failedFuture(new IllegalStateException(
          "etcd-embedded needs these JVM flags for Atomix's serializer: " + String.join(" ", missing)));
    }
    long begin = System.nanoTime();
    RaftNode.prewarm();
    CompletableFuture<EtcdNode> future = http.start()
        .thenCompose(address -> {
          clientUrl = "http://" + hostForUrl(address) + ":" + address.getPort();
          return raft.start(clientUrl);
        })
        .thenApply(v -> {
          log.info("etcd node {} ready in {} ms: client URL {}, peer URL http://{}, data dir {}",
              config.name, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin), clientUrl, peerAddress, dataDir());
          return this;
        });
    started = future.orTimeout(config.startTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .handle((node, error) -> error == null ? CompletableFuture.completedFuture(node) : cleanUpAndFail(error))
        .thenCompose(f -> f);
    return started;
  }

  /**
   * Releases what a failed start opened, then fails. The cleanup runs on a thread of its own: the
   * failure may be reported on an Atomix thread that stopping Atomix would wait for.
   */
  private CompletableFuture<EtcdNode> cleanUpAndFail(Throwable error) {
    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    Throwable reported = cause instanceof TimeoutException
        ? new IllegalStateException("node " + config.name + " did not start within " + config.startTimeout.toMillis()
            + " ms: still waiting for " + raft.waitingFor(), cause)
        : cause;
    CompletableFuture<EtcdNode> failed = new CompletableFuture<>();
    Thread cleanup = new Thread(() -> {
      try {
        close();
      } finally {
        failed.completeExceptionally(reported);
      }
    }, "etcd-node-" + config.name + "-cleanup");
    cleanup.setDaemon(true);
    cleanup.start();
    return failed;
  }

  /** The URL clients use, e.g. {@code http://127.0.0.1:4001}. Known once {@link #start()} has bound the port. */
  public String clientUrl() {
    String url = clientUrl;
    if (url == null) {
      throw new IllegalStateException("node " + config.name + " has not bound its client port yet");
    }
    return url;
  }

  /** The Raft peer URL, e.g. {@code http://127.0.0.1:7001}. */
  public String peerUrl() {
    return "http://" + peerAddress;
  }

  /** This member's name. */
  public String name() {
    return config.name;
  }

  /** Where this node keeps its Raft log and snapshots. */
  public Path dataDir() {
    return config.dataDir != null ? config.dataDir : Path.of(config.name + ".etcd");
  }

  /** Whether this node is the Raft leader right now (writes sent to other members are redirected here). */
  public boolean isLeader() {
    return raft.isLeader();
  }

  /** Stops serving and releases every thread and port this node opened. Idempotent. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    try {
      http.close();
    } catch (RuntimeException e) {
      log.debug("closing the HTTP server failed", e);
    }
    raft.close();
  }

  private static String hostForUrl(InetSocketAddress address) {
    String host = address.getHostString();
    return host.indexOf(':') >= 0 ? "[" + host + "]" : host;
  }

  private static String withFreePort(String address) {
    String[] hostPort = splitHostPort(address);
    if (!hostPort[1].equals("0")) {
      return address;
    }
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(hostPort[0], 0));
      return hostPort[0] + ":" + socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot find a free port on " + hostPort[0] + ": " + e.getMessage(), e);
    }
  }

  static String[] splitHostPort(String address) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || colon == address.length() - 1) {
      throw new IllegalArgumentException("expected host:port, got \"" + address + "\"");
    }
    String port = address.substring(colon + 1);
    try {
      int p = Integer.parseInt(port);
      if (p < 0 || p > 65535) {
        throw new IllegalArgumentException("port out of range in \"" + address + "\"");
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("expected host:port, got \"" + address + "\"");
    }
    return new String[] {address.substring(0, colon), port};
  }

  /**
   * Configures an {@link EtcdNode}. Not thread-safe; {@link #build()} copies it, so a builder can be
   * reused for several nodes.
   */
  public static final class Builder {
    private String name = "default";
    private Path dataDir;
    private String clientAddress = "127.0.0.1:4001";
    private String peerAddress = "127.0.0.1:7001";
    private List<String> peers = List.of();
    private Duration startTimeout = Duration.ofSeconds(30);
    private Duration commitTimeout = Duration.ofSeconds(5);
    private Duration electionTimeout;
    private Duration heartbeatInterval;
    private int maxKeyBytes = 1024;
    private int maxValueBytes = 1024 * 1024;
    private int maxBodyBytes = 2 * 1024 * 1024;
    private int historySize = 1000;
    private int maxWatchers = 10_000;
    private int maxConnections = 10_000;
    private int maxFormFields = HttpConfig.DEFAULT_MAX_FORM_FIELDS;
    private int maxConnectionsPerAddress = HttpConfig.DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
    private int maxWatchersPerAddress = HttpConfig.DEFAULT_MAX_WATCHERS_PER_ADDRESS;
    private int maxPendingWrites = HttpConfig.DEFAULT_MAX_PENDING_WRITES;
    private int maxPendingWritesPerAddress = HttpConfig.DEFAULT_MAX_PENDING_WRITES_PER_ADDRESS;
    private int maxListingEntries = HttpConfig.DEFAULT_MAX_LISTING_ENTRIES;
    private long maxBufferedRequestBytes; // 0: HttpConfig's default
    private long maxBufferedRequestBytesPerAddress; // 0: HttpConfig's default
    private Duration idleTimeout = HttpConfig.DEFAULT_IDLE_TIMEOUT;
    private Duration readHeaderTimeout = HttpConfig.DEFAULT_READ_HEADER_TIMEOUT;
    private Duration readBodyTimeout = HttpConfig.DEFAULT_READ_BODY_TIMEOUT;
    private Duration writeTimeout = HttpConfig.DEFAULT_WRITE_TIMEOUT;

    private Builder() {
    }

    /** The member name (etcd's {@code -n}); default {@code default}. */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name == null");
      if (name.isEmpty() || !name.matches("[A-Za-z0-9._-]+")) {
        throw new IllegalArgumentException("name must be letters, digits, '.', '_' or '-': \"" + name + "\"");
      }
      this.name = name;
      return this;
    }

    /** Where the Raft log and snapshots live; default {@code ./<name>.etcd}. Created if missing. */
    public Builder dataDir(Path dataDir) {
      this.dataDir = Objects.requireNonNull(dataDir, "dataDir == null");
      return this;
    }

    /** {@code host:port} of the HTTP API; default {@code 127.0.0.1:4001}; port 0 picks a free one. */
    public Builder clientAddress(String hostPort) {
      splitHostPort(Objects.requireNonNull(hostPort, "clientAddress == null"));
      this.clientAddress = hostPort;
      return this;
    }

    /** {@code host:port} for Raft traffic between members; default {@code 127.0.0.1:7001}; port 0 picks a free one. */
    public Builder peerAddress(String hostPort) {
      splitHostPort(Objects.requireNonNull(hostPort, "peerAddress == null"));
      this.peerAddress = hostPort;
      return this;
    }

    /** Peer addresses ({@code host:port}) of the other members; none means a single-member cluster. */
    public Builder peers(String... peers) {
      return peers(Arrays.asList(peers));
    }

    /** Peer addresses ({@code host:port}) of the other members; none means a single-member cluster. */
    public Builder peers(List<String> peers) {
      List<String> checked = new ArrayList<>();
      for (String peer : peers) {
        splitHostPort(Objects.requireNonNull(peer, "peer == null"));
        checked.add(peer);
      }
      this.peers = List.copyOf(checked);
      return this;
    }

    /** How long {@link EtcdNode#start()} may take before it fails; default 30 s. */
    public Builder startTimeout(Duration timeout) {
      this.startTimeout = positive(timeout, "startTimeout");
      return this;
    }

    /** How long a write waits for its Raft commit before it fails as "outcome unknown" (error 300); default 5 s. */
    public Builder commitTimeout(Duration timeout) {
      this.commitTimeout = positive(timeout, "commitTimeout");
      return this;
    }

    /** Raft election timeout; default 100 ms for a single member, 500 ms for a group. */
    public Builder electionTimeout(Duration timeout) {
      this.electionTimeout = positive(timeout, "electionTimeout");
      return this;
    }

    /** Raft heartbeat interval; default 50 ms for a single member, 100 ms for a group. */
    public Builder heartbeatInterval(Duration interval) {
      this.heartbeatInterval = positive(interval, "heartbeatInterval");
      return this;
    }

    /** Longest key, in UTF-8 bytes; default 1024. Longer keys get error 209. */
    public Builder maxKeyBytes(int bytes) {
      this.maxKeyBytes = atLeast(bytes, 1, "maxKeyBytes");
      return this;
    }

    /** Largest value, in UTF-8 bytes; default 1 MiB. Larger values get error 209. */
    public Builder maxValueBytes(int bytes) {
      this.maxValueBytes = atLeast(bytes, 1, "maxValueBytes");
      return this;
    }

    /** Largest HTTP request body; default 2 MiB. Larger bodies get HTTP 413. */
    public Builder maxBodyBytes(int bytes) {
      this.maxBodyBytes = atLeast(bytes, 1024, "maxBodyBytes");
      return this;
    }

    /** Events kept for watches from an older index; default 1000. Older indexes get error 401. */
    public Builder historySize(int events) {
      this.historySize = atLeast(events, 1, "historySize");
      return this;
    }

    /** Concurrent watches per node; default 10 000. More get HTTP 503. */
    public Builder maxWatchers(int watchers) {
      this.maxWatchers = atLeast(watchers, 1, "maxWatchers");
      return this;
    }

    /**
     * Concurrent watches from one client IP address; default 1 000, a tenth of {@link #maxWatchers},
     * so that one client cannot take every slot. More get HTTP 503 with error 300 {@code too many
     * watchers from this address}, and a WARN line (at most one a minute) naming the address.
     */
    public Builder maxWatchersPerAddress(int watchers) {
      this.maxWatchersPerAddress = atLeast(watchers, 1, "maxWatchersPerAddress");
      return this;
    }

    /**
     * Writes this node may have waiting for Raft at once; default 1 000 (about 0.1 s of writes on
     * 2 cores). One more gets HTTP 503 with error 300 {@code too many pending writes} and is not
     * written (nothing of it is applied), with a WARN line (at most one a minute).
     */
    public Builder maxPendingWrites(int writes) {
      this.maxPendingWrites = atLeast(writes, 1, "maxPendingWrites");
      return this;
    }

    /**
     * Writes from one client IP address waiting for Raft at once; default 250, a quarter of
     * {@link #maxPendingWrites} (250 in flight already fill the 256-write Raft batches, so one host
     * still gets the full write rate). One more gets HTTP 503 with error 300 {@code too many pending
     * writes from this address} and is not written, with a WARN line (at most one a minute).
     */
    public Builder maxPendingWritesPerAddress(int writes) {
      this.maxPendingWritesPerAddress = atLeast(writes, 1, "maxPendingWritesPerAddress");
      return this;
    }

    /**
     * Children a directory may have for a GET to list it; default 100 000 (the copy is taken under
     * the store's read lock). A larger directory gets HTTP 400 with error 209 {@code get: /dir has
     * more than N entries}. Listings are written as the client reads them, so their size in bytes
     * is not limited.
     */
    public Builder maxListingEntries(int entries) {
      this.maxListingEntries = atLeast(entries, 1, "maxListingEntries");
      return this;
    }

    /** Concurrent client connections per node; default 10 000. More are closed at once. */
    public Builder maxConnections(int connections) {
      this.maxConnections = atLeast(connections, 1, "maxConnections");
      return this;
    }

    /**
     * Concurrent client connections from one IP address; default 2 000, a fifth of
     * {@link #maxConnections}, so that one client cannot lock the others out. More are closed at
     * once, before anything is read, with a WARN line (at most one a minute) naming the address.
     */
    public Builder maxConnectionsPerAddress(int connections) {
      this.maxConnectionsPerAddress = atLeast(connections, 1, "maxConnectionsPerAddress");
      return this;
    }

    /**
     * Request bytes the node keeps in memory at once, all clients together: bodies being received,
     * pipelined requests waiting their turn, writes waiting for Raft. Default 256 MiB, or a quarter
     * of the JVM's maximum direct memory if that is less (Netty keeps request bytes there); at least
     * {@link #maxBodyBytes} (checked by {@link #build()}). A request that would go over is answered HTTP 503 (error 300) before
     * its body is read, or, if it is already being received, 503 and the connection is closed; a
     * WARN line (at most one a minute) names the address.
     */
    public Builder maxBufferedRequestBytes(long bytes) {
      this.maxBufferedRequestBytes = atLeast(bytes, 1L, "maxBufferedRequestBytes");
      return this;
    }

    /**
     * Like {@link #maxBufferedRequestBytes}, for the requests of one client IP address; default a
     * quarter of it (64 MiB by default), at least {@link #maxBodyBytes} (checked by {@link #build()}). Beyond it: HTTP 503 as
     * there.
     */
    public Builder maxBufferedRequestBytesPerAddress(long bytes) {
      this.maxBufferedRequestBytesPerAddress = atLeast(bytes, 1L, "maxBufferedRequestBytesPerAddress");
      return this;
    }

    /**
     * How long a keep-alive connection may sit without a request before the node closes it; default
     * 60 s. Connections waiting in a watch or for a write's commit are never idle (a watch may wait
     * for hours). {@link Duration#ZERO}: never.
     */
    public Builder idleTimeout(Duration timeout) {
      this.idleTimeout = notNegative(timeout, "idleTimeout");
      return this;
    }

    /**
     * How long a request line and headers may take to arrive, from their first byte (the first
     * request of a connection: from the connect); default 10 s. Slower: HTTP 408 and the connection
     * is closed, with a WARN line (at most one a minute). {@link Duration#ZERO}: no deadline.
     */
    public Builder readHeaderTimeout(Duration timeout) {
      this.readHeaderTimeout = notNegative(timeout, "readHeaderTimeout");
      return this;
    }

    /**
     * How long a request body may take to arrive after its headers; default 30 s (a 2 MiB body at
     * 70 KB/s). Slower: HTTP 408 and the connection is closed, with a WARN line (at most one a
     * minute). {@link Duration#ZERO}: no deadline.
     */
    public Builder readBodyTimeout(Duration timeout) {
      this.readBodyTimeout = notNegative(timeout, "readBodyTimeout");
      return this;
    }

    /**
     * How long the node waits for a client that does not read its responses (its connection's
     * write buffer stays full); default 30 s. Then the connection is closed, with a WARN line (at
     * most one a minute). Until then that connection is not read from, and the node's other
     * connections are served as usual. {@link Duration#ZERO}: no deadline.
     */
    public Builder writeTimeout(Duration timeout) {
      this.writeTimeout = notNegative(timeout, "writeTimeout");
      return this;
    }

    /**
     * Form fields per request, body and query string together; default 1 000 (etcd reads four).
     * A request with more gets HTTP 400, error 209, and none of its fields is acted on.
     */
    public Builder maxFormFields(int fields) {
      this.maxFormFields = atLeast(fields, 1, "maxFormFields");
      return this;
    }

    /** A node with this configuration; nothing is started or bound yet. */
    public EtcdNode build() {
      return new EtcdNode(this);
    }

    private Builder copy() {
      Builder b = new Builder();
      b.name = name;
      b.dataDir = dataDir;
      b.clientAddress = clientAddress;
      b.peerAddress = peerAddress;
      b.peers = peers;
      b.startTimeout = startTimeout;
      b.commitTimeout = commitTimeout;
      b.electionTimeout = electionTimeout;
      b.heartbeatInterval = heartbeatInterval;
      b.maxKeyBytes = maxKeyBytes;
      b.maxValueBytes = maxValueBytes;
      b.maxBodyBytes = maxBodyBytes;
      b.historySize = historySize;
      b.maxWatchers = maxWatchers;
      b.maxConnections = maxConnections;
      b.maxFormFields = maxFormFields;
      b.maxConnectionsPerAddress = maxConnectionsPerAddress;
      b.maxWatchersPerAddress = maxWatchersPerAddress;
      b.maxPendingWrites = maxPendingWrites;
      b.maxPendingWritesPerAddress = maxPendingWritesPerAddress;
      b.maxListingEntries = maxListingEntries;
      b.maxBufferedRequestBytes = maxBufferedRequestBytes;
      b.maxBufferedRequestBytesPerAddress = maxBufferedRequestBytesPerAddress;
      b.idleTimeout = idleTimeout;
      b.readHeaderTimeout = readHeaderTimeout;
      b.readBodyTimeout = readBodyTimeout;
      b.writeTimeout = writeTimeout;
      return b;
    }

    private static Duration positive(Duration d, String what) {
      Objects.requireNonNull(d, what + " == null");
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive: " + d);
      }
      return d;
    }

    private static Duration notNegative(Duration d, String what) {
      Objects.requireNonNull(d, what + " == null");
      if (d.isNegative()) {
        throw new IllegalArgumentException(what + " must not be negative: " + d);
      }
      return d;
    }

    private static int atLeast(int value, int min, String what) {
      if (value < min) {
        throw new IllegalArgumentException(what + " < " + min + ": " + value);
      }
      return value;
    }

    private static long atLeast(long value, long min, String what) {
      if (value < min) {
        throw new IllegalArgumentException(what + " < " + min + ": " + value);
      }
      return value;
    }
  }
}
