package org.etcdjvm.client.integration;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.etcdjvm.embedded.EtcdNode;
import org.etcdjvm.embedded.internal.LocalCluster;

/** Starts real in-process nodes on free loopback ports, as etcd-embedded's own tests do. */
final class Nodes {
  private Nodes() {}

  /** A started single-member node; {@code builder} may carry extra settings such as historySize. */
  static EtcdNode single(EtcdNode.Builder builder, Path dir) throws Exception {
    EtcdNode node = builder.dataDir(dir).clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0").build();
    node.start().get(30, TimeUnit.SECONDS);
    return node;
  }

  /** Three started members of one Raft group, in start order. */
  static List<EtcdNode> three(Path dir) throws Exception {
    List<String> peers = LocalCluster.peerAddresses(3);
    List<EtcdNode> nodes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      nodes.add(LocalCluster.member(peers, i, "n" + i, dir.resolve("n" + i)).build());
    }
    return LocalCluster.startAll(nodes, Duration.ofSeconds(60));
  }

  /** The one leader among the running nodes, waiting up to 10 s for an election to settle. */
  static EtcdNode leader(List<EtcdNode> nodes) throws InterruptedException {
    await(Duration.ofSeconds(10), () -> nodes.stream().filter(EtcdNode::isLeader).count() == 1);
    return nodes.stream().filter(EtcdNode::isLeader).findFirst().orElseThrow();
  }

  static EtcdNode follower(List<EtcdNode> nodes) throws InterruptedException {
    EtcdNode leader = leader(nodes);
    return nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
  }

  /** The client's form of a node's URL (OkHttp's HttpUrl adds the trailing slash). */
  static String base(EtcdNode node) {
    return node.clientUrl() + "/";
  }

  static void await(Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("condition not met within " + timeout);
      Thread.sleep(10);
    }
  }
}
