package org.etcdjvm.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.etcdjvm.examples.ServiceProxyTest.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.test.EtcdExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Candidates for one lock against a real three-member cluster in this JVM. */
class LeaderElectionTest {
  private static final Duration TTL = Duration.ofSeconds(2);

  @RegisterExtension static final EtcdExtension etcd = EtcdExtension.cluster(3);

  @Test
  void oneLeaderAtATimeAndTheOtherTakesOverAfterExpiry() throws Exception {
    EtcdClient client = etcd.client();
    try (LeaderElection a = new LeaderElection(client, "/election/one", "a", TTL);
        LeaderElection b = new LeaderElection(client, "/election/one", "b", TTL)) {
      await(() -> a.isLeader() || b.isLeader());
      LeaderElection leader = a.isLeader() ? a : b;
      LeaderElection other = leader == a ? b : a;
      // for longer than a TTL: the leader keeps refreshing, never two leaders
      try (Monitor monitor = new Monitor(leader, other)) {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3000);
        while (System.nanoTime() < until) {
          assertThat(leader.isLeader()).isTrue();
          Thread.sleep(20);
        }
        assertThat(client.get("/election/one").send().value()).isEqualTo(leader.id());

        leader.close(); // stops refreshing, as a crashed leader would
        long stopped = System.nanoTime();
        assertThat(leader.isLeader()).isFalse();
        await(other::isLeader);
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
        assertThat(tookMillis).as("the lock expires first").isGreaterThan(500);
        assertThat(client.get("/election/one").send().value()).isEqualTo(other.id());
        assertThat(monitor.bothLed()).as("two leaders at once").isFalse();
      }
    }
  }

  /**
   * The claim of the class comment: a leader that cannot reach etcd gives up when its last
   * refresh, counted from when it was sent, runs out - before etcd can hand the lock to another.
   * Candidate a's client knows one member only, the Raft leader (a client sends writes to the
   * leader it learned of, so a follower would not cut it off), and that member is killed while a
   * leads; the others elect a new Raft leader and b campaigns through them.
   */
  @Test
  void aLeaderCutOffFromEtcdStepsDownBeforeAnotherCanTakeOver() throws Exception {
    int cutOff = etcd.leaderIndex();
    List<String> others = etcd.clientUrls().stream().filter(u -> !u.equals(etcd.clientUrls().get(cutOff))).toList();
    try (EtcdClient onlyOne = EtcdClient.builder().endpoints(etcd.clientUrls().get(cutOff)).autoSync(false).build();
        EtcdClient rest = EtcdClient.builder().endpoints(others).build();
        LeaderElection a = new LeaderElection(onlyOne, "/election/cut", "a", TTL)) {
      await(a::isLeader);
      try (LeaderElection b = new LeaderElection(rest, "/election/cut", "b", TTL);
          Monitor monitor = new Monitor(a, b)) {
        long killed = System.nanoTime();
        etcd.kill(cutOff);
        await(b::isLeader);
        assertThat(a.isLeader()).isFalse();
        assertThat(monitor.bothLed()).as("two leaders at once").isFalse();
        assertThat(monitor.lastLed(a)).as("a stepped down before b took over").isLessThan(monitor.firstLed(b));
        assertThat(TimeUnit.NANOSECONDS.toMillis(monitor.lastLed(a) - killed))
            .as("a led at most a TTL after it lost etcd").isLessThanOrEqualTo(TTL.toMillis() + 100);
      } finally {
        etcd.restart(cutOff);
      }
    }
  }

  /** A refresh is a compare-and-set on its own id: a leader whose lock was taken steps down at its next one. */
  @Test
  void aLeaderWhoseLockWasTakenStepsDownAtItsNextRefresh() throws Exception {
    EtcdClient client = etcd.client();
    try (LeaderElection a = new LeaderElection(client, "/election/taken", "a", TTL)) {
      await(a::isLeader);
      client.set("/election/taken", "intruder").send(); // no TTL: never expires
      long taken = System.nanoTime();
      await(() -> !a.isLeader());
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - taken))
          .as("at the next refresh, a third of the TTL later").isLessThan(TTL.toMillis());
      assertThat(client.get("/election/taken").send().value()).isEqualTo("intruder");
    }
  }

  @Test
  void mainShowsTheTakeOver() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    LeaderElection.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).matches("leader: (alice|bob) \\(lock holds (alice|bob)\\)");
    String first = lines.get(0).substring("leader: ".length(), lines.get(0).indexOf(' ', "leader: ".length()));
    String second = first.equals("alice") ? "bob" : "alice";
    assertThat(lines.get(0)).endsWith("(lock holds " + first + ")");
    assertThat(lines.get(1)).isEqualTo(first + " stopped refreshing");
    assertThat(lines.get(2)).matches("leader: " + second + " after \\d+ ms");
  }

  /** Samples two candidates every millisecond: whether both ever led at once, and when each led. */
  private static final class Monitor implements AutoCloseable {
    private final LeaderElection x;
    private final LeaderElection y;
    private final AtomicBoolean both = new AtomicBoolean();
    private final AtomicLong firstX = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong lastX = new AtomicLong();
    private final AtomicLong firstY = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong lastY = new AtomicLong();
    private final Thread thread;

    Monitor(LeaderElection x, LeaderElection y) {
      this.x = x;
      this.y = y;
      this.thread = new Thread(this::sample, "leader-monitor");
      thread.setDaemon(true);
      thread.start();
    }

    private void sample() {
      while (!Thread.currentThread().isInterrupted()) {
        long now = System.nanoTime();
        boolean xLeads = x.isLeader();
        boolean yLeads = y.isLeader();
        if (xLeads) {
          firstX.compareAndSet(Long.MAX_VALUE, now);
          lastX.set(now);
        }
        if (yLeads) {
          firstY.compareAndSet(Long.MAX_VALUE, now);
          lastY.set(now);
        }
        if (xLeads && yLeads) {
          both.set(true);
        }
        try {
          Thread.sleep(1);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    boolean bothLed() {
      return both.get();
    }

    long firstLed(LeaderElection candidate) {
      return candidate == x ? firstX.get() : firstY.get();
    }

    long lastLed(LeaderElection candidate) {
      return candidate == x ? lastX.get() : lastY.get();
    }

    @Override
    public void close() throws InterruptedException {
      thread.interrupt();
      thread.join(1000);
    }
  }
}
