package org.etcdjvm.embedded.internal.raft.atomix;

import io.atomix.cluster.AtomixCluster;
import io.atomix.cluster.MemberId;
import io.atomix.cluster.Node;
import io.atomix.cluster.discovery.BootstrapDiscoveryProvider;
import io.atomix.primitive.partition.PartitionId;
import io.atomix.primitive.service.ServiceConfig;
import io.atomix.primitive.session.SessionClient;
import io.atomix.protocols.raft.RaftClient;
import io.atomix.protocols.raft.RaftServer;
import io.atomix.protocols.raft.cluster.RaftMember;
import io.atomix.protocols.raft.cluster.impl.DefaultRaftMember;
import io.atomix.protocols.raft.partition.impl.RaftClientCommunicator;
import io.atomix.protocols.raft.partition.impl.RaftNamespaces;
import io.atomix.protocols.raft.partition.impl.RaftServerCommunicator;
import io.atomix.protocols.raft.protocol.LeaveRequest;
import io.atomix.protocols.raft.protocol.MetadataRequest;
import io.atomix.protocols.raft.protocol.RaftResponse;
import io.atomix.protocols.raft.storage.RaftStorage;
import io.atomix.storage.StorageLevel;
import io.atomix.utils.serializer.Serializer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.etcdjvm.embedded.internal.raft.MembershipPlan;
import org.etcdjvm.embedded.internal.raft.MembershipPlan.Decision;
import org.etcdjvm.embedded.internal.raft.MembershipPlan.PeerStatus;
import org.etcdjvm.embedded.internal.raft.RaftConfig;
import org.etcdjvm.embedded.internal.raft.RaftGroup;
import org.etcdjvm.embedded.internal.raft.ReplicatedState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Raft group on Atomix 3.1.12's low-level API: {@link AtomixCluster} for messaging, a
 * {@link RaftServer} holding this member's log and replica, and a {@link RaftClient} whose session
 * carries this member's commands. The only class outside this package's helpers that sees Atomix.
 *
 * <p><b>Membership.</b> Members are named by peer address. At start a member asks its peers (and
 * the members of its stored configuration) which cluster they are in, and {@link MembershipPlan}
 * decides: restart from the data directory, form a new cluster (alone, or with a static member list
 * that a majority agrees on), join a running cluster through a Raft configuration change
 * ({@link RaftServer#join}), or refuse. Removal goes through the leader; a removed member is told
 * and stops.
 *
 * <p>Thread-safe. {@link #start} once, {@link #close} once.
 */
public final class AtomixRaftGroup implements RaftGroup {
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
  private final Supplier<Map<String, String>> registeredNames;
  private final java.util.function.BooleanSupplier diskLow;
  private final SegmentSpace segments;
  /** Whether the log had no segment before Atomix opened it (then Atomix creates the first one, sparse). */
  private volatile boolean noSegmentAtStart;
  private final MemberId self;
  private final Instant startTime = Instant.now();
  private final CompletableFuture<String> stopped = new CompletableFuture<>();
  /** Fails the start when a peer shows, while this member starts, that it must not serve. */
  private final CompletableFuture<Void> refused = new CompletableFuture<>();
  /** The outcome of {@link #start}. */
  private final CompletableFuture<Void> started = new CompletableFuture<>();
  private volatile boolean closed;
  private volatile boolean decided;
  /** Started: this member is in the configuration (a joining member is not, until its join completes). */
  private volatile boolean serving;
  private volatile String clusterId;
  private volatile String currentStep = "nothing (not started)";
  /** Index of the newest snapshot found at start (0: none), and whether a snapshot was restored since. */
  private volatile long snapshotAtStart;
  private volatile boolean snapshotRestored;
  private volatile CommittedIndex committedIndex;

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
    this.segments = new SegmentSpace(config.dataDir().resolve("raft"), GROUP, config.segmentBytes());
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
        CommittedIndex mark = committedIndex;
        if (mark != null) {
          try {
            mark.applied(index);
          } catch (IOException e) {
            log.debug("cannot record the committed index {} (a lower mark only lets more damage pass as an"
                + " interrupted write)", index, e);
          }
        }
      }
    });
    this.registeredNames = registeredNames;
    this.self = MemberId.from(config.peerAddress());
  }

  /**
   * Does, on a thread of its own, the slow one-time initialisation the Raft server needs, so that it
   * overlaps with starting HTTP and peer messaging: Atomix's Raft serializers (about 600 classes
   * registered with Kryo) and the JVM's platform MBean server (Atomix's {@code RaftStorage} asks for
   * it; creating it registers every platform MXBean, about a second of CPU on a cold JVM). Needs the
   * {@code --add-opens} flags; call only once they are known to be present. Idempotent.
   */
  public static void prewarm() {
    if (PREWARMED.getAndSet(true)) {
      return;
    }
    Thread t = new Thread(() -> {
      try {
        java.lang.management.ManagementFactory.getPlatformMBeanServer();
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
          prepareDataDir();
          checkPeerAddressFree();
          return CompletableFuture.completedFuture(null);
        })
        .thenCompose(v -> step("peer messaging on " + config.peerAddress(), this::startMessaging))
        .thenCompose(v -> step("the Raft log in " + config.dataDir().resolve("raft"), () -> {
          verifyStorage();
          buildServer();
          backFirstSegment();
          return CompletableFuture.completedFuture(null);
        }))
        .thenCompose(v -> plan())
        .thenCompose(decision -> step(describe(decision), () -> enter(decision)))
        .thenCompose(v -> step("a Raft client connection", this::connectClient))
        .thenCompose(v -> step("the leader to serve clients", this::leaderServing))
        .thenCompose(v -> step("the snapshot at index " + snapshotAtStart + " to be restored", this::snapshotRestored))
        .thenCompose(v -> step("a Raft session to open", () -> {
          session = new CommandSession(this::openSession, config.commitTimeout().toMillis(), timer);
          return session.opened();
        }))
        .thenRun(() -> {
          currentStep = "nothing (started)";
          serving = true;
          timer.scheduleWithFixedDelay(this::prepareNextSegment, 0, 1, TimeUnit.SECONDS);
          timer.scheduleWithFixedDelay(this::boundTheLog, 1, 1, TimeUnit.SECONDS);
          timer.scheduleWithFixedDelay(this::checkStillMember, 2, 2, TimeUnit.SECONDS);
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

  private String describe(Decision decision) {
    if (decision instanceof MembershipPlan.Join join) {
      return "joining the cluster of " + join.members() + " through " + join.via();
    }
    if (decision instanceof MembershipPlan.Bootstrap b) {
      return "a Raft leader among " + b.members();
    }
    return "a Raft leader (restarting from " + storedMembers() + ")";
  }

  private void prepareDataDir() {
    Path raftDir = config.dataDir().resolve("raft");
    try {
      Files.createDirectories(raftDir);
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("cannot use data directory " + config.dataDir() + ": " + e, e);
    }
    if (!Files.isWritable(raftDir)) {
      throw new IllegalStateException("data directory " + raftDir + " is not writable");
    }
    Path idFile = config.dataDir().resolve(CLUSTER_ID_FILE);
    try {
      clusterId = Files.isRegularFile(idFile) ? Files.readString(idFile, StandardCharsets.UTF_8).trim() : null;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + idFile + ": " + e.getMessage(), e);
    }
  }

  /** What to do about damaged storage, as every such message says. */
  private String damageAdvice() {
    return "if this member's cluster has other healthy members, delete the data directory " + config.dataDir()
        + " and start it again (it rejoins under the same peer address and catches up from the others);"
        + " if it is the only member, restore the data directory from a backup";
  }

  /** Reads the log and snapshots before Atomix does (see {@link LogVerifier}). */
  private void verifyStorage() {
    Path lock = config.dataDir().resolve("raft").resolve("." + GROUP + ".lock");
    try {
      if (Files.isRegularFile(lock)) {
        // Atomix's storage lock (RaftStorage.lock): the id, i.e. peer address, of the member the
        // directory belongs to, as Atomix's Buffer.writeString writes it (a boolean, an unsigned
        // short length, the UTF-8 bytes).
        byte[] bytes = Files.readAllBytes(lock);
        int length = bytes.length >= 3 ? ((bytes[1] & 0xff) << 8) | (bytes[2] & 0xff) : -1;
        String owner = bytes.length >= 3 && bytes[0] == 1 && 3 + length <= bytes.length
            ? new String(bytes, 3, length, StandardCharsets.UTF_8) : "";
        if (!owner.isEmpty() && !owner.equals(self.id())) {
          throw new IllegalStateException("node " + config.name() + " must not start: the data directory "
              + config.dataDir() + " belongs to the member at " + owner + ", not " + self.id()
              + "; start it with that peer address (-s " + owner + ") or use another data directory");
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + lock + ": " + e, e);
    }
    try {
      Path raftDir = config.dataDir().resolve("raft");
      try (var leftovers = Files.newDirectoryStream(raftDir, ".spare-*.tmp")) {
        for (Path p : leftovers) {
          Files.deleteIfExists(p); // a spare segment whose allocation was interrupted
        }
      }
      LogVerifier.Result result = LogVerifier.verify(raftDir, GROUP, damageAdvice());
      snapshotAtStart = result.snapshotIndex();
      noSegmentAtStart = result.newestSegment() == null;
      if (result.newestSegment() != null) {
        SegmentSpace.back(result.newestSegment(), result.newestEnd());
      }
      committedIndex = CommittedIndex.open(config.dataDir().resolve("raft"), result.committed());
    } catch (LogVerifier.DamagedLogException e) {
      throw new IllegalStateException("node " + config.name() + " must not start: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the Raft log in " + config.dataDir().resolve("raft") + ": " + e, e);
    }
  }

  /**
   * Atomix created the first segment of a new log when the server was built, sparse; nothing has
   * been appended to it yet, so its space is allocated now ({@link SegmentSpace}).
   */
  private void backFirstSegment() {
    if (!noSegmentAtStart) {
      return;
    }
    Path first = config.dataDir().resolve("raft").resolve(GROUP + "-1.log");
    try {
      if (Files.isRegularFile(first)) {
        SegmentSpace.back(first, 64);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot allocate disk space for the Raft log in " + first.getParent() + ": "
          + e.getMessage(), e);
    }
  }

  private volatile CompletableFuture<Void> forcedCompaction = CompletableFuture.completedFuture(null);

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
    long bytes = segments.usedBytes();
    if (bytes > config.logLimitBytes()) {
      log.debug("{}: the log holds {} bytes, over {}: compacting now", config.name(), bytes, config.logLimitBytes());
      forcedCompaction = s.compact().exceptionally(e -> null);
    }
  }

  /** Every second: the next log segment, allocated before Atomix needs it (see {@link SegmentSpace}). */
  private void prepareNextSegment() {
    if (closed || diskLow.getAsBoolean()) {
      return;
    }
    try {
      segments.prepareNext(Files.getFileStore(config.dataDir()).getUsableSpace());
    } catch (IOException | RuntimeException e) {
      log.debug("{}: could not allocate the next log segment ahead (it will be allocated by Atomix, sparse)",
          config.name(), e);
    }
  }

  /**
   * Completes once the newest snapshot found at start has been restored into the replica: Atomix
   * installs it as the state machine catches up, and if it did not (it skips a snapshot whose
   * service it cannot read, with a log line) the replica would silently lack everything before it.
   */
  private CompletableFuture<Void> snapshotRestored() {
    long index = snapshotAtStart;
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
            + " without restoring the snapshot there; " + damageAdvice()));
      }
    }, 0, 5, TimeUnit.MILLISECONDS);
    done.whenComplete((v, e) -> poll.cancel(false));
    return done;
  }

  /** The replica cannot be trusted: refuse the start, or stop serving if already started. */
  private void storageFailed(String reason) {
    log.error("{}: {}", config.name(), reason);
    IllegalStateException e = new IllegalStateException("node " + config.name() + " must not serve: " + reason + "; "
        + damageAdvice());
    if (!refused.completeExceptionally(e) || started.isDone()) {
      markStopped(reason);
    }
  }

  private void saveClusterId(String id) {
    clusterId = id;
    Path idFile = config.dataDir().resolve(CLUSTER_ID_FILE);
    try {
      Path tmp = idFile.resolveSibling(CLUSTER_ID_FILE + ".tmp");
      Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, idFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write " + idFile + ": " + e.getMessage(), e);
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
    cluster = AtomixCluster.builder()
        .withClusterId(GROUP)
        .withMemberId(self)
        .withAddress(hostPort[0], Integer.parseInt(hostPort[1]))
        .withMessagingInterface(listenHost())
        .withMembershipProvider(BootstrapDiscoveryProvider.builder().withNodes(nodes).build())
        .build();
    return cluster.start().thenRun(() -> {
      peers = new PeerProtocol(cluster.getMessagingService(), Duration.ofMillis(500));
      peers.serveStatus(this::status);
      peers.serveRemove(this::removeHere);
      peers.serveRemoved(this::removalNotice);
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
    RaftServer s = RaftServer.builder(self)
        .withName(GROUP)
        .withMembershipService(cluster.getMembershipService())
        .withProtocol(serverProtocol)
        .withPrimitiveTypes(type)
        .withHeartbeatInterval(config.heartbeatInterval()) // first: Atomix checks election > heartbeat on each call
        .withElectionTimeout(config.electionTimeout())
        .withSessionTimeout(config.sessionTimeout())
        .withStorage(RaftStorage.builder()
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
            .withNamespace(RaftNamespaces.RAFT_STORAGE)
            .build())
        .build();
    s.addRoleChangeListener(this::roleChanged);
    try {
      io.atomix.protocols.raft.impl.RaftContext c = AtomixInternals.contextOf(s);
      context = c;
      serverMessaging.flushBeforeAcknowledging(() -> c.getLogWriter().flush(), c.getThreadContext());
    } catch (ReflectiveOperationException e) {
      log.warn("cannot read Atomix's server state: followers learn commits only with the heartbeat, and acknowledge"
          + " appends before flushing them", e);
    }
    server = s;
  }

  /** The members of the configuration stored in the data directory; empty for a new member. */
  private List<String> storedMembers() {
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

  /**
   * Asks the peers (and the stored configuration's members) which cluster they are in, every
   * 100 ms, until {@link MembershipPlan} decides. A restart is decided at once; the answers that
   * keep arriving while it starts can still refuse it (removed, another cluster).
   */
  private CompletableFuture<Decision> plan() {
    List<String> stored = storedMembers();
    long storedIndex = stored.isEmpty() ? -1 : AtomixInternals.configurationIndex(server);
    MembershipPlan.Local local = new MembershipPlan.Local(self.id(), config.name(), config.peers(), stored,
        storedIndex, clusterId);
    Set<String> targets = new LinkedHashSet<>(config.peers());
    targets.addAll(stored);
    targets.remove(self.id());
    Map<String, PeerStatus> answers = new ConcurrentHashMap<>();
    CompletableFuture<Decision> decision = new CompletableFuture<>();
    Decision first = MembershipPlan.decide(local, List.of());
    if (!(first instanceof MembershipPlan.Wait)) {
      decision.complete(first);
      if (targets.isEmpty() || !local.configured()) {
        return decision;
      }
    } else {
      currentStep = ((MembershipPlan.Wait) first).reason();
    }
    ScheduledFuture<?> asking = timer.scheduleWithFixedDelay(() -> {
      for (String peer : targets) {
        peers.status(peer).whenComplete((status, error) -> {
          if (status == null || closed) {
            return;
          }
          answers.put(peer, status);
          Decision now = MembershipPlan.decide(local, answers.values());
          if (now instanceof MembershipPlan.Refuse refuse) {
            IllegalStateException e = new IllegalStateException("node " + config.name() + " must not start: " + refuse.message());
            decision.completeExceptionally(e);
            refused.completeExceptionally(e);
          } else if (now instanceof MembershipPlan.Wait wait) {
            if (!decision.isDone()) {
              currentStep = wait.reason();
            }
          } else {
            decision.complete(now);
          }
        });
      }
    }, 0, 100, TimeUnit.MILLISECONDS);
    // A restart keeps listening to the answers until it has started (or failed).
    (local.configured() ? started : decision).whenComplete((v, e) -> asking.cancel(false));
    return decision;
  }

  private CompletableFuture<Void> enter(Decision decision) {
    RaftServer s = server;
    CompletableFuture<RaftServer> joined;
    List<String> members;
    if (decision instanceof MembershipPlan.Refuse refuse) {
      throw new IllegalStateException(refuse.message());
    } else if (decision instanceof MembershipPlan.Restart restart) {
      members = storedMembers();
      if (restart.clusterId() == null) {
        saveClusterId(MembershipPlan.staticClusterId(members.stream().sorted().toList()));
      }
      joined = s.bootstrap(ids(members)); // the stored configuration wins over the list
    } else if (decision instanceof MembershipPlan.Bootstrap bootstrap) {
      members = bootstrap.members();
      saveClusterId(bootstrap.clusterId());
      joined = s.bootstrap(ids(members));
    } else {
      MembershipPlan.Join join = (MembershipPlan.Join) decision;
      saveClusterId(join.clusterId());
      log.info("{}: joining the cluster of {} through {}", config.name(), join.members(), join.via());
      joined = s.join(ids(join.members()));
      serverMessaging.configured(); // join(..) has configured the server synchronously
      decided = true;
      return joined.thenApply(v -> null);
    }
    serverMessaging.configured(); // bootstrap(..) has configured the server synchronously
    decided = true;
    if (members.size() == 1 && members.get(0).equals(self.id())) {
      s.promote().exceptionally(e -> null); // alone: no need to wait out an election timeout
    } else {
      greetLeader(joined, members);
    }
    return leaderKnown(joined);
  }

  private static List<MemberId> ids(List<String> members) {
    return members.stream().map(MemberId::from).toList();
  }

  /** What this member tells a peer that asks which cluster it is in. */
  private PeerStatus status() {
    RaftServer s = server;
    Map<String, String> names;
    try {
      names = registeredNames.get();
    } catch (RuntimeException e) {
      names = Map.of();
    }
    if (!decided || s == null) {
      List<String> intended = new ArrayList<>(config.peers());
      intended.add(self.id());
      return new PeerStatus(self.id(), config.name(), false, null, List.of(), -1, null, config.maxClusterSize(), names,
          intended);
    }
    List<String> members = new ArrayList<>();
    for (RaftMember m : s.cluster().getMembers()) {
      if (m.getType() != RaftMember.Type.INACTIVE) {
        members.add(m.memberId().id());
      }
    }
    return new PeerStatus(self.id(), config.name(), true, clusterId, members, AtomixInternals.configurationIndex(s),
        leader().orElse(null), config.maxClusterSize(), names, List.of());
  }

  /**
   * Completes when this member knows a leader, or when Atomix's bootstrap completes, whichever
   * is first. Atomix completes a member's bootstrap only once its join request succeeds, and a
   * request sent before any leader existed is retried only after two election timeouts. Nothing
   * later needs that join: the client talks to the leader, and readiness still waits for the
   * replica to apply this member's registration. A bootstrap that fails after that is logged.
   */
  private CompletableFuture<Void> leaderKnown(CompletableFuture<RaftServer> joined) {
    CompletableFuture<Void> known = new CompletableFuture<>();
    java.util.function.Consumer<RaftMember> listener = leader -> known.complete(null);
    RaftServer s = this.server;
    s.cluster().addLeaderElectionListener(listener);
    if (s.cluster().getLeader() != null) {
      known.complete(null);
    }
    joined.whenComplete((v, error) -> {
      if (error == null) {
        known.complete(null);
      } else if (!known.completeExceptionally(error) && !closed) {
        log.warn("{}: Raft bootstrap failed after a leader was known: {}", config.name(), error.toString());
      }
    });
    known.whenComplete((v, e) -> s.cluster().removeLeaderElectionListener(listener));
    return known;
  }

  /**
   * Polls the other members every 100 ms, with term 0 and an empty log, until this member has
   * joined. Every member refuses such a poll without side effects, but the answers say something,
   * and the leader acts on the poll:
   *
   * <ul>
   *   <li><b>A restarting member catches up at once</b>, not after its own election timer: on any
   *       poll, Atomix's leader resets its failure count for the sender and resumes replicating to
   *       it (it backs off, up to 60 s between attempts, from a member that stopped answering).
   *   <li><b>A fresh cluster elects without waiting for a timer.</b> When every answer so far
   *       carries term 0 (no election has ever happened) and a majority (this member included)
   *       is up, the member with the smallest peer address stands for election right away
   *       ({@link RaftServer#promote()}). Any other member, or the normal timers, still elect a
   *       leader if it fails; a term above 0 in any answer means an existing cluster.
   * </ul>
   */
  private void greetLeader(CompletableFuture<RaftServer> joined, List<String> memberList) {
    List<MemberId> members = ids(memberList);
    io.atomix.protocols.raft.protocol.PollRequest hello = io.atomix.protocols.raft.protocol.PollRequest.builder()
        .withTerm(0).withCandidate(self).withLastLogIndex(0).withLastLogTerm(0).build();
    boolean designated = members.stream().min(java.util.Comparator.comparing(MemberId::id)).orElseThrow().equals(self);
    Set<MemberId> freshPeers = ConcurrentHashMap.newKeySet();
    AtomicBoolean existingCluster = new AtomicBoolean();
    AtomicBoolean promoted = new AtomicBoolean();
    try {
      for (int i = 0; i < 30; i++) {
        timer.schedule(() -> {
          if (joined.isDone() || closed) {
            return;
          }
          for (MemberId member : members) {
            if (member.equals(self)) {
              continue;
            }
            serverProtocol.poll(member, hello).whenComplete((response, error) -> {
              if (response == null || response.status() != RaftResponse.Status.OK) {
                return;
              }
              if (response.term() > 0) {
                existingCluster.set(true);
                return;
              }
              freshPeers.add(member);
              RaftServer s = server;
              if (designated && !existingCluster.get() && freshPeers.size() + 1 > members.size() / 2
                  && s != null && term() == 0 && role == RaftServer.Role.FOLLOWER && s.cluster().getLeader() == null
                  && !joined.isDone() && !closed && promoted.compareAndSet(false, true)) {
                log.debug("{}: a fresh cluster and a majority up: standing for election now", config.name());
                s.promote().exceptionally(e -> null);
              }
            });
          }
        }, i * 100L, TimeUnit.MILLISECONDS);
      }
    } catch (RejectedExecutionException closedMeanwhile) {
      // the node is being closed
    }
  }

  private CompletableFuture<Void> connectClient() {
    client = RaftClient.builder()
        .withClientId(config.name())
        .withPartitionId(PartitionId.from(GROUP, 1))
        .withMemberId(self)
        // A command's reply waits for its commit (fsync, replication), which may take longer
        // under load; a dead leader is still noticed at once through the closed connection.
        .withProtocol(clientProtocol = new RaftClientCommunicator(GROUP, Protocol.SERIALIZER, new ClientMessaging(
            new AddressRouting(cluster.getCommunicationService(), cluster.getMessagingService()),
            config.requestTimeout().multipliedBy(3), self, this::isLeader)))
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

  private CompletableFuture<SessionClient> openSession() {
    return client.sessionBuilder(GROUP, type, new ServiceConfig())
        .withMinTimeout(config.sessionTimeout())
        .build()
        .connect();
  }

  // ------------------------------------------------------------------------------------ removal

  @Override
  public CompletableFuture<Void> remove(String peer) {
    if (!members().contains(peer)) {
      return CompletableFuture.failedFuture(new IllegalArgumentException(peer + " is not a member of the cluster " + members()));
    }
    if (isLeader()) {
      return removeHere(peer).thenApply(error -> {
        if (error != null) {
          throw new CompletionException(new IllegalStateException(error));
        }
        return null;
      });
    }
    Optional<String> leader = leader();
    if (leader.isEmpty()) {
      return CompletableFuture.failedFuture(new IllegalStateException("no leader"));
    }
    return peers.remove(leader.get(), peer, config.commitTimeout());
  }

  /**
   * Removes {@code peer} here, on the leader; completes with null, or with the reason it was not
   * removed. Refuses what would leave the cluster without a majority of members that answer.
   */
  private CompletableFuture<String> removeHere(String peer) {
    RaftServer s = server;
    if (s == null || !isLeader()) {
      return CompletableFuture.completedFuture("not the leader");
    }
    List<String> members = members();
    if (!members.contains(peer)) {
      return CompletableFuture.completedFuture(peer + " is not a member of the cluster " + members);
    }
    if (members.size() == 1) {
      return CompletableFuture.completedFuture("cannot remove the last member of the cluster");
    }
    List<String> remaining = new ArrayList<>(members);
    remaining.remove(peer);
    return answering(remaining).thenCompose(alive -> {
      if (alive.size() < remaining.size() / 2 + 1) {
        return CompletableFuture.completedFuture("removing " + peer + " would leave " + remaining + ", of which only "
            + alive + " answer: not a majority; bring members back first");
      }
      if (peer.equals(self.id())) {
        return leaveSelf();
      }
      LeaveRequest request = LeaveRequest.builder()
          .withMember(new DefaultRaftMember(MemberId.from(peer), RaftMember.Type.ACTIVE, Instant.now()))
          .build();
      return serverProtocol.leave(self, request).thenApply(response -> {
        if (response.status() != RaftResponse.Status.OK) {
          return "the leader could not change the configuration now" + (response.error() == null ? "" : ": " + response.error());
        }
        log.info("{}: removed member {} from the cluster; members now {}", config.name(), peer, members());
        peers.notifyRemoved(peer, self.id()).exceptionally(e -> null);
        return null;
      });
    });
  }

  /** The members among {@code members} that answer a status request now (this member always does). */
  private CompletableFuture<List<String>> answering(List<String> members) {
    List<CompletableFuture<String>> asks = new ArrayList<>();
    for (String m : members) {
      asks.add(m.equals(self.id()) ? CompletableFuture.completedFuture(m)
          : peers.status(m).handle((status, error) -> status == null ? null : m));
    }
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
        .thenApply(v -> asks.stream().map(CompletableFuture::join).filter(java.util.Objects::nonNull).toList());
  }

  /** This member leaves the configuration (through the leader, which may be itself) and stops serving. */
  private CompletableFuture<String> leaveSelf() {
    return server.cluster().leave().thenApply(v -> {
      markStopped("removed from the cluster at its own request");
      return (String) null;
    });
  }

  /**
   * Another member says this one was removed. Believed only when a member's configuration, newer
   * than ours, really lacks this member (anyone who reaches the peer port could send the notice).
   */
  private void removalNotice(String sender) {
    if (removedFromOwnConfiguration()) {
      markStopped("removed from the cluster (its configuration no longer lists this member)");
      return;
    }
    peers.status(sender).whenComplete((status, error) -> {
      RaftServer s = server;
      if (status != null && s != null && status.member() && !status.members().contains(self.id())
          && (clusterId == null || clusterId.equals(status.clusterId()))
          && status.configIndex() >= AtomixInternals.configurationIndex(s)) {
        markStopped("removed from the cluster (told by " + sender + ", whose members are " + status.members() + ")");
      }
    });
  }

  /**
   * Whether this member has a configuration that no longer lists it: it received the entry that
   * removed it (the leader may replicate it once before it stops replicating to the member).
   */
  private boolean removedFromOwnConfiguration() {
    RaftServer s = server;
    return s != null && serving && !s.cluster().getMembers().isEmpty() && !storedMembers().contains(self.id());
  }

  /**
   * Every 2 s while no leader is known: a member cut off while it was removed is never told (the
   * leader stops replicating to it); it finds out from its own configuration or by asking the
   * members it knows.
   */
  private void checkStillMember() {
    RaftServer s = server;
    if (closed || s == null || stopped.isDone()) {
      return;
    }
    if (removedFromOwnConfiguration()) {
      markStopped("removed from the cluster (its configuration no longer lists this member)");
      return;
    }
    if (leader().isPresent()) {
      return;
    }
    for (String m : storedMembers()) {
      if (!m.equals(self.id())) {
        removalNotice(m);
      }
    }
  }

  private void markStopped(String reason) {
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

  /** The Atomix server, for tests that inspect its state; null before start and after close. */
  RaftServer raftServer() {
    return server;
  }

  private long term() {
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
    try {
      running = action.get();
    } catch (RuntimeException e) {
      running = CompletableFuture.failedFuture(e);
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
    closed = true;
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
    quietly(cluster == null ? null : cluster.stop(), 5);
    CommittedIndex mark = committedIndex;
    committedIndex = null;
    if (mark != null) {
      try {
        if (committedAtClose > 0) {
          mark.applied(committedAtClose); // the shutdown flushed the log: everything up to it is on disk
        }
        mark.close();
      } catch (IOException e) {
        log.debug("closing the committed index failed", e);
      }
    }
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
