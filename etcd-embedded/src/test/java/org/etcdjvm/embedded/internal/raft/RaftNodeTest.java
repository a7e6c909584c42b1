package org.etcdjvm.embedded.internal.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.etcdjvm.embedded.internal.store.Action;
import org.etcdjvm.embedded.internal.store.DeleteOp;
import org.etcdjvm.embedded.internal.store.EtcdError;
import org.etcdjvm.embedded.internal.store.Event;
import org.etcdjvm.embedded.internal.store.SetOp;
import org.etcdjvm.embedded.internal.store.StoreException;
import org.etcdjvm.embedded.internal.store.StoreLimits;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The write path above the Raft group (batching, TTL ticks, the member registry), on an in-memory group. */
class RaftNodeTest {
  private InMemoryRaftGroup group;
  /** The log's clock: the time the leader stamps on each command. */
  private final AtomicClock logClock = new AtomicClock(Instant.now());
  private final RaftNode node = new RaftNode(new RaftConfig("n1", Path.of("unused"), "127.0.0.1:7001", null, List.of(),
      Duration.ofMillis(200), Duration.ofMillis(50), Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofSeconds(5),
      Duration.ofMillis(10), 256, 32 * 1024 * 1024, 9, 0, 0, StoreLimits.defaults()),
      (state, names, diskLow) -> group = new InMemoryRaftGroup("127.0.0.1:7001", state, logClock));

  private static final class AtomicClock extends Clock {
    private volatile Instant now;

    AtomicClock(Instant now) {
      this.now = now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void aCreateOrTestAndSetAfterTheExpirationSeesTheKeyAbsent() throws Exception {
    node.start("http://127.0.0.1:4001").get(5, TimeUnit.SECONDS);
    Instant expiration = node.now().plusMillis(200);
    node.submit(new SetOp("/lock", "old", null, expiration, false)).get(5, TimeUnit.SECONDS);
    while (!node.now().isAfter(expiration)) {
      Thread.sleep(10); // the log's time passes
    }
    assertThatThrownBy(() -> node.submit(new SetOp("/lock", "x", "old", null, false)).get(5, TimeUnit.SECONDS))
        .cause().isInstanceOfSatisfying(StoreException.class,
            e -> assertThat(e.error()).isEqualTo(EtcdError.KEY_NOT_FOUND));
    Event created = node.submit(new SetOp("/lock", "new", "", null, false)).get(5, TimeUnit.SECONDS);
    assertThat(created.newKey()).isTrue();
    assertThat(created.prevValue()).isNull();
  }

  @Test
  void expiryFollowsTheLogsTimeNotAWallClockThatJumps() throws Exception {
    node.start("http://127.0.0.1:4001").get(5, TimeUnit.SECONDS);
    Event set = node.submit(new SetOp("/lease", "held", null, node.now().plusSeconds(30), false))
        .get(5, TimeUnit.SECONDS);
    // The in-memory group offers its own wall-clock reading with each command, as Atomix does with
    // the leader's: jump it an hour ahead. The commands carry the log's time, which does not jump.
    logClock.advance(Duration.ofHours(1));
    node.submit(new SetOp("/other", "x", null, null, false)).get(5, TimeUnit.SECONDS);
    assertThat(node.store().get("/lease").node().value()).isEqualTo("held");
    assertThat(node.store().index()).isEqualTo(set.index() + 1);
  }

  @Test
  void startRegistersTheMemberAndKnowsItsOwnClientUrl() throws Exception {
    node.start("http://127.0.0.1:4001").get(5, TimeUnit.SECONDS);
    assertThat(node.store().get("/_etcd/machines/n1").node().value())
        .isEqualTo("raft=http://127.0.0.1:7001&etcd=http://127.0.0.1:4001&raftVersion=v0.1.2");
    assertThat(node.leader()).map(MemberInfo::clientUrl).contains("http://127.0.0.1:4001");
    assertThat(node.members()).extracting(MemberInfo::name).containsExactly("n1");
  }

  @Test
  void concurrentWritesAreBatchedAndEachGetsItsOwnResult() throws Exception {
    node.start("http://127.0.0.1:4001").get(5, TimeUnit.SECONDS);
    int before = group.commands;
    List<CompletableFuture<Event>> writes = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      writes.add(node.submit(new SetOp("/k/" + i, "v" + i, null, null, false)));
    }
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    assertThat(writes.stream().map(CompletableFuture::join).map(Event::index).distinct()).hasSize(2000);
    assertThat(group.commands - before).as("commands for 2000 writes").isLessThan(2000);
    assertThatThrownBy(() -> node.submit(new DeleteOp("/missing", false)).get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause().isInstanceOfSatisfying(StoreException.class,
            e -> assertThat(e.error()).isEqualTo(EtcdError.KEY_NOT_FOUND));
  }

  @Test
  void theLeaderTicksWhenATtlIsDueSoTheExpiryIsReplicatedOnAnIdleNode() throws Exception {
    node.start("http://127.0.0.1:4001").get(5, TimeUnit.SECONDS);
    Event set = node.submit(new SetOp("/foo", "bar", null, node.now().plusMillis(300), false)).get(5, TimeUnit.SECONDS);
    CompletableFuture<Event> expiry = new CompletableFuture<>();
    node.store().watches().watch("/foo", set.index() + 1, expiry::complete);
    Event event = expiry.get(5, TimeUnit.SECONDS);
    assertThat(event.action()).isEqualTo(Action.DELETE);
    assertThat(event.index()).isEqualTo(set.index() + 1);
    assertThat(Duration.between(event.expiration(), Instant.now())).isLessThan(Duration.ofSeconds(2));
  }

  @Test
  void theLeaderDropsRegistrationsOfMembersNoLongerInTheConfiguration() throws Exception {
    node.start("http://127.0.0.1:4001").get(5, TimeUnit.SECONDS);
    node.submit(new SetOp("/_etcd/machines/gone", "raft=http://127.0.0.1:7009&etcd=http://127.0.0.1:4009", null, null,
        true)).get(5, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline && node.store().get("/_etcd/machines").children().size() > 1) {
      Thread.sleep(20);
    }
    assertThat(node.store().get("/_etcd/machines").children()).extracting(Event::key)
        .containsExactly("/_etcd/machines/n1");
  }

  @Test
  void anUnknownMemberCannotBeRemoved() throws Exception {
    node.start("http://127.0.0.1:4001").get(5, TimeUnit.SECONDS);
    assertThatThrownBy(() -> node.removeMember("nobody").get(5, TimeUnit.SECONDS))
        .cause().isInstanceOfSatisfying(StoreException.class,
            e -> assertThat(e.error()).isEqualTo(EtcdError.KEY_NOT_FOUND));
    assertThatThrownBy(() -> node.removeMember("n1").get(5, TimeUnit.SECONDS))
        .cause().hasMessageContaining("last member");
  }
}
