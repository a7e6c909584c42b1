package org.etcdjvm.embedded.internal.raft.atomix;

import static org.assertj.core.api.Assertions.assertThat;

import io.atomix.cluster.AtomixCluster;
import io.atomix.cluster.ClusterConfig;
import io.atomix.cluster.Node;
import io.atomix.cluster.discovery.BootstrapDiscoveryProvider;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.etcdjvm.embedded.internal.LocalCluster;
import org.junit.jupiter.api.Test;

/**
 * {@link AtomixInternals#hurryMessagingShutdown} still reaches the pinned Atomix's and Netty's
 * private fields and ends a real messaging service's stop: without it, each node's close waited
 * out Netty's 2 s quiet period (measured in README / CHANGELOG, not asserted here).
 */
class MessagingShutdownTest {
  @Test
  void theMessagingEventLoopsEndWithoutTheirQuietPeriod() throws Exception {
    // Other tests' nodes in this JVM may still be ending their own event loops: only this
    // cluster's threads count.
    java.util.Set<Thread> before = java.util.Set.copyOf(Thread.getAllStackTraces().keySet());
    int port = LocalCluster.freePort("127.0.0.1");
    AtomixCluster cluster = AtomixCluster.builder(new ClusterConfig())
        .withClusterId("shutdown-test")
        .withMemberId("m1")
        .withAddress("127.0.0.1", port)
        .withMembershipProvider(BootstrapDiscoveryProvider.builder()
            .withNodes(Node.builder().withId("m1").withAddress("127.0.0.1", port).build()).build())
        .build();
    cluster.start().get(30, TimeUnit.SECONDS);

    CompletableFuture<Void> stopping = cluster.stop();
    assertThat(AtomixInternals.hurryMessagingShutdown(cluster.getMessagingService(), stopping, 30_000))
        .as("the quiet period was ended").isTrue();
    stopping.get(30, TimeUnit.SECONDS);
    // Well inside Netty's 2 s quiet period, which the hurry ends: a thread may still be returning.
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_000);
    java.util.List<Thread> left;
    do {
      left = Thread.getAllStackTraces().keySet().stream()
          .filter(t -> !before.contains(t) && t.getName().startsWith("netty-messaging-event") && t.isAlive())
          .toList();
      if (left.isEmpty()) {
        break;
      }
      Thread.sleep(10);
    } while (System.nanoTime() < deadline);
    assertThat(left).as("this cluster's messaging threads 1 s after its stop").isEmpty();
  }
}
