package org.etcdjvm.embedded.internal.raft;

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
import io.atomix.protocols.raft.partition.impl.RaftClientCommunicator;
import io.atomix.protocols.raft.partition.impl.RaftNamespaces;
import io.atomix.protocols.raft.partition.impl.RaftServerCommunicator;
import io.atomix.protocols.raft.protocol.MetadataRequest;
import io.atomix.protocols.raft.protocol.PollRequest;
import io.atomix.protocols.raft.protocol.RaftResponse;
import io.atomix.protocols.raft.storage.RaftStorage;
import io.atomix.storage.StorageLevel;
import io.atomix.utils.serializer.Serializer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
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
import org.etcdjvm.embedded.internal.store.Action;
import org.etcdjvm.embedded.internal.store.EtcdStore;
import org.etcdjvm.embedded.internal.store.Event;
import org.etcdjvm.embedded.internal.store.GetResult;
import org.etcdjvm.embedded.internal.store.SetOp;
import org.etcdjvm.embedded.internal.store.StoreException;
import org.etcdjvm.embedded.internal.store.StoreLimits;
import org.etcdjvm.embedded.internal.store.WriteOp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member of the Raft group that replicates the etcd store, driven through Atomix's low-level
 * API: {@link AtomixCluster} for membership and messaging, a {@link RaftServer} that holds this
 * member's log and replica, and a {@link RaftClient} whose sessions carry this member's writes.
 *
 * <p>Members are identified by their peer address ({@code host:port}), which is what etcd's
 * {@code -C} flag gives; names and client URLs are learned from {@code /_etcd/machines/<name>},
 * which every member writes when it starts.
 *
 * <p>Thread-safe. {@link #start} once, {@link #close} once.
 */
public final class RaftNode implements Replica, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RaftNode.class);
  private static final String GROUP = "etcd";
  private static final String MACHINES = "/_etcd/machines";

  /**
   * Atomix's Raft serializer, built on first use: its class initialization fails without the
   * {@code --add-opens} flags, and building a node must not (start() reports the flags instead).
   */
  private static final class Protocol {
    static final Serializer SERIALIZER = Serializer.using(RaftNamespaces.RAFT_PROTOCOL);
  }

  private final RaftConfig config;
  private final EtcdStore store;
  private final EtcdPrimitiveType type;
  private final MemberId self;
  private final List<MemberId> members;
  private final Instant startTime = Instant.now();
  private volatile String clientUrl;
  private volatile boolean closed;

  private AtomixCluster cluster;
  private ServerMessaging serverMessaging;
  private RaftServerCommunicator serverProtocol;
  private volatile RaftServer server;
  private volatile RaftClientCommunicator clientProtocol;
  private volatile RaftServer.Role role = RaftServer.Role.INACTIVE;
  private RaftClient client;
  private final List<SessionClient> sessions = new ArrayList<>();
  private volatile WriteBatcher batcher;
  private volatile ScheduledExecutorService ticker;
  private ScheduledFuture<?> tickTask;
  private volatile Map<String, MemberInfo> registry = Map.of();
  private volatile long registryIndex = -1;

  public RaftNode(RaftConfig config) {
    this.config = config;
    this.store = new EtcdStore(config.limits());
    this.type = new EtcdPrimitiveType(store);
    this.self = MemberId.from(config.peerAddress());
    Set<MemberId> all = new LinkedHashSet<>();
    all.add(self);
    for (String peer : config.peers()) {
      all.add(MemberId.from(peer));
    }
    this.members = List.copyOf(all);
  }

  /**
   * Does, on a thread of its own, the slow one-time initialisation the Raft server needs, so that it
   * overlaps with starting HTTP and peer messaging: Atomix's Raft serializers (about 600 classes
   * registered with Kryo) and the JVM's platform MBean server (Atomix's {@code RaftStorage} asks for
   * it; creating it registers every platform MXBean, about a second of CPU on a cold JVM). Needs the
   * {@code --add-opens} flags; call only once they are known to be present. Idempotent and cheap
   * once done.
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

  private static final java.util.concurrent.atomic.AtomicBoolean PREWARMED = new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Starts messaging, the Raft server and client, opens the write sessions, and registers this
   * member under {@code /_etcd/machines/<name>}. Completes when that registration is committed and
   * applied here, i.e. when this member can serve reads and writes.
   */
  public CompletableFuture<Void> start(String clientUrl) {
    this.clientUrl = clientUrl;
    ticker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "etcd-raft-timer-" + config.name());
      t.setDaemon(true);
      return t;
    });
    return step("the data directory " + config.dataDir(), () -> {
          prepareDataDir();
          checkPeerAddressFree();
          return CompletableFuture.completedFuture(null);
        })
        .thenCompose(v -> step("peer messaging on " + config.peerAddress(), this::startMessaging))
        .thenCompose(v -> step("the Raft log in " + config.dataDir().resolve("raft"), () -> {
          // Between servers (append, vote, heartbeat) a short timeout detects a dead peer quickly.
          serverMessaging = new ServerMessaging(cluster.getCommunicationService(), config.requestTimeout(), GROUP,
              electionTimeout(), this::term,
              () -> role == RaftServer.Role.FOLLOWER);
          serverProtocol = new RaftServerCommunicator(GROUP, Protocol.SERIALIZER, serverMessaging);
          server = buildServer(serverProtocol);
          server.addRoleChangeListener(this::roleChanged);
          server.cluster().addLeaderElectionListener(m -> log.debug("{}: leader elected: {}", config.name(), m.memberId()));
          return CompletableFuture.completedFuture(null);
        }))
        .thenCompose(v -> step("a Raft leader among " + members, () -> {
          CompletableFuture<RaftServer> joined = server.bootstrap(members);
          serverMessaging.bootstrapped(); // bootstrap(..) has configured the server synchronously
          greetLeader(joined);
          return leaderKnown(joined);
        }))
        .thenCompose(v -> step("a Raft client connection", () -> {
          client = RaftClient.builder()
              .withClientId(config.name())
              .withPartitionId(PartitionId.from(GROUP, 1))
              .withMemberId(self)
              // A command's reply waits for its commit (fsync, replication), which may take longer
              // under load; a dead leader is still noticed at once through the closed connection.
              .withProtocol(clientProtocol = new RaftClientCommunicator(GROUP, Protocol.SERIALIZER, new ClientMessaging(
                  cluster.getCommunicationService(), config.requestTimeout().multipliedBy(3), self, this::isLeader)))
              .build();
          return client.connect(members);
        }))
        .thenCompose(v -> step("the leader to serve clients", this::leaderServing))
        .thenCompose(v -> step("Raft sessions to open", this::openSessions))
        .thenCompose(v -> step("the registration of this member to commit", () -> {
          batcher = new WriteBatcher(sessions, this::openSession, config.maxBatchOps(), maxEntryBytes() / 3 - 4096,
              config.commitTimeout().toMillis());
          startTicker();
          return register();
        }))
        .thenCompose(index -> step("the local replica to catch up to index " + index, () -> awaitApplied(index)))
        .thenCompose(v -> step("the leader's client URL (its registration in /_etcd/machines)", this::awaitLeaderUrl))
        .thenRun(() -> currentStep = "nothing (started)");
  }

  /**
   * Completes when this member knows a leader, or when Atomix's bootstrap completes, whichever
   * is first. Atomix completes a member's bootstrap only once its join request succeeds, and a
   * request sent before any leader existed is retried only after two election timeouts (about 1 s
   * of idling in every cold cluster start). Nothing later needs that join: the client talks to the
   * leader, and readiness still waits for this replica to apply the registration. A bootstrap that
   * fails after that is logged.
   */
  private CompletableFuture<Void> leaderKnown(CompletableFuture<RaftServer> joined) {
    CompletableFuture<Void> known = new CompletableFuture<>();
    java.util.function.Consumer<RaftMember> listener = leader -> known.complete(null);
    RaftServer server = this.server;
    server.cluster().addLeaderElectionListener(listener);
    if (server.cluster().getLeader() != null) {
      known.complete(null);
    }
    joined.whenComplete((s, error) -> {
      if (error == null) {
        known.complete(null);
      } else if (!known.completeExceptionally(error) && !closed) {
        log.warn("{}: Raft bootstrap failed after a leader was known: {}", config.name(), error.toString());
      }
    });
    known.whenComplete((v, e) -> server.cluster().removeLeaderElectionListener(listener));
    return known;
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
  }

  /**
   * Atomix leaks its messaging threads when it fails to bind, so a taken peer port is caught here
   * first, with a message that names it.
   */
  private void checkPeerAddressFree() {
    String[] hostPort = splitHostPort(config.peerAddress());
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])));
    } catch (IOException e) {
      throw new IllegalStateException("cannot listen for Raft peers on " + config.peerAddress() + ": " + e.getMessage(), e);
    }
  }

  private CompletableFuture<Void> startMessaging() {
    List<Node> nodes = new ArrayList<>();
    for (MemberId member : members) {
      nodes.add(Node.builder().withId(member.id()).withAddress(member.id()).build());
    }
    String[] hostPort = splitHostPort(config.peerAddress());
    cluster = AtomixCluster.builder()
        .withClusterId(GROUP)
        .withMemberId(self)
        .withAddress(hostPort[0], Integer.parseInt(hostPort[1]))
        .withMessagingInterface(hostPort[0])
        .withMembershipProvider(BootstrapDiscoveryProvider.builder().withNodes(nodes).build())
        .build();
    return cluster.start();
  }

  private Duration electionTimeout() {
    return config.electionTimeout() != null ? config.electionTimeout()
        : members.size() == 1 ? Duration.ofMillis(100) : Duration.ofMillis(500);
  }

  private RaftServer buildServer(RaftServerCommunicator protocol) {
    Duration election = electionTimeout();
    Duration heartbeat = config.heartbeatInterval() != null ? config.heartbeatInterval()
        : members.size() == 1 ? Duration.ofMillis(50) : Duration.ofMillis(100);
    return RaftServer.builder(self)
        .withName(GROUP)
        .withMembershipService(cluster.getMembershipService())
        .withProtocol(protocol)
        .withPrimitiveTypes(type)
        .withHeartbeatInterval(heartbeat) // first: Atomix checks election > heartbeat on each call
        .withElectionTimeout(election)
        .withSessionTimeout(config.sessionTimeout())
        .withStorage(RaftStorage.builder()
            .withPrefix(GROUP)
            .withDirectory(config.dataDir().resolve("raft").toFile())
            // MAPPED, not DISK: Atomix's file-channel reader re-reads 2 x maxEntrySize bytes from the
            // segment every time the state machine catches up with the log tail (~30x slower
            // writes). Mapped segments are still forced to disk on every commit (flushOnCommit).
            .withStorageLevel(StorageLevel.MAPPED)
            .withFlushOnCommit(true)
            .withMaxSegmentSize(config.segmentBytes())
            .withMaxEntrySize(maxEntryBytes())
            .withNamespace(RaftNamespaces.RAFT_STORAGE)
            .build())
        .build();
  }

  /**
   * Largest Raft entry (one batch): room for the largest single write (key, value and a
   * test-and-set's previous value at their limits) plus 64 KiB, at least 1 MiB, and at most half a
   * log segment (Atomix needs it to fit). Not larger: Atomix gives every log segment reader and
   * writer a heap buffer of twice this size (16 MB each at the former fixed 8 MiB; a start
   * allocated ~80 MB).
   */
  private int maxEntryBytes() {
    StoreLimits limits = config.limits();
    long single = 2L * limits.maxValueBytes() + limits.maxKeyBytes() + 64 * 1024;
    return (int) Math.min(Math.max(single, 1024 * 1024), config.segmentBytes() / 2);
  }

  private CompletableFuture<SessionClient> openSession() {
    return client.sessionBuilder(GROUP, type, new ServiceConfig())
        .withMinTimeout(config.sessionTimeout())
        .build()
        .connect();
  }

  /**
   * Completes once the leader answers client requests. A new leader refuses them until it has
   * committed and applied its first entry of the term, and a session open refused by every member
   * is retried by Atomix only a second later. A metadata request (read-only, not logged) every
   * 20 ms finds the moment; any failure just means "not yet".
   */
  private CompletableFuture<Void> leaderServing() {
    CompletableFuture<Void> serving = new CompletableFuture<>();
    java.util.concurrent.atomic.AtomicBoolean asking = new java.util.concurrent.atomic.AtomicBoolean();
    RaftServer server = this.server;
    RaftClientCommunicator clientProtocol = this.clientProtocol;
    ScheduledFuture<?> poll = ticker.scheduleWithFixedDelay(() -> {
      RaftMember leader = server.cluster().getLeader();
      if (closed || leader == null || serving.isDone() || !asking.compareAndSet(false, true)) {
        return;
      }
      clientProtocol.metadata(leader.memberId(), new MetadataRequest(0)).whenComplete((response, error) -> {
        asking.set(false);
        if (response != null && response.status() == RaftResponse.Status.OK) {
          serving.complete(null);
        }
      });
    }, 0, 20, TimeUnit.MILLISECONDS);
    serving.whenComplete((v, e) -> poll.cancel(false));
    return serving;
  }

  private CompletableFuture<Void> openSessions() {
    List<CompletableFuture<SessionClient>> opening = new ArrayList<>();
    for (int i = 0; i < config.sessions(); i++) {
      opening.add(openSession());
    }
    return CompletableFuture.allOf(opening.toArray(CompletableFuture[]::new))
        .thenRun(() -> opening.forEach(f -> sessions.add(f.join())));
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
   *       ({@link RaftServer#promote()}) instead of after its heartbeat timeout (one to two election
   *       timeouts, and again if a peer was not up yet). Any other member, or the normal timers,
   *       still elect a leader if it fails; a term above 0 in any answer means an existing cluster
   *       and nothing is done.
   * </ul>
   */
  private void greetLeader(CompletableFuture<RaftServer> joined) {
    if (members.size() == 1) {
      return;
    }
    PollRequest hello = PollRequest.builder()
        .withTerm(0).withCandidate(self).withLastLogIndex(0).withLastLogTerm(0).build();
    boolean designated = members.stream().min(java.util.Comparator.comparing(MemberId::id)).orElseThrow().equals(self);
    Set<MemberId> freshPeers = java.util.concurrent.ConcurrentHashMap.newKeySet();
    java.util.concurrent.atomic.AtomicBoolean existingCluster = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicBoolean promoted = new java.util.concurrent.atomic.AtomicBoolean();
    try {
      for (int i = 0; i < 30; i++) {
        ticker.schedule(() -> {
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
    } catch (java.util.concurrent.RejectedExecutionException closedMeanwhile) {
      // the node is being closed
    }
  }

  /**
   * Writes {@code /_etcd/machines/<name>}; completes with the index of that write. A write whose
   * outcome is unknown (commit timeout while the group is still settling, a leader change) is sent
   * again (the same value, so a duplicate is harmless) until it succeeds or the node is closed;
   * EtcdNode's start timeout bounds the whole.
   */
  private CompletableFuture<Long> register() {
    CompletableFuture<Long> registered = new CompletableFuture<>();
    attemptRegistration(registered, 1);
    return registered;
  }

  private void attemptRegistration(CompletableFuture<Long> registered, int attempt) {
    String value = "raft=" + peerUrl(self) + "&etcd=" + clientUrl + "&raftVersion=v0.1.2";
    batcher.submit(new SetOp(MACHINES + "/" + config.name(), value, null, null, true)).whenComplete((event, error) -> {
      if (error == null) {
        log.debug("registered {} at index {} (attempt {})", config.name(), event.index(), attempt);
        registered.complete(event.index());
        return;
      }
      Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
      if (cause instanceof StoreException || closed) {
        registered.completeExceptionally(cause);
        return;
      }
      log.debug("registration attempt {} of {} failed, retrying: {}", attempt, config.name(), cause.toString());
      try {
        ticker.schedule(() -> attemptRegistration(registered, attempt + 1), 100, TimeUnit.MILLISECONDS);
      } catch (RuntimeException rejected) { // closed meanwhile
        registered.completeExceptionally(cause);
      }
    });
  }

  /**
   * Completes once the local replica has applied the log up to {@code index}. The registration is
   * acknowledged when the leader has applied it; a follower's own replica may still be behind (a
   * restarted member replaying its log, or one receiving a snapshot), and "ready" means it serves
   * reads at least that fresh.
   */
  private CompletableFuture<Void> awaitApplied(long index) {
    return pollUntil(() -> store.index() >= index);
  }


  /**
   * Ready means writes can be answered: a follower that has not yet applied the leader's own
   * registration would know the leader but not where to redirect (error 300 instead of a 307).
   */
  private CompletableFuture<Void> awaitLeaderUrl() {
    return pollUntil(() -> leader().map(MemberInfo::clientUrl).isPresent());
  }

  /** Completes once {@code condition} holds, checked now and then every 2 ms on the ticker. */
  private CompletableFuture<Void> pollUntil(java.util.function.BooleanSupplier condition) {
    CompletableFuture<Void> met = new CompletableFuture<>();
    if (condition.getAsBoolean()) {
      met.complete(null);
      return met;
    }
    ScheduledFuture<?> poll = ticker.scheduleWithFixedDelay(() -> {
      if (condition.getAsBoolean()) {
        met.complete(null);
      }
    }, 2, 2, TimeUnit.MILLISECONDS);
    met.whenComplete((v, e) -> poll.cancel(false));
    return met;
  }


  private long term() {
    RaftServer s = server;
    return s == null ? 0 : s.cluster().getTerm();
  }

  /**
   * Role changes, as Atomix's server reports them (on its Raft thread). The leader view below is
   * read from this and from the server's own state, never from a client-side guess.
   */
  private void roleChanged(RaftServer.Role newRole) {
    role = newRole;
    log.debug("{} is now {}", config.name(), newRole);
  }

  /** The leader appends an empty command when a TTL is due, so expiry is prompt on an idle cluster. */
  private void startTicker() {
    long period = config.tickInterval().toMillis();
    tickTask = ticker.scheduleWithFixedDelay(() -> {
      try {
        if (isLeader()) {
          Optional<Instant> next = store.nextExpiration();
          if (next.isPresent() && !next.get().isAfter(Instant.now())) {
            batcher.tick();
          }
        }
      } catch (RuntimeException e) {
        log.debug("tick failed", e);
      }
    }, period, period, TimeUnit.MILLISECONDS);
  }

  @Override
  public CompletableFuture<Event> submit(WriteOp op) {
    WriteBatcher b = batcher;
    if (b == null) {
      return CompletableFuture.failedFuture(new NotLeaderException(leader().orElse(null)));
    }
    return b.submit(op);
  }

  @Override
  public String name() {
    return config.name();
  }

  @Override
  public MemberInfo self() {
    return new MemberInfo(config.name(), peerUrl(self), clientUrl);
  }

  @Override
  public EtcdStore store() {
    return store;
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
   * The leader as this member's Raft server knows it right now: set when an append or vote from a
   * leader of the current term arrives, cleared when a follower's heartbeat timer runs out (one to
   * two election timeouts after the leader went silent) or a newer term begins. A view naming this
   * member while it is not in the LEADER role (a step-down in progress) counts as "no leader".
   */
  @Override
  public Optional<MemberInfo> leader() {
    RaftServer s = server;
    if (s == null) {
      return Optional.empty();
    }
    RaftMember leader = s.cluster().getLeader();
    if (leader == null || (leader.memberId().equals(self) && !isLeader())) {
      return Optional.empty();
    }
    return Optional.of(info(leader.memberId()));
  }

  @Override
  public List<MemberInfo> members() {
    List<MemberInfo> result = new ArrayList<>(members.size());
    for (MemberId member : members) {
      result.add(info(member));
    }
    return result;
  }

  @Override
  public Instant startTime() {
    return startTime;
  }

  private MemberInfo info(MemberId member) {
    if (member.equals(self)) {
      return self();
    }
    MemberInfo known = registry().get(peerUrl(member));
    return known != null ? known : new MemberInfo(member.id(), peerUrl(member), null);
  }

  /** Peer URL → member, parsed from {@code /_etcd/machines}; re-read only when the store changed. */
  private Map<String, MemberInfo> registry() {
    long index = store.index();
    if (index == registryIndex) {
      return registry;
    }
    Map<String, MemberInfo> parsed = new HashMap<>();
    try {
      GetResult machines = store.get(MACHINES);
      if (machines.isDirectory()) {
        for (Event child : machines.children()) {
          if (child.action() == Action.GET && !child.dir() && child.value() != null) {
            String name = child.key().substring(MACHINES.length() + 1);
            Map<String, String> fields = parseForm(child.value());
            String raft = fields.get("raft");
            if (raft != null) {
              parsed.put(raft, new MemberInfo(name, raft, fields.get("etcd")));
            }
          }
        }
      }
    } catch (StoreException e) {
      // no registrations yet
    }
    registry = Map.copyOf(parsed);
    registryIndex = index;
    return registry;
  }

  private static Map<String, String> parseForm(String value) {
    Map<String, String> fields = new HashMap<>();
    for (String pair : value.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        fields.put(pair.substring(0, eq), pair.substring(eq + 1));
      }
    }
    return fields;
  }

  private static String peerUrl(MemberId member) {
    return "http://" + member.id();
  }

  static String[] splitHostPort(String address) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || colon == address.length() - 1) {
      throw new IllegalArgumentException("expected host:port, got " + address);
    }
    return new String[] {address.substring(0, colon), address.substring(colon + 1)};
  }

  /**
   * Runs one start step: records what the node now waits for (for a start-timeout message), and
   * turns any failure, synchronous or not, into one that names the step.
   */
  private <T> CompletableFuture<T> step(String waitingFor, java.util.function.Supplier<CompletableFuture<T>> action) {
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
        throw new CompletionException(new IllegalStateException(
            "node " + config.name() + " failed while waiting for " + waitingFor + ": " + cause.getMessage(), cause));
      }
      return value;
    });
  }

  private volatile String currentStep = "nothing (not started)";

  /** What the start sequence is waiting for right now (for a timeout message). */
  public String waitingFor() {
    return currentStep;
  }

  /**
   * Snapshots the store and drops the log segments the snapshot covers, now rather than on
   * Atomix's own schedule (every 10 s, once a segment is full).
   */
  public CompletableFuture<Void> compact() {
    RaftServer s = server;
    return s == null ? CompletableFuture.failedFuture(new IllegalStateException("node not started or closed"))
        : s.compact();
  }

  /** The Atomix server, for tests that inspect its state; null before start. */
  RaftServer raftServer() {
    return server;
  }

  /** Stops everything this node started, in reverse order; waits at most a few seconds in total. */
  @Override
  public void close() {
    closed = true;
    if (tickTask != null) {
      tickTask.cancel(false);
    }
    if (ticker != null) {
      ticker.shutdownNow();
    }
    if (batcher != null) {
      batcher.close();
    }
    quietly(client == null ? null : client.close(), 2);
    RaftServer s = server;
    if (s != null) {
      quietly(s.isRunning() ? s.shutdown() : stopUnstarted(s), 3);
    }
    quietly(cluster == null ? null : cluster.stop(), 5);
    // A closed node that the application still holds must not pin Atomix's log buffers (about
    // 16 MB per segment reader or writer; ~90 MB per node was seen).
    client = null;
    server = null;
    serverProtocol = null;
    serverMessaging = null;
    clientProtocol = null;
    cluster = null;
    batcher = null;
    sessions.clear();
  }

  /**
   * A server whose bootstrap never completed (no leader within the start timeout) keeps electing
   * and polling, and Atomix's {@code shutdown()} refuses it ("Server not running"). Its context is
   * stopped directly, the way {@code shutdown()} would have: the one reflective access in this
   * code base, on the failure path only.
   */
  /** Atomix's internal state of {@code server} (read by reflection; tests inspect it too). */
  static io.atomix.protocols.raft.impl.RaftContext contextOf(RaftServer server) throws ReflectiveOperationException {
    java.lang.reflect.Field field = io.atomix.protocols.raft.impl.DefaultRaftServer.class.getDeclaredField("context");
    field.setAccessible(true);
    return (io.atomix.protocols.raft.impl.RaftContext) field.get(server);
  }

  private static CompletableFuture<Void> stopUnstarted(RaftServer server) {
    CompletableFuture<Void> stopped = new CompletableFuture<>();
    try {
      io.atomix.protocols.raft.impl.RaftContext context = contextOf(server);
      context.getThreadContext().execute(() -> {
        try {
          context.transition(RaftServer.Role.INACTIVE);
        } finally {
          stopped.complete(null);
        }
      });
      return stopped.whenComplete((v, e) -> context.close());
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.debug("could not stop a Raft server that never started", e);
      return CompletableFuture.completedFuture(null);
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
