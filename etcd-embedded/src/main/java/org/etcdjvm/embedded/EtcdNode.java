package org.etcdjvm.embedded;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.etcdjvm.embedded.internal.LocalCluster;
import org.etcdjvm.embedded.internal.http.ClientTls;
import org.etcdjvm.embedded.internal.http.HttpConfig;
import org.etcdjvm.embedded.internal.http.V1HttpServer;
import org.etcdjvm.embedded.internal.raft.RaftConfig;
import org.etcdjvm.embedded.internal.raft.RaftNode;
import org.etcdjvm.embedded.internal.store.StoreLimits;
import org.etcdjvm.embedded.internal.tls.TlsMaterialException;
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
 * <p><b>Clusters</b>, the etcd 0.1 way: start the first node with no {@link Builder#peers peers}
 * (a cluster of one), and every other node with {@code peers(...)} naming the peer address of any
 * running member (etcd's {@code -C}): it joins the cluster at runtime through a Raft configuration
 * change. Alternatively start every member of a new cluster at once with the same member list (each
 * its own {@link Builder#peerAddress peer address}, the others as peers): they form the cluster once
 * a majority is up. Members are identified by peer address; names and client URLs are learned from
 * {@code /_etcd/machines/<name>}, which each member writes when it starts. A node restarted on its
 * data directory rejoins its own cluster whatever its peers say. {@code start()} refuses (fails
 * with a message saying why) a node that would make a second cluster or does not belong: a data
 * directory of another cluster or of a removed member, a peer started with a different member
 * list, a name in use, a full cluster ({@link Builder#maxClusterSize}, error 103). Writes sent to a
 * follower get a 307 to the leader; reads and watches are served locally. {@link #removeMember}
 * removes a member; the removed node closes itself.
 *
 * <p><b>TLS</b> (off by default), as etcd 0.1 had it: HTTPS on the client port, optionally with
 * client certificates ({@link Builder#clientTls}), and mutually authenticated TLS between members
 * ({@link Builder#peerTls}); see {@link TlsConfig}. Bad material (a missing or malformed file, a key
 * that does not match its certificate, an expired certificate) makes {@link #start()} fail before
 * any port opens, with one sentence naming the file and the problem.
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
  private final CompletableFuture<Void> whenClosed = new CompletableFuture<>();
  private CompletableFuture<EtcdNode> started;
  private volatile String clientUrl;
  private volatile boolean closed;

  private EtcdNode(Builder builder) {
    this.config = builder.copy();
    this.peerAddress = withFreePort(config.peerAddress, config.peerListenHost);
    StoreLimits limits = new StoreLimits(config.maxKeyBytes, config.maxValueBytes, config.historySize, config.maxWatchers,
        config.maxHistoryBytes);
    this.raft = new RaftNode(new RaftConfig(config.name, dataDir(), peerAddress, config.peerListenHost, config.peers,
        config.electionTimeout, config.heartbeatInterval, Duration.ofSeconds(5), Duration.ofSeconds(1),
        config.commitTimeout, Duration.ofMillis(10), 256, 16 * 1024 * 1024, config.maxClusterSize, config.minFreeDiskBytes,
        config.maxLogBytes, limits, config.peerTls == null ? null : () -> config.peerTls.material("peer", Instant.now())));
    String[] client = splitHostPort(config.clientAddress);
    this.http = new V1HttpServer(raft, HttpConfig.of(
            config.clientListenHost != null ? config.clientListenHost : client[0], Integer.parseInt(client[1])).toBuilder()
        .maxBodyBytes(config.maxBodyBytes)
        .maxFormFields(config.maxFormFields)
        .maxConnections(config.maxConnections)
        .maxConnectionsPerAddress(config.maxConnectionsPerAddress)
        .maxWatchersPerAddress(config.maxWatchersPerAddress)
        .maxPendingWrites(config.maxPendingWrites)
        .maxPendingWritesPerAddress(config.maxPendingWritesPerAddress)
        .maxRequestsInProgressPerAddress(config.maxRequestsInProgressPerAddress)
        .maxListingEntries(config.maxListingEntries)
        .maxBufferedRequestBytes(config.maxBufferedRequestBytes)
        .maxBufferedRequestBytesPerAddress(config.maxBufferedRequestBytesPerAddress)
        .idleTimeout(config.idleTimeout)
        .readHeaderTimeout(config.readHeaderTimeout)
        .readBodyTimeout(config.readBodyTimeout)
        .writeTimeout(config.writeTimeout)
        .build(), config.corsOrigins);
  }

  /**
   * A builder with etcd's defaults. The first call in a JVM (with the flags Atomix needs) also
   * starts, on a daemon thread, the Raft engine's one-time initialisation (a few hundred ms of CPU
   * on a cold JVM: Atomix's serializers), so that the first node
   * starts sooner.
   */
  public static Builder builder() {
    if (JvmFlags.missing().isEmpty()) {
      RaftNode.prewarm(); // the first node of a JVM starts sooner when this has a head start
    }
    return new Builder();
  }

  /**
   * Starts the node. Idempotent: later calls return the same future. Completes with this node once
   * it serves requests; fails if a port is taken, the data directory is unusable, the JVM lacks the
   * flags Atomix needs, TLS material is bad (an {@link IllegalStateException} whose message is one
   * sentence naming the file and the problem, before any port is opened), or the start timeout
   * passes (the message says what the node waited for).
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
    ClientTls clientTls;
    try {
      clientTls = clientTls();
      if (config.peerTls != null) {
        config.peerTls.material("peer", Instant.now()); // read and checked again when peer messaging starts
      }
    } catch (TlsMaterialException e) {
      return started = CompletableFuture.failedFuture(new IllegalStateException(e.getMessage(), e));
    }
    RaftNode.prewarm();
    CompletableFuture<EtcdNode> future = http.start(clientTls)
        .thenCompose(address -> {
          // Advertised: the host of the client address (a listen host of 0.0.0.0 is no address), the bound port.
          clientUrl = (clientTls != null ? "https://" : "http://") + hostForUrl(splitHostPort(config.clientAddress)[0])
              + ":" + address.getPort();
          return raft.start(clientUrl);
        })
        .thenApply(v -> {
          raft.stopped().thenAccept(reason -> closeInBackground());
          log.info("etcd node {} ready in {} ms: client URL {}{}, peer URL {}{}, data dir {}",
              config.name, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin), clientUrl,
              clientTls == null ? "" : clientTls.verifiesClients() ? " (TLS, client certificates required)" : " (TLS)",
              peerUrl(), config.peerTls == null ? "" : " (mutual TLS)", dataDir());
          return this;
        });
    started = future.orTimeout(config.startTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .handle((node, error) -> error == null ? CompletableFuture.completedFuture(node) : cleanUpAndFail(error))
        .thenCompose(f -> f);
    return started;
  }

  /** The client port's TLS, read and checked now; null for plain HTTP. */
  private ClientTls clientTls() throws TlsMaterialException {
    TlsConfig tls = config.clientTls;
    if (tls == null) {
      return null;
    }
    if (tls.givenSslContext() != null) {
      return ClientTls.of(tls.givenSslContext(), tls.verifiesOtherSide());
    }
    return ClientTls.of(tls.material("client", Instant.now()));
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

  /**
   * The URL clients use, e.g. {@code http://127.0.0.1:4001} ({@code https://} with {@link
   * Builder#clientTls}). Known once {@link #start()} has bound the port.
   */
  public String clientUrl() {
    String url = clientUrl;
    if (url == null) {
      throw new IllegalStateException("node " + config.name + " has not bound its client port yet");
    }
    return url;
  }

  /** The Raft peer URL, e.g. {@code http://127.0.0.1:7001} ({@code https://} with {@link Builder#peerTls}). */
  public String peerUrl() {
    return (config.peerTls != null ? "https://" : "http://") + peerAddress;
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

  /**
   * Removes the member called {@code name} (etcd's {@code -n}) from the cluster; works on any
   * member (the request goes to the leader). The removed member stops serving and closes itself
   * (its {@link #whenClosed()} completes); removing this node itself does the same here. Completes
   * once the new configuration is committed. Fails with an {@link IllegalArgumentException} for an
   * unknown name, and with an {@link IllegalStateException} saying why when the cluster refuses:
   * the last member, no leader, or a removal that would leave fewer members that answer than a
   * majority of the rest (bring members back, or remove the dead ones first).
   */
  public CompletableFuture<Void> removeMember(String name) {
    Objects.requireNonNull(name, "name == null");
    return raft.removeMember(name).handle((v, error) -> {
      if (error == null) {
        return null;
      }
      Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
      if (cause instanceof org.etcdjvm.embedded.internal.store.StoreException) {
        throw new CompletionException(new IllegalArgumentException("no member called " + name + " in the cluster"));
      }
      throw cause instanceof RuntimeException r ? new CompletionException(r)
          : new CompletionException(new IllegalStateException(cause.getMessage(), cause));
    });
  }

  /**
   * Completes once this node is closed: by {@link #close()}, by a failed start, because it was
   * removed from the cluster, or because its replica could not be trusted any more (a snapshot
   * received from the leader failed its checksum; logged at ERROR). Never fails.
   */
  public CompletableFuture<Void> whenClosed() {
    return whenClosed.copy();
  }

  private void closeInBackground() {
    Thread t = new Thread(this::close, "etcd-node-" + config.name + "-removed");
    t.setDaemon(true);
    t.start();
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
    try {
      raft.close();
    } finally {
      whenClosed.complete(null);
    }
  }

  private static String hostForUrl(String host) {
    return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
  }

  private static String withFreePort(String address, String listenHost) {
    String[] hostPort = splitHostPort(address);
    if (!hostPort[1].equals("0")) {
      return address;
    }
    // Not the kernel's pick (bind to port 0): the port is only bound later, when Atomix starts, and
    // a port of the ephemeral range can meanwhile become the local end of an outgoing connection
    // (seen in CI: "cannot listen for Raft peers on 127.0.0.1:35049: Address already in use").
    try {
      return hostPort[0] + ":" + LocalCluster.freePort(listenHost != null ? listenHost : hostPort[0]);
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
    private String clientListenHost;
    private String peerListenHost;
    private List<String> corsOrigins = List.of();
    private List<String> peers = List.of();
    private TlsConfig clientTls;
    private TlsConfig peerTls;
    private Duration startTimeout = Duration.ofSeconds(30);
    private Duration commitTimeout = Duration.ofSeconds(5);
    private Duration electionTimeout = Duration.ofMillis(200);
    private Duration heartbeatInterval = Duration.ofMillis(50);
    private int maxClusterSize = 9;
    private long minFreeDiskBytes = -1;
    private long maxLogBytes;
    private int maxKeyBytes = 1024;
    private int maxValueBytes = 1024 * 1024;
    private int maxBodyBytes = 2 * 1024 * 1024;
    private int historySize = 1000;
    private long maxHistoryBytes = StoreLimits.DEFAULT_MAX_HISTORY_BYTES;
    private int maxWatchers = 10_000;
    private int maxConnections = 10_000;
    private int maxFormFields = HttpConfig.DEFAULT_MAX_FORM_FIELDS;
    private int maxConnectionsPerAddress = HttpConfig.DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
    private int maxWatchersPerAddress = HttpConfig.DEFAULT_MAX_WATCHERS_PER_ADDRESS;
    private int maxPendingWrites = HttpConfig.DEFAULT_MAX_PENDING_WRITES;
    private int maxPendingWritesPerAddress = HttpConfig.DEFAULT_MAX_PENDING_WRITES_PER_ADDRESS;
    private int maxRequestsInProgressPerAddress = HttpConfig.DEFAULT_MAX_REQUESTS_IN_PROGRESS_PER_ADDRESS;
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

    /**
     * The host the HTTP API listens on, when it differs from the advertised {@link #clientAddress}
     * (etcd's {@code -cl}), e.g. {@code 0.0.0.0}; default: the client address's host.
     */
    public Builder clientListenHost(String host) {
      this.clientListenHost = host(host, "clientListenHost");
      return this;
    }

    /**
     * The host Raft traffic is received on, when it differs from the advertised {@link #peerAddress}
     * (etcd's {@code -sl}); default: the peer address's host.
     */
    public Builder peerListenHost(String host) {
      this.peerListenHost = host(host, "peerListenHost");
      return this;
    }

    /**
     * Origins allowed to call the API from a browser (etcd's {@code -cors}): a request whose
     * {@code Origin} is listed (or any, with {@code "*"}) gets {@code Access-Control-Allow-Origin}
     * and preflight ({@code OPTIONS}) requests are answered. Default: none (no CORS headers).
     */
    public Builder corsOrigins(List<String> origins) {
      List<String> checked = new ArrayList<>();
      for (String origin : origins) {
        if (Objects.requireNonNull(origin, "origin == null").isBlank()) {
          throw new IllegalArgumentException("blank CORS origin");
        }
        checked.add(origin.trim());
      }
      this.corsOrigins = List.copyOf(checked);
      return this;
    }

    /**
     * HTTPS on the client port (etcd's {@code -clientCert} and {@code -clientKey}): the port then
     * speaks TLS only, and {@link EtcdNode#clientUrl()}, redirects and {@code /v1/machines} use
     * {@code https://} URLs. With trusted CAs ({@link TlsConfig#trustPem}, etcd's {@code
     * -clientCAFile}) every client must present a certificate that chains to one of them; the
     * handshake of one that does not fails. Plain HTTP sent to the port is answered {@code 400}
     * ("Client sent an HTTP request to an HTTPS server.") and the connection closed. Default: none
     * (plain HTTP). The material is read and checked by {@link EtcdNode#start()}.
     */
    public Builder clientTls(TlsConfig tls) {
      this.clientTls = Objects.requireNonNull(tls, "tls == null");
      return this;
    }

    /**
     * Mutually authenticated TLS for all traffic between members (Raft, joins, removals; etcd's
     * {@code -serverCert}, {@code -serverKey} and {@code -serverCAFile}): this node presents {@code
     * tls}'s certificate both when it accepts and when it connects, and accepts only members whose
     * certificate chains to one of {@code tls}'s trusted CAs, so a process without such a
     * certificate cannot join, vote or append. Every member must have it. Certificates are checked
     * against the CAs only, not against host names. {@link EtcdNode#peerUrl()} becomes {@code
     * https://}. Default: none (plain Atomix messaging).
     *
     * @throws IllegalArgumentException if {@code tls} has no trusted CA certificates, or was made
     *     from an {@link javax.net.ssl.SSLContext} (Atomix 3.1 takes key material, see {@link TlsConfig})
     */
    public Builder peerTls(TlsConfig tls) {
      Objects.requireNonNull(tls, "tls == null");
      if (tls.givenSslContext() != null) {
        throw new IllegalArgumentException("peerTls takes key material (PEM files, keys and certificates, or a key"
            + " store), not an SSLContext: Atomix 3.1 builds its TLS from a key store and a trust store");
      }
      if (!tls.verifiesOtherSide()) {
        throw new IllegalArgumentException("peerTls needs trusted CA certificates (etcd's -serverCAFile): members"
            + " authenticate each other with certificates from that CA");
      }
      this.peerTls = tls;
      return this;
    }

    private static String host(String host, String what) {
      Objects.requireNonNull(host, what + " == null");
      if (host.isBlank() || host.contains(" ") || host.contains("/")) {
        throw new IllegalArgumentException(what + " must be a host name or address: \"" + host + "\"");
      }
      return host;
    }

    /**
     * Peer addresses ({@code host:port}) of other members (etcd's {@code -C}). A node with an empty
     * data directory asks them at start: if one belongs to a running cluster, this node joins it at
     * runtime; if they are all new too and a majority of this list agrees on it, they form a new
     * cluster together. None: a new single-member cluster. A node restarted on its data directory
     * rejoins its own cluster whatever this says.
     */
    public Builder peers(String... peers) {
      return peers(Arrays.asList(peers));
    }

    /** Peer addresses ({@code host:port}) of other members; see {@link #peers(String...)}. */
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

    /**
     * Raft election timeout; default 200 ms (etcd 0.1's). A follower that hears nothing from the
     * leader for one to two of these stands for election, so it bounds failover after a crash; a
     * machine that can stall a process for longer (GC pauses, overload) wants a longer one. Must
     * be longer than the heartbeat interval.
     */
    public Builder electionTimeout(Duration timeout) {
      this.electionTimeout = positive(timeout, "electionTimeout");
      return this;
    }

    /**
     * Raft heartbeat interval: how often the leader contacts idle followers; default 50 ms (etcd
     * 0.1's). Followers learn of new commits at once (the leader pushes the commit index after each
     * write), so this mostly bounds how soon a dead leader is noticed.
     */
    public Builder heartbeatInterval(Duration interval) {
      this.heartbeatInterval = positive(interval, "heartbeatInterval");
      return this;
    }

    /**
     * Members the cluster admits at most (etcd's {@code -maxsize}); default 9. A node that tries to
     * join a full cluster fails to start with error 103; the limit that counts is the leader's.
     */
    public Builder maxClusterSize(int members) {
      this.maxClusterSize = atLeast(members, 1, "maxClusterSize");
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

    /**
     * What the events kept for watches may hold, counted in characters of their keys, values and
     * previous values; default 16 MiB (1000 events of values up to ~8 KB). Beyond it the oldest
     * events go first, as beyond {@link #historySize}; watches from their indexes get error 401. It
     * bounds the heap that large values take in the history (and in every snapshot): 1000 writes of
     * 1 MiB values would otherwise keep 1-2 GiB.
     */
    public Builder maxHistoryBytes(long bytes) {
      this.maxHistoryBytes = atLeast(bytes, 1024L, "maxHistoryBytes");
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
     * writes from this address} and is not written, with a WARN line (at most one a minute). An
     * address has at most {@link #maxRequestsInProgressPerAddress} requests in progress (default
     * 128), so this bound is reached only where that one is raised above it.
     */
    public Builder maxPendingWritesPerAddress(int writes) {
      this.maxPendingWritesPerAddress = atLeast(writes, 1, "maxPendingWritesPerAddress");
      return this;
    }

    /**
     * Requests from one client IP address the node works on at once: read and not yet answered
     * (writes waiting for Raft, consistent reads, listings being written), not counting long-poll
     * watches, which have {@link #maxWatchersPerAddress}; default 128. Nothing is refused beyond
     * it: that address's next requests wait, unread, until one of its requests is answered. So a
     * host flooding the node from thousands of connections gets at most 128 requests worked on at
     * a time, and other clients' requests are not queued behind all of its own (a write flood from
     * 1 500 connections had pushed another client's p99 past 100 ms). Raise it for a proxy that
     * carries many clients' requests from one address.
     */
    public Builder maxRequestsInProgressPerAddress(int requests) {
      this.maxRequestsInProgressPerAddress = atLeast(requests, 1, "maxRequestsInProgressPerAddress");
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
     * Free space the node keeps on its data directory's file system: below it, writes are refused
     * with error 300 {@code disk full: ...} (HTTP 500) and the node keeps serving reads; writes
     * resume when space returns. Default: three log segments plus the largest entry (about 50 MB),
     * below which Atomix refuses to start a new log segment anyway. 0 turns the check off: writes
     * go on until the disk refuses them, which the log's space allocated ahead turns into failed
     * writes (error 300), not a crash.
     */
    public Builder minFreeDiskSpace(long bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("minFreeDiskSpace < 0: " + bytes);
      }
      this.minFreeDiskBytes = bytes;
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
     * The most the Raft log may hold on disk before a snapshot is taken and the log before it
     * dropped, at once rather than at the next scheduled compaction (every 10 s). It bounds the
     * data directory (log plus one or two snapshots) and the time a restart replays. Default
     * 64 MB (four log segments of 16 MB); at least two segments.
     */
    public Builder maxLogSize(long bytes) {
      if (bytes < 32L * 1024 * 1024) {
        throw new IllegalArgumentException("maxLogSize < 32 MB (two log segments): " + bytes);
      }
      this.maxLogBytes = bytes;
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
      if (heartbeatInterval.compareTo(electionTimeout) >= 0) {
        throw new IllegalArgumentException("heartbeatInterval (" + heartbeatInterval.toMillis()
            + " ms) must be shorter than electionTimeout (" + electionTimeout.toMillis() + " ms)");
      }
      return new EtcdNode(this);
    }

    private Builder copy() {
      Builder b = new Builder();
      b.name = name;
      b.dataDir = dataDir;
      b.clientAddress = clientAddress;
      b.peerAddress = peerAddress;
      b.peers = peers;
      b.clientListenHost = clientListenHost;
      b.peerListenHost = peerListenHost;
      b.corsOrigins = corsOrigins;
      b.clientTls = clientTls;
      b.peerTls = peerTls;
      b.startTimeout = startTimeout;
      b.commitTimeout = commitTimeout;
      b.electionTimeout = electionTimeout;
      b.heartbeatInterval = heartbeatInterval;
      b.maxClusterSize = maxClusterSize;
      b.minFreeDiskBytes = minFreeDiskBytes;
      b.maxLogBytes = maxLogBytes;
      b.maxKeyBytes = maxKeyBytes;
      b.maxValueBytes = maxValueBytes;
      b.maxBodyBytes = maxBodyBytes;
      b.historySize = historySize;
      b.maxHistoryBytes = maxHistoryBytes;
      b.maxWatchers = maxWatchers;
      b.maxConnections = maxConnections;
      b.maxFormFields = maxFormFields;
      b.maxConnectionsPerAddress = maxConnectionsPerAddress;
      b.maxWatchersPerAddress = maxWatchersPerAddress;
      b.maxPendingWrites = maxPendingWrites;
      b.maxPendingWritesPerAddress = maxPendingWritesPerAddress;
      b.maxRequestsInProgressPerAddress = maxRequestsInProgressPerAddress;
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
