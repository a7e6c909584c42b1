package org.etcdjvm.examples;

import java.io.Closeable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.etcdjvm.embedded.EtcdNode;

/**
 * A three-member cluster inside one JVM, formed the etcd 0.1 way: the first {@link EtcdNode}
 * starts alone (a cluster of one), and each next one starts with {@link EtcdNode.Builder#peers
 * peers(...)} naming the first's peer address and joins at runtime. Every port is picked by the
 * nodes themselves (port 0), so nothing has to be chosen ahead. Point any etcd v1 client (or curl)
 * at one of the printed URLs.
 *
 * <p>Shows: runtime joins, {@link EtcdNode#isLeader()}, and that closing releases every port.
 * (For tests, {@code etcd-test}'s {@code EtcdCluster} does this and more: kill, restart, a client.)
 */
public final class EmbeddedCluster implements Closeable {
  private final List<EtcdNode> nodes;

  private EmbeddedCluster(List<EtcdNode> nodes) {
    this.nodes = List.copyOf(nodes);
  }

  /** Starts {@code size} members with data directories under {@code dir}; returns when all serve. */
  public static EmbeddedCluster start(Path dir, int size) throws Exception {
    List<EtcdNode> nodes = new ArrayList<>();
    try {
      for (int i = 0; i < size; i++) {
        EtcdNode.Builder member = EtcdNode.builder().name("node" + i).dataDir(dir.resolve("node" + i))
            .clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0");
        if (i > 0) {
          member.peers(nodes.get(0).peerUrl().substring("http://".length())); // join through the first
        }
        EtcdNode node = member.build();
        nodes.add(node);
        node.start().get(60, TimeUnit.SECONDS); // one join at a time: Raft changes membership one member at a time
      }
    } catch (Exception e) {
      nodes.forEach(EtcdNode::close);
      throw e;
    }
    return new EmbeddedCluster(nodes);
  }

  /** The members, in start order. */
  public List<EtcdNode> nodes() {
    return nodes;
  }

  /** Every member's client URL, such as {@code http://127.0.0.1:41234}. */
  public List<String> clientUrls() {
    return nodes.stream().map(EtcdNode::clientUrl).collect(Collectors.toList());
  }

  /** Stops every member (in parallel: each takes about 2 s) and frees its ports. */
  @Override public void close() {
    nodes.parallelStream().forEach(EtcdNode::close);
  }

  /** Starts three members, prints their URLs, and runs until Ctrl-C. */
  public static void main(String[] args) throws Exception {
    Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("etcd-cluster");
    EmbeddedCluster cluster = start(dir, 3);
    for (EtcdNode node : cluster.nodes()) {
      System.out.println(node.name() + "  " + node.clientUrl() + (node.isLeader() ? "  (leader)" : ""));
    }
    System.out.println("try: curl -L " + cluster.clientUrls().get(0) + "/v1/keys/message -d value=Hello");
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      cluster.close();
      if (args.length == 0) Examples.deleteRecursively(dir);
      stopped.countDown();
    }));
    stopped.await();
  }
}
