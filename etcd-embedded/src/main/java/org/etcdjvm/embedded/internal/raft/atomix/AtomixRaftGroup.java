package org.etcdjvm.embedded.internal.raft.atomix;

import io.atomix.cluster.AtomixCluster;
import io.atomix.cluster.AtomixClusterBuilder;
import io.atomix.cluster.ClusterConfig;
import io.atomix.cluster.MemberId;
import io.atomix.cluster.Node;
import io.atomix.cluster.discovery.BootstrapDiscoveryProvider;
import io.atomix.primitive.partition.PartitionId;
import io.atomix.primitive.service.ServiceConfig;
import io.atomix.primitive.session.SessionClient;
import io.atomix.protocols.raft.RaftClient;
import io.atomix.protocols.raft.RaftServer;
import io.atomix.protocols.raft.cluster.RaftMember;
import io.atomix.protocols.raft.partition.impl.RaftClientCommunicator;
import io.atomix.protocols.raft.partition.impl.RaftNamespaces;
import io.atomix.protocols.raft.partition.impl.RaftServerCommunicator;
import io.atomix.protocols.raft.protocol.MetadataRequest;
import io.atomix.protocols.raft.protocol.RaftResponse;
import io.atomix.protocols.raft.storage.RaftStorage;
import io.atomix.storage.StorageLevel;
import io.atomix.utils.serializer.Serializer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.etcdjvm.embedded.internal.raft.MembershipPlan;
import org.etcdjvm.embedded.internal.raft.RaftConfig;
import org.etcdjvm.embedded.internal.raft.RaftGroup;
import org.etcdjvm.embedded.internal.raft.ReplicatedState;
import org.etcdjvm.embedded.internal.tls.TlsMaterial;
import org.etcdjvm.embedded.internal.tls.TlsMaterialException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Raft group on Atomix 3.1.12's low-level API: {@link AtomixCluster} for messaging, a
 * {@link RaftServer} holding this member's log and replica, and a {@link RaftClient} whose session
 * carries this member's commands. Everything that touches Atomix lives in this package: this class
 * runs the member's lifecycle and answers the {@link RaftGroup} questions; {@link Membership}
 * decides and changes its place in the cluster; {@link LocalStorage} guards the data directory;
 * {@link ServerMessaging}, {@link ClientMessaging} and {@link AddressRouting} shape Raft traffic;
 * {@link AtomixInternals} holds every reflective reach into Atomix.
 *
 * <p>Thread-safe. {@link #start} once, {@link #close} once.
 */
public final class AtomixRaftGroup implements RaftGroup {
  /** System property, for benchmarks only: followers acknowledge appends before flushing them, as Atomix does. */
  static final String UNSAFE_ACK_BEFORE_FLUSH = "etcdjvm.unsafe.followerAckBeforeFlush";

  private static final Logger log = LoggerFactory.getLogger(AtomixRaftGroup.class);
  private static final String GROUP = "etcd";
  private static final String CLUSTER_ID_FILE = "cluster-id";

  /**
   * Atomix's Raft serializer, built on first use: its class initialization fails without the
   * {@code --add-opens} flags, and building a node must not (start() reports the flags instead).
   */
  private static final class Protocol {
    static final Serializer SERIALIZER = Serializer.using(RaftNamespaces.RAFT_PROTOCOL);
  }

  private static final AtomicBoolean PREWARMED = new AtomicBoolean();

  private final RaftConfig config;
  private final ServiceType type;
  private final java.util.function.BooleanSupplier diskLow;
  private final LocalStorage storage;
  private final Membership membership;
  private final MemberId self;
  private final Instant startTime = Instant.now();
  private final CompletableFuture<String> stopped = new CompletableFuture<>();
  /** Fails the start when a peer shows, while this member starts, that it must not serve. */
  private final CompletableFuture<Void> refused = new CompletableFuture<>();
  /** The outcome of {@link #start}. */
  private final CompletableFuture<Void> started = new CompletableFuture<>();
  private volatile boolean closed;
  /**
   * Held by a start step while it runs and by {@link #close()} while it sets {@link #closed}: a
   * close during the start sees everything the steps before it created, and no step runs after it.
   */
  private final Object startLock = new Object();
  /** The task of {@link #keepSegmentsMapped}, once scheduled. */
  private volatile ScheduledFuture<?> keepingSegmentsMapped;
  /** AtomixCluster.start()'s future, once called. */
  private volatile CompletableFuture<Void> clusterStarting;
  /** Started: this member is in the configuration (a joining member is not, until its join completes). */
  private volatile boolean serving;
  private volatile String currentStep = "nothing (not started)";
  /** Whether a snapshot was restored into the replica since the start. */
  private volatile boolean snapshotRestored;
  private volatile CompletableFuture<Void> forcedCompaction = CompletableFuture.completedFuture(null);

  private AtomixCluster cluster;
  private PeerProtocol peers;
  private volatile ServerMessaging serverMessaging;
  private volatile RaftServerCommunicator serverProtocol;
  private volatile RaftServer server;
  /** Atomix's internal state of {@link #server}, for pushing commit indexes (null if unreadable). */
  private volatile io.atomix.protocols.raft.impl.RaftContext context;
  private volatile RaftClientCommunicator clientProtocol;
  private volatile RaftServer.Role role = RaftServer.Role.INACTIVE;
  private RaftClient client;
  private volatile CommandSession session;
  private final LocalOutcomes outcomes = new LocalOutcomes();
  private volatile ScheduledExecutorService timer;

  /**
   * @param state           what the group replicates
   * @param registeredNames member name → peer address, as registered in the replicated state; told
   *                        to starting members so that a joining member cannot take a used name
   * @param diskLow         whether the data directory's disk is below its floor: then a follower
   *                        declines appends (the leader retries), and no spare segment is allocated
   */
  public AtomixRaftGroup(RaftConfig config, ReplicatedState state, Supplier<Map<String, String>> registeredNames,
      java.util.function.BooleanSupplier diskLow) {
    this.config = config;
    this.diskLow = diskLow;
    this.self = MemberId.from(config.peerAddress());
    this.storage = new LocalStorage(config, GROUP, self.id());
    this.membership = new Membership(this, config, self, storage, registeredNames);
    this.type = new ServiceType(state, new ServiceAdapter.RestoreListener() {
      @Override
      public void restored() {
        snapshotRestored = true;
      }

      @Override
      public void failed(Throwable cause) {
        storageFailed("the snapshot in " + config.dataDir().resolve("raft") + " could not be restored: "
            + cause.getMessage());
      }

      @Override
      public void applied(long index) {
        storage.applied(index);
      }
    }, outcomes);
  }

  /**
   * Does, on a thread of its own, the slow one-time initialisation the Raft server needs, so that it
   * overlaps with starting HTTP and peer messaging: Atomix's Raft serializers (about 600 classes
   * registered with Kryo), and the JVM's platform MBean server only where
   * {@link AtomixInternals#buildStorage} cannot spare Atomix's {@code RaftStorage} from creating it.
   * Needs the {@code --add-opens} flags; call only once they are known to be present. Idempotent.
   */
  public static void prewarm() {
    if (PREWARMED.getAndSet(true)) {
      return;
    }
    Thread t = new Thread(() -> {
      try {
        if (!AtomixInternals.storageWithoutMBeanServer()) {
          java.lang.management.ManagementFactory.getPlatformMBeanServer(); // RaftStorage's constructor will ask
        }
        Protocol.SERIALIZER.hashCode();
        RaftNamespaces.RAFT_STORAGE.hashCode();
      } catch (Throwable e) {
        log.debug("prewarming the Raft server failed", e);
      }
    }, "etcd-raft-prewarm");
    t.setDaemon(true);
    t.start();
  }

  // ------------------------------------------------------------------------------------ start

  @Override
  public CompletableFuture<Void> start() {
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "etcd-raft-timer-" + config.name());
      t.setDaemon(true);
      return t;
    });
    CompletableFuture<Void> chain = step("the data directory " + config.dataDir(), () -> {
          storage.prepare();
          checkPeerAddressFree();
          return CompletableFuture.completedFuture(null);
        })
        .thenCompose(v -> step("peer messaging on " + config.peerAddress(), this::startMessaging))
        .thenCompose(v -> step("the Raft log in " + config.dataDir().resolve("raft"), () -> {
          storage.verify();
          buildServer();
          storage.backFirstSegment();
          return CompletableFuture.completedFuture(null);
        }))
        .thenCompose(v -> membership.plan())
        .thenCompose(decision -> step(membership.describe(decision), () -> membership.enter(decision)))
        .thenCompose(v -> step("a Raft client connection", this::connectClient))
        .thenCompose(v -> step("the leader to serve clients", this::leaderServing))
        .thenCompose(v -> step("the snapshot at index " + storage.snapshotAtStart() + " to be restored",
            this::snapshotRestored))
        .thenCompose(v -> step("a Raft session to open", () -> {
          session = new CommandSession(this::openSession, outcomes, config.commitTimeout().toMillis(), timer);
          return session.opened();
        }))
        .thenRun(() -> {
          currentStep = "nothing (started)";
          serving = true;
          timer.scheduleWithFixedDelay(this::prepareNextSegment, 0, 1, TimeUnit.SECONDS);
          keepingSegmentsMapped = timer.scheduleWithFixedDelay(this::keepSegmentsMapped, 0, 20, TimeUnit.MILLISECONDS);
          timer.scheduleWithFixedDelay(this::boundTheLog, 1, 1, TimeUnit.SECONDS);
          timer.scheduleWithFixedDelay(membership::checkStillMember, 2, 2, TimeUnit.SECONDS);
        });
    chain.whenComplete((v, e) -> {
      if (e == null) {
        started.complete(null);
      } else {
        started.completeExceptionally(e);
      }
    });
    refused.whenComplete((v, e) -> {
      if (e != null) {
        started.completeExceptionally(e);
      }
    });
    return started;
  }

  /**
   * Every 20 ms: the log segments mapped since are kept mapped until compaction deletes them
   * ({@link AtomixInternals#keepSegmentsMapped}: otherwise the Raft thread stops for 0.4-0.5 s
   * each time one is unmapped). Stops, with one debug line, if Atomix's internals do not allow it.
   */
  private void keepSegmentsMapped() {
    io.atomix.protocols.raft.impl.RaftContext c = context;
    if (closed || c == null) {
      return;
    }
    if (AtomixInternals.keepSegmentsMapped(c) < 0) {
      log.debug("{}: cannot keep Atomix's log segments mapped; they are unmapped as Atomix does", config.name());
      ScheduledFuture<?> f = keepingSegmentsMapped;
      if (f != null) {
        f.cancel(false);
      }
    }
  }

  /** Every second: the next log segment, allocated before Atomix needs it. */
  private void prepareNextSegment() {
    if (!closed && !diskLow.getAsBoolean()) {
      storage.prepareNextSegment();
    }
  }

  /**
   * Every second: when the log's segments hold more than the limit, compact now. Atomix snapshots
   * on its own schedule (every 10 s, and later still while snapshots are in progress), which lets
   * a log under heavy writes grow far past what a restart should have to replay.
   */
  private void boundTheLog() {
    RaftServer s = server;
    if (closed || s == null || !forcedCompaction.isDone()) {
      return;
    }
    long bytes = storage.logBytes();
    if (bytes > config.logLimitBytes()) {
      log.debug("{}: the log holds {} bytes, over {}: compacting now", config.name(), bytes, config.logLimitBytes());
      forcedCompaction = s.compact().exceptionally(e -> null);
    }
  }

  /**
   * Completes once the newest snapshot found at start has been restored into the replica: Atomix
   * installs it as the state machine catches up, and if it did not (it skips a snapshot whose
   * service it cannot read, with a log line) the replica would silently lack everything before it.
   */
  private CompletableFuture<Void> snapshotRestored() {
    long index = storage.snapshotAtStart();
    if (index == 0) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    ScheduledFuture<?> poll = timer.scheduleWithFixedDelay(() -> {
      io.atomix.protocols.raft.impl.RaftContext c = context;
      if (snapshotRestored) {
        done.complete(null);
      } else if (c != null && c.getLastApplied() > index) {
        done.completeExceptionally(new IllegalStateException("the replica applied the log past index " + index
            + " without restoring the snapshot there; " + storage.damageAdvice()));
      }
    }, 0, 5, TimeUnit.MILLISECONDS);
    done.whenComplete((v, e) -> poll.cancel(false));
    return done;
  }

  /** The replica cannot be trusted: refuse the start, or stop serving if already started. */
  private void storageFailed(String reason) {
    log.error("{}: {}", config.name(), reason);
    IllegalStateException e = new IllegalStateException("node " + config.name() + " must not serve: " + reason + "; "
        + storage.damageAdvice());
    if (!refused.completeExceptionally(e) || started.isDone()) {
      markStopped(reason);
    }
  }

  /**
   * Atomix leaks its messaging threads when it fails to bind, so a taken peer port is caught here
   * first, with a message that names it.
   */
  private void checkPeerAddressFree() {
    String[] hostPort = splitHostPort(config.peerAddress());
    String host = listenHost();
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress(host, Integer.parseInt(hostPort[1])));
    } catch (IOException e) {
      throw new IllegalStateException("cannot listen for Raft peers on " + host + ":" + hostPort[1] + ": " + e.getMessage(), e);
    }
  }

  private String listenHost() {
    return config.peerListenHost() != null ? config.peerListenHost() : splitHostPort(config.peerAddress())[0];
  }

  private CompletableFuture<Void> startMessaging() {
    List<Node> nodes = new ArrayList<>();
    for (String member : initialContacts()) {
      nodes.add(Node.builder().withId(member).withAddress(member).build());
    }
    String[] hostPort = splitHostPort(config.peerAddress());
    TlsMaterial tls = null;
    if (config.peerTls() != null) {
      try {
        tls = config.peerTls().load();
      } catch (TlsMaterialException e) {
        throw new IllegalStateException(e.getMessage(), e);
      }
    }
    // builder(ClusterConfig): AtomixCluster.builder() would look for cluster.conf/.json/.properties on the
    // class path with Typesafe Config (~330 classes, ~150 ms of a cold start), and let such a file change us
    AtomixClusterBuilder builder = (tls != null ? TlsCluster.tlsBuilder() : AtomixCluster.builder(new ClusterConfig()))
        .withClusterId(GROUP)
        .withMemberId(self)
        .withAddress(hostPort[0], Integer.parseInt(hostPort[1]))
        .withMessagingInterface(listenHost())
        .withMembershipProvider(BootstrapDiscoveryProvider.builder().withNodes(nodes).build());
    CompletableFuture<Void> running;
    if (tls == null) {
      cluster = builder.build();
      running = cluster.start();
    } else {
      // Atomix reads its key and trust stores from files, synchronously in start(); see PeerKeyStores.
      try (PeerKeyStores stores = PeerKeyStores.write(config.dataDir(), tls)) {
        cluster = builder.withTlsEnabled()
            .withKeyStore(stores.keyStore())
            .withKeyStorePassword(stores.password())
            .withTrustStore(stores.trustStore())
            .withTrustStorePassword(stores.password())
            .build();
        running = cluster.start();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("cannot hand the peer TLS material to Atomix: " + e.getMessage(), e);
      }
    }
    clusterStarting = running;
    boolean quietFailures = tls != null;
    return running.thenRun(() -> {
      if (quietFailures) {
        io.netty.channel.Channel server = AtomixInternals.serverChannel(cluster.getMessagingService());
        if (server != null) {
          PeerTlsFailures.install(server, config.name());
        }
      }
      peers = new PeerProtocol(cluster.getMessagingService(), Duration.ofMillis(500));
      peers.serveStatus(membership::status);
      peers.serveRemove(membership::removeHere);
      peers.serveRemoved(membership::removalNotice);
    });
  }

  /** This member and its {@code -C} peers (the stored configuration is not known before the log is opened). */
  private List<String> initialContacts() {
    Set<String> all = new LinkedHashSet<>();
    all.add(self.id());
    all.addAll(config.peers());
    return List.copyOf(all);
  }

  private void buildServer() {
    // Between servers (append, vote, heartbeat) a short timeout detects a dead peer quickly.
    ServerMessaging.Membership membership = new ServerMessaging.Membership() {
      @Override
      public boolean isLeader() {
        return AtomixRaftGroup.this.isLeader();
      }

      @Override
      public int memberCount() {
        return members().size();
      }

      @Override
      public boolean isMember(MemberId member) {
        RaftServer s = server;
        return s != null && s.cluster().getMember(member) != null;
      }
    };
    serverMessaging = new ServerMessaging(new AddressRouting(cluster.getCommunicationService(), cluster.getMessagingService()),
        config.requestTimeout(), GROUP, config.electionTimeout(), this::term, () -> role == RaftServer.Role.FOLLOWER,
        membership, config.maxClusterSize(),
        message -> refused.completeExceptionally(new IllegalStateException("the cluster refused this member: " + message)),
        diskLow, () -> {
          io.atomix.protocols.raft.impl.RaftContext c = context;
          return c == null ? 0 : c.getLogWriter().getLastIndex();
        });
    serverProtocol = new RaftServerCommunicator(GROUP, Protocol.SERIALIZER, serverMessaging);
    RaftStorage.Builder storageBuilder = RaftStorage.builder()
        .withPrefix(GROUP)
        .withDirectory(config.dataDir().resolve("raft").toFile())
        // MAPPED, not DISK: Atomix's file-channel reader re-reads 2 x maxEntrySize bytes from the
        // segment every time the state machine catches up with the log tail (~30x slower
        // writes). Mapped segments are still forced to disk on every commit (flushOnCommit).
        .withStorageLevel(StorageLevel.MAPPED)
        .withFlushOnCommit(true)
        // Compact on schedule even under load: Atomix's dynamic compaction postpones snapshots while
        // more than ~500 entries arrive per 5 s, and the log grew without bound (160 MB in 18 s).
        .withDynamicCompaction(false)
        .withMaxSegmentSize(config.segmentBytes())
        .withMaxEntrySize(config.maxEntryBytes())
        .withNamespace(RaftNamespaces.RAFT_STORAGE);
    RaftStorage storage = AtomixInternals.buildStorage(storageBuilder);
    RaftServer s = RaftServer.builder(self)
        .withName(GROUP)
        .withMembershipService(cluster.getMembershipService())
        .withProtocol(serverProtocol)
        .withPrimitiveTypes(type)
        .withHeartbeatInterval(config.heartbeatInterval()) // first: Atomix checks election > heartbeat on each call
        .withElectionTimeout(config.electionTimeout())
        .withSessionTimeout(config.sessionTimeout())
        .withStorage(storage)
        .build();
    s.addRoleChangeListener(this::roleChanged);
    try {
      io.atomix.protocols.raft.impl.RaftContext c = AtomixInternals.contextOf(s);
      context = c;
      // snapshot files written off the state-machine thread (BackgroundSnapshotStore)
      BackgroundSnapshotStore snapshots = new BackgroundSnapshotStore(storage, config.name());
      snapshots.onCompletionFailure(() -> {
        // Atomix's own completion runs on its state-machine thread; a follower's install of the
        // leader's snapshot (which does not hold the compaction) on the Raft thread
        if (c.getServiceManager().executor().isCurrentContext()) {
          c.getThreadContext().execute(() -> {
            if (AtomixInternals.releaseFailedCompaction(c)) {
              log.warn("{}: the snapshot failed and its log is kept; the next is taken once the log has grown further",
                  config.name());
            }
          });
        }
      });
      AtomixInternals.replaceSnapshotStore(c, snapshots);
      if (Boolean.getBoolean(UNSAFE_ACK_BEFORE_FLUSH)) {
        // only to measure what the flush costs (benchmarks/README.md): a follower then acknowledges
        // entries that a power loss could take back
        log.warn("{}: -D{}=true: followers acknowledge appends before flushing them (benchmarking only)",
            config.name(), UNSAFE_ACK_BEFORE_FLUSH);
      } else {
        serverMessaging.flushBeforeAcknowledging(() -> c.getLogWriter().flush(), c.getThreadContext());
      }
    } catch (ReflectiveOperationException e) {
      log.warn("cannot read Atomix's server state: followers learn commits only with the heartbeat, and acknowledge"
          + " appends before flushing them", e);
    }
    server = s;
  }

  /** The members of the configuration this server holds (stored, or received); empty for a new member. */
  List<String> storedMembers() {
    RaftServer s = server;
    if (s == null) {
      return List.of();
    }
    List<String> ids = new ArrayList<>();
    for (RaftMember m : s.cluster().getMembers()) {
      ids.add(m.memberId().id());
    }
    return ids;
  }

  // ------------------------------------------------------------------------------------ membership

  private static List<MemberId> ids(List<String> members) {
    return members.stream().map(MemberId::from).toList();
  }

  private CompletableFuture<Void> connectClient() {
    client = RaftClient.builder()
        .withClientId(config.name())
        .withPartitionId(PartitionId.from(GROUP, 1))
        .withMemberId(self)
        // A command's reply waits for its commit (fsync, replication), which may take longer
        // under load; a dead leader is still noticed at once through the closed connection.
        // (Not Duration.multipliedBy: on JDK 25 its first call initialises BigDecimal, 60-190 ms of CPU.)
        .withProtocol(clientProtocol = new RaftClientCommunicator(GROUP, Protocol.SERIALIZER, new ClientMessaging(
            new AddressRouting(cluster.getCommunicationService(), cluster.getMessagingService()),
            Duration.ofMillis(config.requestTimeout().toMillis() * 3), self, this::isLeader)))
        .build();
    return client.connect(ids(members())).thenApply(c -> null);
  }

  /**
   * Completes once the leader answers client requests. A new leader refuses them until it has
   * committed and applied its first entry of the term, and a session open refused by every member
   * is retried by Atomix only a second later. A metadata request (read-only, not logged) every
   * 20 ms finds the moment; any failure just means "not yet".
   */
  private CompletableFuture<Void> leaderServing() {
    CompletableFuture<Void> serving = new CompletableFuture<>();
    AtomicBoolean asking = new AtomicBoolean();
    RaftServer s = this.server;
    RaftClientCommunicator protocol = this.clientProtocol;
    ScheduledFuture<?> poll = timer.scheduleWithFixedDelay(() -> {
      RaftMember leader = s.cluster().getLeader();
      if (closed || leader == null || serving.isDone() || !asking.compareAndSet(false, true)) {
        return;
      }
      protocol.metadata(leader.memberId(), new MetadataRequest(0)).whenComplete((response, error) -> {
        asking.set(false);
        if (response != null && response.status() == RaftResponse.Status.OK) {
          serving.complete(null);
        }
      });
    }, 0, 20, TimeUnit.MILLISECONDS);
    serving.whenComplete((v, e) -> poll.cancel(false));
    return serving;
  }

  /**
   * The session's timeout is Atomix's default maximum, 30 s (the leader grants the client's maximum),
   * so keep-alives go every 27.5 s and a member paused for less than that keeps its session. Atomix
   * holds every command's result until the next keep-alive: hence only references ({@link LocalOutcomes}).
   */
  private CompletableFuture<SessionClient> openSession() {
    return client.sessionBuilder(GROUP, type, new ServiceConfig())
        .withMinTimeout(config.sessionTimeout())
        .build()
        .connect();
  }

  // ------------------------------------------------------------------------------------ removal

  @Override
  public CompletableFuture<Void> remove(String peerAddress) {
    return membership.remove(peerAddress);
  }

  void markStopped(String reason) {
    if (stopped.complete(reason)) {
      log.warn("{}: {}; stopping", config.name(), reason);
    }
  }

  @Override
  public CompletableFuture<String> stopped() {
    return stopped;
  }

  // ------------------------------------------------------------------------------------ state

  @Override
  public CompletableFuture<byte[]> execute(byte[] command) {
    CommandSession s = session;
    if (s == null) {
      return CompletableFuture.failedFuture(new IllegalStateException("not started"));
    }
    return s.execute(command).whenComplete((result, error) -> {
      io.atomix.protocols.raft.impl.RaftContext c = context;
      if (error == null && c != null) {
        AtomixInternals.pushCommitIndex(c);
      }
    });
  }

  @Override
  public CompletableFuture<Void> readBarrier() {
    io.atomix.protocols.raft.impl.RaftContext c = context;
    if (c == null || !isLeader()) {
      return CompletableFuture.failedFuture(new org.etcdjvm.embedded.internal.raft.NotLeaderException(null));
    }
    return AtomixInternals.readIndex(c).thenCompose(commit -> {
      if (c.getLastApplied() >= commit) {
        return CompletableFuture.completedFuture((Void) null);
      }
      CompletableFuture<Void> applied = new CompletableFuture<>();
      ScheduledFuture<?> poll = timer.scheduleWithFixedDelay(() -> {
        if (c.getLastApplied() >= commit) {
          applied.complete(null);
        }
      }, 1, 1, TimeUnit.MILLISECONDS);
      applied.whenComplete((v, e) -> poll.cancel(false));
      return applied.orTimeout(config.commitTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }).orTimeout(config.commitTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public String self() {
    return self.id();
  }

  /**
   * True while this member's Raft server is in the LEADER role (as its role-change listener last
   * reported) and names itself leader. A deposed leader (partition, higher term) stops at once:
   * Atomix clears the leader and changes the role before anything else.
   */
  @Override
  public boolean isLeader() {
    RaftServer s = server;
    return s != null && role == RaftServer.Role.LEADER && s.isLeader();
  }

  /**
   * The leader as this member's Raft server knows it, if it has heard from it within an election
   * timeout (Atomix itself forgets a silent leader only after one to two election timeouts). A view
   * naming this member while it is not in the LEADER role (a step-down in progress) counts as no
   * leader.
   */
  @Override
  public Optional<String> leader() {
    RaftServer s = server;
    if (s == null) {
      return Optional.empty();
    }
    if (isLeader()) {
      return Optional.of(self.id());
    }
    RaftMember leader = s.cluster().getLeader();
    if (leader == null || leader.memberId().equals(self)
        || !serverMessaging.heardLeaderWithin(config.electionTimeout().toNanos())) {
      return Optional.empty();
    }
    return Optional.of(leader.memberId().id());
  }

  @Override
  public List<String> members() {
    RaftServer s = server;
    if (s == null) {
      return List.of();
    }
    List<String> ids = new ArrayList<>();
    for (RaftMember m : s.cluster().getMembers()) {
      if (m.getType() == RaftMember.Type.ACTIVE || m.getType() == RaftMember.Type.PROMOTABLE) {
        ids.add(m.memberId().id());
      }
    }
    return ids;
  }

  @Override
  public CompletableFuture<Void> compact() {
    RaftServer s = server;
    return s == null ? CompletableFuture.failedFuture(new IllegalStateException("node not started or closed"))
        : s.compact();
  }

  @Override
  public String waitingFor() {
    return currentStep;
  }

  /** Outcomes waiting in {@link LocalOutcomes} (0 when no command is in flight): for tests. */
  int localOutcomesKept() {
    return outcomes.kept();
  }

  /** The Atomix server, for tests that inspect its state; null before start and after close. */
  RaftServer raftServer() {
    return server;
  }

  // ---------------------------------------------------------------- for Membership (same package)

  RaftServer server() {
    return server;
  }

  RaftServerCommunicator serverProtocol() {
    return serverProtocol;
  }

  ServerMessaging serverMessaging() {
    return serverMessaging;
  }

  PeerProtocol peers() {
    return peers;
  }

  ScheduledExecutorService timer() {
    return timer;
  }

  boolean isClosed() {
    return closed;
  }

  boolean serving() {
    return serving;
  }

  RaftServer.Role role() {
    return role;
  }

  void currentStep(String waitingFor) {
    currentStep = waitingFor;
  }

  /** Fails the start when completed exceptionally (a refusal arriving while it runs). */
  CompletableFuture<Void> refused() {
    return refused;
  }

  CompletableFuture<Void> started() {
    return started;
  }

  long term() {
    RaftServer s = server;
    return s == null ? 0 : s.cluster().getTerm();
  }

  /** Role changes, as Atomix's server reports them (on its Raft thread). */
  private void roleChanged(RaftServer.Role newRole) {
    role = newRole;
    log.debug("{} is now {}", config.name(), newRole);
  }

  /**
   * Runs one start step: records what the group now waits for (for a start-timeout message), and
   * turns any failure, synchronous or not, into one that names the step.
   */
  private <T> CompletableFuture<T> step(String waitingFor, Supplier<CompletableFuture<T>> action) {
    currentStep = waitingFor;
    if (log.isDebugEnabled()) {
      log.debug("{}: {} ms after start: waiting for {}", config.name(),
          Duration.between(startTime, Instant.now()).toMillis(), waitingFor);
    }
    CompletableFuture<T> running;
    synchronized (startLock) {
      if (closed) {
        running = CompletableFuture.failedFuture(new IllegalStateException("node " + config.name()
            + " closed while starting"));
      } else {
        try {
          running = action.get();
        } catch (RuntimeException e) {
          running = CompletableFuture.failedFuture(e);
        }
      }
    }
    return running.handle((value, error) -> {
      if (error != null) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof IllegalStateException && cause.getMessage() != null && cause.getMessage().startsWith("node ")) {
          throw new CompletionException(cause);
        }
        throw new CompletionException(new IllegalStateException(
            "node " + config.name() + " failed while waiting for " + waitingFor + ": " + cause.getMessage(), cause));
      }
      return value;
    });
  }

  static String[] splitHostPort(String address) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || colon == address.length() - 1) {
      throw new IllegalArgumentException("expected host:port, got " + address);
    }
    return new String[] {address.substring(0, colon), address.substring(colon + 1)};
  }

  // ------------------------------------------------------------------------------------ close

  /** Stops everything this member started, in reverse order; waits at most a few seconds in total. */
  @Override
  public void close() {
    synchronized (startLock) {
      closed = true;
    }
    started.completeExceptionally(new IllegalStateException("node " + config.name() + " closed while starting"));
    ScheduledExecutorService t = timer;
    if (t != null) {
      t.shutdownNow();
    }
    CommandSession cs = session;
    if (cs != null) {
      cs.close();
    }
    quietly(client == null ? null : client.close(), 2);
    RaftServer s = server;
    long committedAtClose = committedInLog();
    if (s != null) {
      quietly(s.isRunning() ? s.shutdown() : AtomixInternals.stopUnstarted(s), 3);
    }
    AtomixCluster c = cluster;
    if (c != null) {
      // Stopped while still starting, Atomix's cluster goes on starting threads it never stops.
      quietly(clusterStarting, 5);
      CompletableFuture<Void> stopping = c.stop();
      AtomixInternals.hurryMessagingShutdown(c.getMessagingService(), stopping, 5_000);
      quietly(stopping, 5);
    }
    storage.close(committedAtClose);
    // A closed member that the application still holds must not pin Atomix's log buffers (about
    // 16 MB per segment reader or writer).
    client = null;
    server = null;
    context = null;
    serverProtocol = null;
    clientProtocol = null;
    cluster = null;
    session = null;
  }

  /**
   * The highest index that is both committed and in this member's log (read from Atomix's context;
   * a follower may know a commit index beyond its own log). 0 when unknown.
   */
  private long committedInLog() {
    io.atomix.protocols.raft.impl.RaftContext c = context;
    try {
      return c == null ? 0 : Math.min(c.getCommitIndex(), c.getLogWriter().getLastIndex());
    } catch (RuntimeException e) {
      return 0;
    }
  }

  private static void quietly(CompletableFuture<?> future, int seconds) {
    if (future == null) {
      return;
    }
    try {
      future.get(seconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.debug("close step failed", e);
    }
  }
}
