package org.etcdjvm.embedded.internal.raft.atomix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.etcdjvm.embedded.internal.raft.MemberInfo;
import org.etcdjvm.embedded.internal.raft.RaftConfig;
import org.etcdjvm.embedded.internal.raft.RaftNode;
import org.etcdjvm.embedded.internal.store.Action;
import org.etcdjvm.embedded.internal.store.DeleteOp;
import org.etcdjvm.embedded.internal.store.EtcdError;
import org.etcdjvm.embedded.internal.store.Event;
import org.etcdjvm.embedded.internal.store.SetOp;
import org.etcdjvm.embedded.internal.store.StoreException;
import org.etcdjvm.embedded.internal.store.StoreLimits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@link RaftNode} on a real single-member Atomix Raft group (messaging on a free loopback port,
 * log on disk): writes, restarts, snapshots, and what a closed node lets go of.
 */
class AtomixRaftGroupTest {
  @TempDir Path dir;
  private final java.util.Map<RaftNode, AtomixRaftGroup> groups = new java.util.IdentityHashMap<>();

  private RaftNode node(Path dataDir, String peerAddress) {
    return node(dataDir, peerAddress, 1024 * 1024);
  }

  private RaftNode node(Path dataDir, String peerAddress, int segmentBytes) {
    return node(dataDir, peerAddress, segmentBytes, 1L << 40);
  }

  private RaftNode node(Path dataDir, String peerAddress, int segmentBytes, long maxLogBytes) {
    return node("n1", dataDir, peerAddress, List.of(), segmentBytes, maxLogBytes);
  }

  private RaftNode node(String name, Path dataDir, String peerAddress, List<String> peers, int segmentBytes,
      long maxLogBytes) {
    RaftConfig config = new RaftConfig(name, dataDir, peerAddress, null, peers, Duration.ofMillis(200),
        Duration.ofMillis(50), Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofMillis(50),
        256, segmentBytes, 9, -1, maxLogBytes, StoreLimits.defaults());
    AtomixRaftGroup[] group = new AtomixRaftGroup[1];
    RaftNode node = new RaftNode(config, (state, names, diskLow) -> group[0] = new AtomixRaftGroup(config, state, names, diskLow));
    groups.put(node, group[0]);
    return node;
  }

  private io.atomix.protocols.raft.RaftServer raftServer(RaftNode node) {
    return groups.get(node).raftServer();
  }

  /** Bytes of the log's segments, not counting the spare one allocated ahead of need (SegmentSpace). */
  private static long logBytes(Path dataDir) throws Exception {
    long total = 0;
    try (var files = java.nio.file.Files.walk(dataDir.resolve("raft"))) {
      for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".log")).toList()) {
        if (!SegmentSpace.isSpare(p)) {
          total += p.toFile().length();
        }
      }
    }
    return total;
  }

  @Test
  void aSnapshotBoundsTheLogAndARestartRecoversFromIt() throws Exception {
    String address = freeAddress();
    String big = "x".repeat(10_000);
    long before;
    try (RaftNode node = node(dir, address, 4 * 1024 * 1024)) {
      node.start("http://127.0.0.1:4001").get(20, TimeUnit.SECONDS);
      for (int round = 0; round < 12; round++) {
        List<CompletableFuture<Event>> writes = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
          writes.add(node.submit(new SetOp("/big/" + i, big + round, null, null, false)));
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
      }
      node.submit(new SetOp("/ttl", "soon", null, Instant.now().plusSeconds(60), false)).get(5, TimeUnit.SECONDS);
      before = logBytes(dir);
      assertThat(before).isGreaterThan(12 * 1_000_000L);
      // A compaction Atomix began on its own schedule during the writes may cover only part of
      // them; the call then joins it, and a second one covers the rest.
      for (int attempt = 0; attempt < 3 && logBytes(dir) >= before / 2; attempt++) {
        awaitCompaction(node);
      }
      assertThat(logBytes(dir)).isLessThan(before / 2);
      assertThat(java.nio.file.Files.list(dir.resolve("raft")).map(p -> p.getFileName().toString()))
          .anyMatch(name -> name.endsWith(".snapshot"));
      // the snapshot file was written off the state-machine thread (BackgroundSnapshotStore)
      assertThat(AtomixInternals.contextOf(raftServer(node)).getSnapshotStore())
          .isInstanceOf(BackgroundSnapshotStore.class);
    }
    try (RaftNode again = node(dir, address, 4 * 1024 * 1024)) {
      again.start("http://127.0.0.1:4001").get(20, TimeUnit.SECONDS);
      assertThat(again.store().get("/big").children()).hasSize(100)
          .allSatisfy(e -> assertThat(e.value()).isEqualTo(big + 11));
      assertThat(again.store().get("/ttl").node().expiration()).isNotNull();
    }
  }

  /**
   * A member that joins after the leader dropped its log behind a snapshot is sent the snapshot:
   * Atomix's install writes it chunk by chunk into a temporary snapshot and then calls {@code
   * persist().complete()}, which goes through {@link BackgroundSnapshotStore} and waits for the
   * file. The new member then has every key, and the installed snapshot is on its disk.
   */
  @Test
  void aMemberJoiningAfterCompactionIsSentTheSnapshot() throws Exception {
    String leaderAddress = freeAddress();
    String big = "z".repeat(10_000);
    try (RaftNode first = node("n1", dir.resolve("n1"), leaderAddress, List.of(), 1024 * 1024, 1L << 40)) {
      first.start("http://127.0.0.1:4001").get(20, TimeUnit.SECONDS);
      for (int round = 0; round < 4; round++) {
        writeRound(first, big + round);
      }
      Path firstSegment = dir.resolve("n1").resolve("raft").resolve("etcd-1.log");
      for (int attempt = 0; attempt < 3 && java.nio.file.Files.exists(firstSegment); attempt++) {
        awaitCompaction(first);
      }
      assertThat(firstSegment).as("the leader's first log segment, dropped by compaction").doesNotExist();

      try (RaftNode second = node("n2", dir.resolve("n2"), freeAddress(), List.of(leaderAddress), 1024 * 1024,
          1L << 40)) {
        second.start("http://127.0.0.1:4002").get(60, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!hasAll(second, big + 3) && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
        assertThat(hasAll(second, big + 3)).as("the new member has every key within 60 s").isTrue();
        var installed = AtomixInternals.contextOf(raftServer(second)).getSnapshotStore();
        assertThat(installed).isInstanceOf(BackgroundSnapshotStore.class);
        assertThat(installed.getCurrentSnapshot()).as("the snapshot installed from the leader").isNotNull();
        assertThat(java.nio.file.Files.list(dir.resolve("n2").resolve("raft")).map(p -> p.getFileName().toString()))
            .anyMatch(name -> name.endsWith(".snapshot"));
      }
    }
  }

  private static boolean hasAll(RaftNode node, String value) {
    try {
      var children = node.store().get("/big").children();
      return children.size() == 100 && children.stream().allMatch(e -> value.equals(e.value()));
    } catch (StoreException notYet) {
      return false;
    }
  }

  /**
   * A member whose registration was deleted while it is a member (the leader's clean-up of removed
   * members, decided before the member was added back) writes it again within seconds: the fault
   * harness once saw a rejoined member missing from /v1/machines for good.
   */
  @Test
  void aMemberWhoseRegistrationIsDeletedRegistersAgain() throws Exception {
    try (RaftNode node = node(dir, freeAddress())) {
      node.start("http://127.0.0.1:4001").get(20, TimeUnit.SECONDS);
      String key = "/_etcd/machines/n1";
      String registration = node.store().get(key).node().value();
      node.submit(new DeleteOp(key, true)).get(10, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (!hasKey(node, key) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(hasKey(node, key)).as("registered again within 15 s").isTrue();
      assertThat(node.store().get(key).node().value()).isEqualTo(registration);
    }
  }

  private static boolean hasKey(RaftNode node, String key) {
    try {
      node.store().get(key);
      return true;
    } catch (StoreException notFound) {
      return false;
    }
  }

  /**
   * Atomix unmaps a log segment when its last reader moves on, and rebuilds the segment's writer by
   * reading and deserializing the whole segment, on the Raft thread: 0.4-0.5 s without commits per
   * 16 MB of log. Segments now stay mapped until compaction deletes them; compaction still frees
   * them, and a restart still replays what is left.
   */
  @Test
  void logSegmentsStayMappedUntilCompactionDeletesThem() throws Exception {
    String address = freeAddress();
    String value = "m".repeat(50_000);
    try (RaftNode node = node(dir, address, 1024 * 1024)) {
      node.start("http://127.0.0.1:4001").get(20, TimeUnit.SECONDS);
      var context = AtomixInternals.contextOf(raftServer(node));
      List<String> unmapped = List.of();
      for (int i = 0; i < 80; i++) { // ~4 MB: four or more 1 MB segments
        node.submit(new SetOp("/seg/" + (i % 20), value + i, null, null, false)).get(10, TimeUnit.SECONDS);
        // The node switches the segments every 20 ms; a segment filled in less than that (these
        // hold 20 writes) may be unmapped first, so each write waits for the switch.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        do {
          unmapped = AtomixInternals.segmentsNotKeptMapped(context);
          if (unmapped.isEmpty()) {
            break;
          }
          Thread.sleep(5);
        } while (System.nanoTime() < deadline);
        assertThat(unmapped).as("after write %d: segments unmapped, or not kept mapped", i).isEmpty();
      }
      assertThat(AtomixInternals.segmentCount(context)).as("segments").isGreaterThanOrEqualTo(4);

      long before = logBytes(dir);
      for (int attempt = 0; attempt < 3 && logBytes(dir) >= before / 2; attempt++) {
        awaitCompaction(node);
      }
      assertThat(logBytes(dir)).as("log bytes after compaction").isLessThan(before / 2);
      node.submit(new SetOp("/seg/after", "compaction", null, null, false)).get(10, TimeUnit.SECONDS);
    }
    try (RaftNode again = node(dir, address, 1024 * 1024)) {
      again.start("http://127.0.0.1:4001").get(20, TimeUnit.SECONDS);
      assertThat(again.store().get("/seg").children()).hasSize(21);
      assertThat(again.store().get("/seg/19").node().value()).isEqualTo(value + 79);
      assertThat(again.store().get("/seg/after").node().value()).isEqualTo("compaction");
    }
  }

  /**
   * Atomix keeps each command's result in the session's state on every member until the client's
   * next keep-alive (27.5 s apart): a batch's outcomes, with every value and previous value, filled
   * a 512 MB heap under 100 KB writes. What Atomix holds is a 9-byte reference; the answer still
   * carries the whole value and previous value (from this member's replica).
   */
  @Test
  void atomixHoldsAReferenceToEachCommandsOutcomeNotTheOutcome() throws Exception {
    String big = "v".repeat(200_000);
    try (RaftNode node = node(dir, freeAddress())) {
      node.start("http://127.0.0.1:4001").get(20, TimeUnit.SECONDS);
      node.submit(new SetOp("/big", big + 1, null, null, false)).get(10, TimeUnit.SECONDS);
      Event second = node.submit(new SetOp("/big", big + 2, null, null, false)).get(10, TimeUnit.SECONDS);
      assertThat(second.value()).isEqualTo(big + 2);
      assertThat(second.prevValue()).isEqualTo(big + 1);

      var context = AtomixInternals.contextOf(raftServer(node));
      long held = 0;
      int results = 0;
      for (var session : context.getSessions().getSessions()) {
        for (long seq = 1; seq <= session.getCommandSequence(); seq++) {
          var result = session.getResult(seq);
          if (result != null && result.result() != null) {
            results++;
            held = Math.max(held, result.result().length);
          }
        }
      }
      assertThat(results).as("results Atomix keeps until the next keep-alive").isGreaterThanOrEqualTo(2);
      assertThat(held).as("largest result Atomix keeps, bytes").isLessThanOrEqualTo(9);
      assertThat(groups.get(node).localOutcomesKept()).isZero();
    }
  }

  /**
   * Atomix re-checks snapshot completion every 10 s, and waits 10 s more under load. If the
   * compaction does not finish, the failure says where Atomix stands (one line, so it shows in CI's
   * summary).
   */
  private void awaitCompaction(RaftNode node) throws Exception {
    CompletableFuture<Void> compaction = node.compact();
    try {
      compaction.get(90, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("compaction did not finish in 90 s: " + atomixState(node), e);
    }
  }

  private String atomixState(RaftNode node) {
    try {
      var context = AtomixInternals.contextOf(raftServer(node));
      var manager = context.getServiceManager();
      java.lang.reflect.Field compactFuture = manager.getClass().getDeclaredField("compactFuture");
      compactFuture.setAccessible(true);
      java.lang.reflect.Field lastCompacted = manager.getClass().getDeclaredField("lastCompacted");
      lastCompacted.setAccessible(true);
      StringBuilder sessions = new StringBuilder();
      for (var session : context.getSessions().getSessions()) {
        sessions.append(session.sessionId().id()).append(':').append(session.getState())
            .append(" applied=").append(session.getLastApplied())
            .append(" completed=").append(session.getLastCompleted()).append("; ");
      }
      var log = context.getLog();
      return "role=" + context.getRole() + " commit=" + context.getCommitIndex()
          + " lastApplied=" + context.getLastApplied()
          + " compactable=" + log.isCompactable(context.getLastApplied())
          + "/" + log.getCompactableIndex(context.getLastApplied())
          + " lastCompacted=" + lastCompacted.get(manager)
          + " compactFuture=" + compactFuture.get(manager)
          + " snapshot=" + context.getSnapshotStore().getCurrentSnapshot()
          + " highLoad=" + context.getLoadMonitor().isUnderHighLoad()
          + " sessions=[" + sessions + "]" + raftThreads();
    } catch (ReflectiveOperationException | RuntimeException e) {
      return "(state unavailable: " + e + ")";
    }
  }

  /** The stacks of Atomix's Raft threads, on the lines after the one-line summary. */
  private static String raftThreads() {
    StringBuilder out = new StringBuilder();
    Thread.getAllStackTraces().forEach((thread, stack) -> {
      if (thread.getName().startsWith("raft-")) {
        out.append(System.lineSeparator()).append(thread.getName()).append(' ').append(thread.getState());
        for (int i = 0; i < Math.min(stack.length, 25); i++) {
          out.append(System.lineSeparator()).append("    at ").append(stack[i]);
        }
      }
    });
    return out.toString();
  }

  private static String freeAddress() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return "127.0.0.1:" + s.getLocalPort();
    }
  }

  /**
   * 100 sets of 10 kB; a set whose outcome is unknown (a commit slower than the 5 s commit timeout,
   * seen with the machine's cores taken by other builds) is sent again: a set is idempotent.
   */
  private static void writeRound(RaftNode node, String value) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    for (int i = 0; i < 100; i++) {
      while (true) {
        try {
          node.submit(new SetOp("/big/" + i, value, null, null, false)).get(30, TimeUnit.SECONDS);
          break;
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof java.util.concurrent.TimeoutException) || System.nanoTime() > deadline) {
            throw e;
          }
        }
      }
    }
  }

  @Test
  void aLogOverItsLimitIsCompactedWithoutBeingAsked() throws Exception {
    String big = "y".repeat(10_000);
    try (RaftNode node = node(dir, freeAddress(), 4 * 1024 * 1024, 8L * 1024 * 1024)) {
      node.start("http://127.0.0.1:4001").get(20, TimeUnit.SECONDS);
      for (int round = 0; round < 16; round++) {
        writeRound(node, big + round);
      }
      // 16 MB written into a log limited to 8 MB: a snapshot is taken and the log before it dropped
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (logBytes(dir) > 12L * 1024 * 1024 && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertThat(logBytes(dir)).as("log bytes; " + atomixState(node)).isLessThanOrEqualTo(12L * 1024 * 1024);
    }
  }

  @Test
  void writesAreAppliedToTheLocalReplicaAndSurviveARestart() throws Exception {
    String address = freeAddress();
    long lastIndex;
    try (RaftNode node = node(dir, address)) {
      node.start("http://127.0.0.1:4001").get(20, TimeUnit.SECONDS);
      assertThat(node.isLeader()).isTrue();
      assertThat(node.leader()).map(MemberInfo::clientUrl).contains("http://127.0.0.1:4001");

      Event set = node.submit(new SetOp("/message", "Hello", null, null, false)).get(5, TimeUnit.SECONDS);
      assertThat(set.action()).isEqualTo(Action.SET);
      assertThat(set.newKey()).isTrue();
      assertThat(node.store().get("/message").node().value()).isEqualTo("Hello");

      List<CompletableFuture<Event>> many = new ArrayList<>();
      for (int i = 0; i < 2000; i++) {
        many.add(node.submit(new SetOp("/k/" + i, "v" + i, null, null, false)));
      }
      CompletableFuture.allOf(many.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
      assertThat(many.stream().map(CompletableFuture::join).map(Event::index).distinct()).hasSize(2000);

      assertThatThrownBy(() -> node.submit(new DeleteOp("/missing", false)).get(5, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause().isInstanceOfSatisfying(StoreException.class,
              e -> assertThat(e.error()).isEqualTo(EtcdError.KEY_NOT_FOUND));
      lastIndex = node.store().index();
    }

    try (RaftNode again = node(dir, address)) {
      again.start("http://127.0.0.1:4001").get(20, TimeUnit.SECONDS);
      assertThat(again.store().get("/message").node().value()).isEqualTo("Hello");
      assertThat(again.store().get("/k").children()).hasSize(2000);
      assertThat(again.store().index()).isGreaterThan(lastIndex); // + the new registration
    }
  }

  @Test
  void aClosedNodeHoldsOnToNoneOfAtomix() throws Exception {
    RaftNode node = node(dir, freeAddress());
    node.start("http://127.0.0.1:4001").get(20, TimeUnit.SECONDS);
    node.submit(new SetOp("/k", "v", null, null, false)).get(5, TimeUnit.SECONDS);
    java.lang.ref.WeakReference<Object> server = new java.lang.ref.WeakReference<>(raftServer(node));
    node.close();
    // the application still holds the node; Atomix's server (and its log buffers) must be collectable
    for (int i = 0; i < 50 && server.get() != null; i++) {
      System.gc();
      Thread.sleep(20);
    }
    assertThat(server.get()).isNull();
    assertThat(node.compact()).isCompletedExceptionally();
    assertThat(node.store().get("/k").node().value()).isEqualTo("v");
  }

  @Test
  void aTtlKeyExpiresPromptlyOnAnIdleNode() throws Exception {
    try (RaftNode node = node(dir, freeAddress())) {
      node.start("http://127.0.0.1:4001").get(20, TimeUnit.SECONDS);
      CompletableFuture<Event> expired = new CompletableFuture<>();
      node.store().watches().watch("/foo", 0, expired::complete);
      node.submit(new SetOp("/foo", "bar", null, Instant.now().plusSeconds(1), false)).get(5, TimeUnit.SECONDS);
      Event event = expired.get(5, TimeUnit.SECONDS);
      // the watch fired for the set first; wait for the expiry
      if (event.action() == Action.SET) {
        CompletableFuture<Event> next = new CompletableFuture<>();
        node.store().watches().watch("/foo", event.index() + 1, next::complete);
        event = next.get(5, TimeUnit.SECONDS);
      }
      assertThat(event.action()).isEqualTo(Action.DELETE);
      assertThat(event.prevValue()).isEqualTo("bar");
      assertThat(event.expiration()).isNotNull();
      // prompt: the leader ticks when a TTL is due (without ticks an idle node expired keys ~15 s late)
      assertThat(Duration.between(event.expiration(), Instant.now())).isLessThan(Duration.ofSeconds(3));
    }
  }
}
