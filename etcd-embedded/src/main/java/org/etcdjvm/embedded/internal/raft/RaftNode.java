package org.etcdjvm.embedded.internal.raft;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.etcdjvm.embedded.internal.raft.atomix.AtomixRaftGroup;
import org.etcdjvm.embedded.internal.store.Action;
import org.etcdjvm.embedded.internal.store.DeleteOp;
import org.etcdjvm.embedded.internal.store.EtcdError;
import org.etcdjvm.embedded.internal.store.EtcdStore;
import org.etcdjvm.embedded.internal.store.Event;
import org.etcdjvm.embedded.internal.store.GetResult;
import org.etcdjvm.embedded.internal.store.SetOp;
import org.etcdjvm.embedded.internal.store.StoreException;
import org.etcdjvm.embedded.internal.store.WriteOp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's replica of the store, kept by a {@link RaftGroup}: writes are batched into Raft
 * commands ({@link WriteBatcher}), the leader appends a tick when a TTL is due, and every member
 * registers its name and URLs under {@code /_etcd/machines/<name>} (the member registry, from which
 * the HTTP layer learns names and client URLs).
 *
 * <p>Thread-safe. {@link #start} once, {@link #close} once.
 */
public final class RaftNode implements Replica, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RaftNode.class);
  static final String MACHINES = "/_etcd/machines";

  private final RaftConfig config;
  private final EtcdStore store;
  private final RaftGroup group;
  private final DiskSpace disk;
  private final LogClock clock = new LogClock();
  private final Instant startTime = Instant.now();
  private volatile String clientUrl;
  private volatile boolean closed;
  private volatile WriteBatcher batcher;
  private volatile ScheduledExecutorService ticker;
  private volatile Map<String, MemberInfo> registry = Map.of();
  private volatile long registryIndex = -1;
  private volatile String currentStep = "nothing (not started)";
  private volatile boolean ready;
  /** A {@link #registerAgainIfMissing} write is in flight. */
  private final java.util.concurrent.atomic.AtomicBoolean registeringAgain = new java.util.concurrent.atomic.AtomicBoolean();
  /** {@link #registerAgainIfMissing} found the registration gone and said so; it is not there yet. */
  private volatile boolean registrationMissing;

  /** A member of an Atomix Raft group. */
  public RaftNode(RaftConfig config) {
    this(config, (state, names, diskLow) -> new AtomixRaftGroup(config, state, names, diskLow));
  }

  /**
   * What builds the Raft group: given the state to replicate, the registered names (name → peer
   * address), and whether the data directory's disk is nearly full (then it takes no more entries).
   */
  public interface GroupFactory {
    RaftGroup create(ReplicatedState state, java.util.function.Supplier<Map<String, String>> registeredNames,
        BooleanSupplier diskLow);
  }

  /** A member of the group {@code factory} builds (tests use an in-memory group). */
  public RaftNode(RaftConfig config, GroupFactory factory) {
    this.config = config;
    this.store = new EtcdStore(config.limits(), clock.forReads());
    this.disk = new DiskSpace(config.dataDir(), config.diskFloorBytes());
    this.group = factory.create(new StoreStateMachine(store, clock), this::registeredNames, disk::low);
  }

  /** Starts the one-time initialisation of the Raft engine in the background; see {@link AtomixRaftGroup#prewarm}. */
  public static void prewarm() {
    AtomixRaftGroup.prewarm();
  }

  /**
   * Starts the Raft group, then registers this member under {@code /_etcd/machines/<name>}.
   * Completes when that registration is committed and applied here and the leader's client URL is
   * known, i.e. when this member can serve reads and writes.
   */
  public CompletableFuture<Void> start(String clientUrl) {
    this.clientUrl = clientUrl;
    ticker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "etcd-tick-" + config.name());
      t.setDaemon(true);
      return t;
    });
    disk.refresh();
    ticker.scheduleWithFixedDelay(disk::refresh, 100, 100, TimeUnit.MILLISECONDS);
    return group.start()
        .thenCompose(v -> step("the registration of this member to commit", () -> {
          batcher = new WriteBatcher(group::execute, clock, group::isLeader, config.maxBatchOps(), config.maxEntryBytes() / 3 - 4096,
              config.commitTimeout().toMillis());
          startTicker();
          return register();
        }))
        .thenCompose(index -> step("the local replica to catch up to index " + index, () -> awaitApplied(index)))
        .thenCompose(v -> step("the leader's client URL (its registration in /_etcd/machines)", this::awaitLeaderUrl))
        .thenRun(() -> {
          currentStep = "nothing (started)";
          clock.caughtUp();
          ready = true;
        });
  }

  @Override
  public boolean ready() {
    return ready;
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
    if (disk.low()) {
      currentStep = "the registration of this member to commit (" + disk.describe() + ")";
      ticker.schedule(() -> attemptRegistration(registered, attempt), 100, TimeUnit.MILLISECONDS);
      return;
    }
    batcher.submit(registration()).whenComplete((event, error) -> {
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
  private CompletableFuture<Void> pollUntil(BooleanSupplier condition) {
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

  /**
   * On the leader: appends an empty command when a TTL is due, so that expiry is prompt on an idle
   * cluster; and, about once a second, deletes the registrations of members no longer in the
   * configuration (removed ones). On every started member, about once a second: registers again
   * if its registration is gone while it is a member (see {@link #registerAgainIfMissing}).
   */
  private void startTicker() {
    long period = config.tickInterval().toMillis();
    long[] sinceCleanup = {0};
    ticker.scheduleWithFixedDelay(() -> {
      try {
        sinceCleanup[0] += period;
        boolean aSecond = sinceCleanup[0] >= 1000;
        if (aSecond) {
          sinceCleanup[0] = 0;
          if (ready && !disk.low()) {
            registerAgainIfMissing();
          }
        }
        if (!isLeader()) {
          return;
        }
        Optional<Instant> next = store.nextExpiration();
        if (next.isPresent() && !next.get().isAfter(clock.instant()) && !disk.low()) {
          batcher.tick();
        }
        if (aSecond && !disk.low()) {
          dropStaleRegistrations();
        }
      } catch (RuntimeException e) {
        log.debug("tick failed", e);
      }
    }, period, period, TimeUnit.MILLISECONDS);
  }

  /**
   * A member whose registration is gone while the configuration lists it writes it again. The
   * leader's clean-up decides from the configuration it sees when it runs, and its delete commits
   * later: a member removed and at once added back (the fault harness's remove-and-rejoin, under a
   * bridge partition) lost the registration it wrote on joining, and with it its place in
   * {@code /v1/machines}, for good.
   * One write at a time; a removed member does not register again (the configuration no longer
   * lists it), and a registration under another value is left alone.
   */
  private void registerAgainIfMissing() {
    String self = group.self();
    if (closed || !registeringAgain.compareAndSet(false, true)) {
      return;
    }
    if (registry().containsKey(self) || !group.members().contains(self)) {
      registrationMissing = false;
      registeringAgain.set(false);
      return;
    }
    if (!registrationMissing) { // once, not at every attempt while there is no leader to take it
      registrationMissing = true;
      log.info("{}: its registration in {} is gone while it is a member; registering again", config.name(), MACHINES);
    }
    submit(registration()).whenComplete((event, error) -> registeringAgain.set(false));
  }

  /** {@code /_etcd/machines/<name>} = this member's peer and client URLs, as etcd 0.1 wrote it. */
  private SetOp registration() {
    String value = "raft=" + peerUrl(group.self()) + "&etcd=" + clientUrl + "&raftVersion=v0.1.2";
    return new SetOp(MACHINES + "/" + config.name(), value, null, null, true);
  }

  private void dropStaleRegistrations() {
    List<String> members = group.members();
    if (members.isEmpty()) {
      return;
    }
    for (MemberInfo m : registry().values()) {
      if (!members.contains(peerAddress(m.peerUrl()))) {
        log.info("{}: deleting the registration of {} ({}), no longer a member", config.name(), m.name(), m.peerUrl());
        batcher.submit(new DeleteOp(MACHINES + "/" + m.name(), true)).exceptionally(e -> null);
      }
    }
  }

  /**
   * {@inheritDoc} Also fails with {@link DiskFullException} while the data directory's disk has
   * less free space than the floor, before anything is appended.
   */
  @Override
  public CompletableFuture<Event> submit(WriteOp op) {
    WriteBatcher b = batcher;
    if (b == null) {
      return CompletableFuture.failedFuture(new NotLeaderException(leader().orElse(null)));
    }
    if (disk.low()) {
      return CompletableFuture.failedFuture(new DiskFullException(disk.describe()));
    }
    return b.submit(op);
  }

  /**
   * Removes the member called {@code name} from the cluster (from any member: the request goes to
   * the leader). Fails with a {@link StoreException} (error 100) for an unknown name, and with an
   * {@link IllegalStateException} saying why when the cluster refuses (the last member, or a
   * removal that would leave no majority of members that answer).
   */
  @Override
  public CompletableFuture<Void> removeMember(String name) {
    MemberInfo member = null;
    for (MemberInfo m : registry().values()) {
      if (m.name().equals(name)) {
        member = m;
      }
    }
    if (member == null || !group.members().contains(peerAddress(member.peerUrl()))) {
      return CompletableFuture.failedFuture(new StoreException(EtcdError.KEY_NOT_FOUND, "remove: " + name));
    }
    return group.remove(peerAddress(member.peerUrl()));
  }

  /** Completes, with the reason, when this member stopped serving on its own (removed, or its replica is damaged). */
  public CompletableFuture<String> stopped() {
    return group.stopped();
  }

  /** The log's time as this member estimates it: TTL expirations are instants of it. */
  @Override
  public Instant now() {
    return clock.instant();
  }

  @Override
  public CompletableFuture<Void> readBarrier() {
    return group.readBarrier();
  }

  @Override
  public String name() {
    return config.name();
  }

  @Override
  public MemberInfo self() {
    return new MemberInfo(config.name(), peerUrl(group.self()), clientUrl);
  }

  @Override
  public EtcdStore store() {
    return store;
  }

  @Override
  public boolean isLeader() {
    return group.isLeader();
  }

  @Override
  public Optional<MemberInfo> leader() {
    return group.leader().map(this::info);
  }

  @Override
  public List<MemberInfo> members() {
    List<String> peers = group.members();
    List<MemberInfo> result = new ArrayList<>(peers.size());
    for (String peer : peers) {
      result.add(info(peer));
    }
    return result;
  }

  @Override
  public Instant startTime() {
    return startTime;
  }

  private MemberInfo info(String peerAddress) {
    if (peerAddress.equals(group.self())) {
      return self();
    }
    MemberInfo known = registry().get(peerAddress);
    return known != null ? known : new MemberInfo(peerAddress, peerUrl(peerAddress), null);
  }

  /** Name → peer address of every registration, for the group to tell starting members. */
  private Map<String, String> registeredNames() {
    Map<String, String> names = new HashMap<>();
    for (MemberInfo m : registry().values()) {
      names.put(m.name(), peerAddress(m.peerUrl()));
    }
    return names;
  }

  /**
   * Peer address → member, parsed from {@code /_etcd/machines}; re-read only when the store changed.
   * Keyed by address, not URL: a member registered with the other scheme (before TLS between
   * members was turned on or off) is still the same member until it registers again at its start.
   */
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
            if (raft != null && (raft.startsWith("http://") || raft.startsWith("https://"))) {
              parsed.put(peerAddress(raft), new MemberInfo(name, raft, fields.get("etcd")));
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

  /** {@code http://host:port}, or {@code https://} with TLS between members. */
  private String peerUrl(String peerAddress) {
    return config.peerScheme() + "://" + peerAddress;
  }

  /** The {@code host:port} of a peer URL. */
  static String peerAddress(String peerUrl) {
    int scheme = peerUrl.indexOf("://");
    return scheme < 0 ? peerUrl : peerUrl.substring(scheme + 3);
  }

  private <T> CompletableFuture<T> step(String waitingFor, java.util.function.Supplier<CompletableFuture<T>> action) {
    currentStep = waitingFor;
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

  /** What the start sequence is waiting for right now (for a timeout message). */
  @Override
  public String waitingFor() {
    String mine = currentStep;
    return mine.startsWith("nothing (not") ? group.waitingFor() : mine;
  }

  /**
   * Snapshots the store and drops the log segments the snapshot covers, now rather than on the
   * engine's own schedule.
   */
  public CompletableFuture<Void> compact() {
    return group.compact();
  }

  /** The Raft group, for tests. */
  RaftGroup group() {
    return group;
  }

  /** Stops everything this node started, in reverse order; waits at most a few seconds in total. */
  @Override
  public void close() {
    closed = true;
    ScheduledExecutorService t = ticker;
    if (t != null) {
      t.shutdownNow();
    }
    WriteBatcher b = batcher;
    if (b != null) {
      b.close();
    }
    group.close();
    batcher = null;
  }
}
