package org.etcdjvm.examples;

import java.io.Closeable;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.etcdjvm.embedded.EtcdNode;

/**
 * A three-member cluster inside one JVM: three {@link EtcdNode}s on free loopback ports that
 * know each other's peer addresses and form one Raft group. Handy for tests and demos; point any
 * etcd v1 client (or curl) at one of the printed URLs.
 *
 * <p>Shows: {@link EtcdNode.Builder#peers}, starting members concurrently (each waits for a
 * quorum), {@link EtcdNode#isLeader()}, and closing releases every port.
 */
public final class EmbeddedCluster implements Closeable {
  private final List<EtcdNode> nodes;

  private EmbeddedCluster(List<EtcdNode> nodes) {
    this.nodes = List.copyOf(nodes);
  }

  /** Starts {@code size} members with data directories under {@code dir}; returns when all serve. */
  public static EmbeddedCluster start(Path dir, int size) throws Exception {
    List<String> peers = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      try (ServerSocket s = new ServerSocket(0)) {
        peers.add("127.0.0.1:" + s.getLocalPort());
      }
    }
    List<EtcdNode> nodes = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      List<String> others = new ArrayList<>(peers);
      others.remove(i);
      nodes.add(EtcdNode.builder().name("node" + i).dataDir(dir.resolve("node" + i))
          .clientAddress("127.0.0.1:0").peerAddress(peers.get(i)).peers(others).build());
    }
    EmbeddedCluster cluster = new EmbeddedCluster(nodes);
    try {
      CompletableFuture.allOf(nodes.stream().map(EtcdNode::start).toArray(CompletableFuture[]::new))
          .get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  /** The members, in start order. */
  public List<EtcdNode> nodes() {
    return nodes;
  }

  /** Every member's client URL, such as {@code http://127.0.0.1:41234}. */
  public List<String> clientUrls() {
    return nodes.stream().map(EtcdNode::clientUrl).collect(Collectors.toList());
  }

  @Override public void close() {
    nodes.forEach(EtcdNode::close);
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
