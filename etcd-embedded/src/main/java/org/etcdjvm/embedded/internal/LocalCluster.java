package org.etcdjvm.embedded.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.etcdjvm.embedded.EtcdNode;

/**
 * Members of one Raft group on loopback, in this JVM or in child processes: for bin/etcd-node's
 * class-data-sharing training run and for etcd-embedded's own tests (which cannot use etcd-test:
 * it depends on this module). etcd-test's {@code EtcdCluster}, the public form of this, takes its
 * ports from {@link #freePort()}. Not a public API. Thread-safe.
 */
public final class LocalCluster {
  private static final Set<Integer> handedOut = ConcurrentHashMap.newKeySet();

  private LocalCluster() {
  }

  /**
   * A loopback port that is free now and not handed out before by this JVM, chosen below Linux's
   * ephemeral range (32768-60999): a port from {@code new ServerSocket(0)} can be taken, before its
   * user binds it, as the local end of some outgoing connection (other members' Raft connections
   * among them).
   */
  public static int freePort() throws IOException {
    return freePort("127.0.0.1");
  }

  /** As {@link #freePort()}, free on {@code host} (an address of this machine, or a wildcard). */
  public static int freePort(String host) throws IOException {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 1000; attempt++) {
      int port = random.nextInt(20_000, 32_000);
      if (!handedOut.add(port)) {
        continue;
      }
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress(host, port));
        return port;
      } catch (IOException taken) {
        // try another
      }
    }
    throw new IOException("no free port in 20000-32000");
  }

  /** {@code members} free peer addresses ({@code 127.0.0.1:port}), one per member. */
  public static List<String> peerAddresses(int members) throws IOException {
    List<String> peers = new ArrayList<>();
    for (int i = 0; i < members; i++) {
      peers.add("127.0.0.1:" + freePort());
    }
    return peers;
  }

  /**
   * Member {@code i} of the group whose peer addresses are {@code peers}: its own peer address,
   * the others as peers, a client port chosen at start.
   */
  public static EtcdNode.Builder member(List<String> peers, int i, String name, Path dataDir) {
    List<String> others = new ArrayList<>(peers);
    String self = others.remove(i);
    return EtcdNode.builder().name(name).dataDir(dataDir)
        .clientAddress("127.0.0.1:0").peerAddress(self).peers(others);
  }

  /** Starts every node at once and waits for all; on failure closes them all and rethrows. */
  public static List<EtcdNode> startAll(List<EtcdNode> nodes, Duration timeout) throws Exception {
    List<CompletableFuture<EtcdNode>> starting = new ArrayList<>();
    nodes.forEach(node -> starting.add(node.start()));
    try {
      CompletableFuture.allOf(starting.toArray(CompletableFuture[]::new)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      nodes.forEach(EtcdNode::close);
      throw e;
    }
    return nodes;
  }
}
