package org.etcdjvm.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.embedded.EtcdNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeaderElectionTest {
  @TempDir Path dir;

  @Test void oneLeaderAtATimeAndTheOtherTakesOverAfterExpiry() throws Exception {
    try (EtcdNode node = EtcdNode.builder().dataDir(dir).clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0").build()) {
      node.start().get(30, TimeUnit.SECONDS);
      try (EtcdClient etcd = EtcdClient.builder().endpoints(node.clientUrl()).build();
          LeaderElection a = new LeaderElection(etcd, "/election/leader", "a", Duration.ofSeconds(2));
          LeaderElection b = new LeaderElection(etcd, "/election/leader", "b", Duration.ofSeconds(2))) {
        ServiceProxyTest.await(() -> a.isLeader() || b.isLeader());
        // for longer than a TTL: the leader keeps refreshing, never two leaders
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3000);
        LeaderElection leader = a.isLeader() ? a : b;
        LeaderElection other = leader == a ? b : a;
        while (System.nanoTime() < until) {
          assertThat(leader.isLeader()).isTrue();
          assertThat(other.isLeader()).isFalse();
          Thread.sleep(20);
        }
        assertThat(etcd.get("/election/leader").send().value()).isEqualTo(leader.id());

        leader.close(); // stops refreshing, as a crashed leader would
        long stopped = System.nanoTime();
        assertThat(leader.isLeader()).isFalse();
        ServiceProxyTest.await(other::isLeader);
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
        assertThat(tookMillis).as("the lock expires first").isGreaterThan(500);
        assertThat(etcd.get("/election/leader").send().value()).isEqualTo(other.id());
      }
    }
  }

  @Test void mainRuns() throws Exception {
    LeaderElection.run(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
  }
}
