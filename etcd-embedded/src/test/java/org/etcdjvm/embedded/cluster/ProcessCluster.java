package org.etcdjvm.embedded.cluster;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.etcdjvm.embedded.internal.LocalCluster;

/** N etcd nodes in child JVMs on free loopback ports, each with its own data directory under {@code root}. */
final class ProcessCluster implements AutoCloseable {
  static final Duration SHORT = Duration.ofSeconds(2);

  final List<NodeProcess> nodes = new ArrayList<>();

  ProcessCluster(Path root, int size) throws IOException {
    List<String> clients = new ArrayList<>();
    List<String> peers = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      clients.add("127.0.0.1:" + LocalCluster.freePort());
      peers.add("127.0.0.1:" + LocalCluster.freePort());
    }
    for (int i = 0; i < size; i++) {
      List<String> others = new ArrayList<>(peers);
      others.remove(i);
      nodes.add(new NodeProcess("n" + (i + 1), clients.get(i), peers.get(i), others, root.resolve("n" + (i + 1))));
    }
  }

  /** Starts every node at once; returns each node's launch-to-ready ms. */
  List<Long> start(Duration timeout) throws Exception {
    for (NodeProcess n : nodes) {
      n.start();
    }
    List<Long> ready = new ArrayList<>();
    for (NodeProcess n : nodes) {
      ready.add(n.awaitReady(timeout));
    }
    return ready;
  }

  /** The node that is the leader by its own account ({@code "state":"leader"}), if one answers so. */
  Optional<NodeProcess> leader() {
    for (NodeProcess n : nodes) {
      if (!n.isAlive()) {
        continue;
      }
      Curl.Reply r = Curl.get(n.clientUrl() + "/v1/stats/self", SHORT);
      if (r.status() == 200 && r.body().contains("\"state\":\"leader\"")) {
        return Optional.of(n);
      }
    }
    return Optional.empty();
  }

  NodeProcess awaitLeader(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<NodeProcess> l = leader();
      if (l.isPresent()) {
        return l.get();
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no leader within " + timeout);
  }

  List<NodeProcess> alive() {
    return nodes.stream().filter(NodeProcess::isAlive).toList();
  }

  /**
   * Waits until every running node reports the same store index and the same listing of
   * {@code dir}, and returns that listing.
   */
  String awaitConverged(String dir, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<String> last = List.of();
    while (System.nanoTime() < deadline) {
      List<String> bodies = new ArrayList<>();
      for (NodeProcess n : alive()) {
        bodies.add(Curl.get(n.clientUrl() + "/v1/keys" + dir, SHORT).body());
      }
      if (!bodies.isEmpty() && bodies.stream().distinct().count() == 1 && bodies.get(0).startsWith("[")) {
        return bodies.get(0);
      }
      last = bodies;
      Thread.sleep(50);
    }
    throw new AssertionError("replicas did not converge on " + dir + " within " + timeout + ": "
        + last.stream().map(b -> b.length() > 300 ? b.substring(0, 300) + "..." : b).toList());
  }

  @Override
  public void close() throws InterruptedException {
    for (NodeProcess n : nodes) {
      n.kill();
    }
  }
}
