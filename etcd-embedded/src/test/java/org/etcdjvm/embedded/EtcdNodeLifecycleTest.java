package org.etcdjvm.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Starting, closing and restarting real nodes: ports and threads are given back, a taken port is a
 * clear failure, and a node restarted on its data directory serves everything written before.
 */
class EtcdNodeLifecycleTest {
  @TempDir Path tmp;

  @Test
  void closeFreesBothPortsAndARestartOnTheSameDataDirServesEveryKeyWrittenBefore() throws Exception {
    Set<Thread> baseline = threads();
    Path data = tmp.resolve("data");
    EtcdNode first = EtcdNode.builder().dataDir(data).clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0").build();
    CompletableFuture<EtcdNode> started = first.start();
    assertThat(first.start()).as("start() is idempotent").isSameAs(started);
    assertThat(started.get(30, TimeUnit.SECONDS)).isSameAs(first);
    assertThat(first.start()).isSameAs(started);
    assertThat(first.isLeader()).isTrue();
    int clientPort = URI.create(first.clientUrl()).getPort();
    int peerPort = URI.create(first.peerUrl()).getPort();

    V1Http curl = new V1Http(first.clientUrl());
    HttpResponse<String> a = curl.post("/v1/keys/persist/a", "value=1");
    curl.post("/v1/keys/persist/b", "value=2");
    curl.post("/v1/keys/persist/sub/c", "value=3");
    curl.post("/v1/keys/persist/empty/x", "value=gone");
    curl.delete("/v1/keys/persist/empty/x");                      // leaves an empty directory
    curl.post("/v1/keys/cas", "value=one");
    curl.post("/v1/keys/cas", "prevValue=one", "value=two");
    HttpResponse<String> ttl = curl.post("/v1/keys/ttl", "value=t", "ttl=120");
    curl.post("/v1/keys/short", "value=s", "ttl=1");               // expires while the node is down
    String listing = curl.get("/v1/keys/persist").body();
    String sub = curl.get("/v1/keys/persist/sub").body();
    long indexBefore = V1Http.index(listing);
    String expiration = (String) Json.object(ttl.body()).get("expiration");

    first.close();
    first.close(); // idempotent
    assertFree(clientPort);
    assertFree(peerPort);
    assertNoNewNonDaemonThreads(baseline);

    EtcdNode second = EtcdNode.builder().dataDir(data)
        .clientAddress("127.0.0.1:" + clientPort).peerAddress("127.0.0.1:" + peerPort).build();
    try {
      second.start().get(30, TimeUnit.SECONDS);
      assertThat(second.clientUrl()).isEqualTo("http://127.0.0.1:" + clientPort);
      curl = new V1Http(second.clientUrl());

      String relisted = curl.get("/v1/keys/persist").body();
      long indexAfter = V1Http.index(relisted);
      assertThat(indexAfter).isGreaterThanOrEqualTo(indexBefore);
      assertThat(relisted).isEqualTo(listing.replace("\"index\":" + indexBefore, "\"index\":" + indexAfter))
          .contains("{\"action\":\"GET\",\"key\":\"/persist/empty\",\"dir\":true,");
      assertThat(curl.get("/v1/keys/persist/sub").body())
          .isEqualTo(sub.replace("\"index\":" + indexBefore, "\"index\":" + indexAfter));
      assertThat(curl.get("/v1/keys/persist/empty").body()).isEqualTo("[]");
      assertThat(curl.get("/v1/keys/cas").body()).contains("\"value\":\"two\"");

      Map<String, Object> ttlKey = Json.object(curl.get("/v1/keys/ttl").body());
      assertThat(ttlKey.get("value")).isEqualTo("t");
      assertThat(ttlKey.get("expiration")).isEqualTo(expiration);
      assertThat((Long) ttlKey.get("ttl")).isBetween(60L, 119L);

      // The watch history came back with the log: an old event is replayed as it was.
      assertThat(curl.post("/v1/watch/persist/a", "index=" + V1Http.index(a.body())).body()).isEqualTo(a.body());

      // The 1 s key expired while the node was down; it goes at the first tick.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      HttpResponse<String> shortKey = curl.get("/v1/keys/short");
      while (shortKey.statusCode() == 200 && System.nanoTime() < deadline) {
        Thread.sleep(50);
        shortKey = curl.get("/v1/keys/short");
      }
      assertThat(shortKey.body()).isEqualTo("{\"errorCode\":100,\"message\":\"Key Not Found\",\"cause\":\"get: /short\"}\n");

      // Writes go on from there.
      HttpResponse<String> more = curl.post("/v1/keys/persist/d", "value=4");
      assertThat(more.statusCode()).isEqualTo(200);
      assertThat(V1Http.index(more.body())).isGreaterThan(indexAfter);
    } finally {
      second.close();
    }
    assertFree(clientPort);
    assertFree(peerPort);
    assertNoNewNonDaemonThreads(baseline);
  }

  @Test
  void aSecondNodeOnATakenClientPortFailsNamingTheAddressAndLeavesNothingBehind() throws Exception {
    Set<Thread> baseline = threads();
    EtcdNode first = EtcdNode.builder().dataDir(tmp.resolve("one"))
        .clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0").build();
    try {
      first.start().get(30, TimeUnit.SECONDS);
      String taken = first.clientUrl().substring("http://".length());
      EtcdNode second = EtcdNode.builder().name("two").dataDir(tmp.resolve("two"))
          .clientAddress(taken).peerAddress("127.0.0.1:0").startTimeout(Duration.ofSeconds(10)).build();
      long begin = System.nanoTime();
      assertThatThrownBy(() -> second.start().get(15, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause().hasMessageContaining(taken).hasMessageContaining("in use");
      assertThat(Duration.ofNanos(System.nanoTime() - begin)).isLessThan(Duration.ofSeconds(5));
      second.close();
      assertFree(URI.create(second.peerUrl()).getPort());

      // The first node is unharmed.
      assertThat(new V1Http(first.clientUrl()).post("/v1/keys/still", "value=here").statusCode()).isEqualTo(200);
    } finally {
      first.close();
    }
    assertNoNewNonDaemonThreads(baseline);
  }

  /**
   * close() while the start is still going on, at points spread over the whole start (data
   * directory, peer messaging, Raft log, election, session): the start fails or had finished, and
   * nothing is left running. A close in the middle of a step once let the steps after it start
   * Atomix's threads, and a cluster stopped while starting kept its own.
   */
  @Test
  void closingAtAnyPointOfTheStartLeavesNoThreadBehind() throws Exception {
    Set<Thread> baseline = threads();
    for (int delayMillis = 0; delayMillis <= 400; delayMillis += 25) {
      EtcdNode node = EtcdNode.builder().dataDir(tmp.resolve("closed-at-" + delayMillis))
          .clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0").build();
      CompletableFuture<EtcdNode> started = node.start();
      Thread.sleep(delayMillis); // not a wait for a condition: where in the start the close lands
      node.close();
      try {
        started.get(10, TimeUnit.SECONDS);
      } catch (ExecutionException closedWhileStarting) {
        // expected unless the start had finished
      }
      assertThat(node.whenClosed()).as("closed %d ms into the start", delayMillis)
          .succeedsWithin(Duration.ofSeconds(10));
    }
    assertNoNewNonDaemonThreads(baseline);
  }

  @Test
  void aSecondNodeOnATakenPeerPortFailsNamingTheAddressAndFreesItsClientPort() throws Exception {
    try (ServerSocket squatter = new ServerSocket()) {
      squatter.bind(new InetSocketAddress("127.0.0.1", 0));
      String taken = "127.0.0.1:" + squatter.getLocalPort();
      EtcdNode node = EtcdNode.builder().dataDir(tmp.resolve("peer"))
          .clientAddress("127.0.0.1:0").peerAddress(taken).startTimeout(Duration.ofSeconds(10)).build();
      long begin = System.nanoTime();
      assertThatThrownBy(() -> node.start().get(15, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause().hasMessageContaining(taken).hasMessageContaining("in use");
      assertThat(Duration.ofNanos(System.nanoTime() - begin)).isLessThan(Duration.ofSeconds(5));
      assertFree(URI.create(node.clientUrl()).getPort());
      node.close();
    }
  }

  @Test
  void aFailedStartOnATakenPeerPortLeavesNoThreadBehind() throws Exception {
    Set<Thread> baseline = threads();
    try (ServerSocket squatter = new ServerSocket()) {
      squatter.bind(new InetSocketAddress("127.0.0.1", 0));
      EtcdNode node = EtcdNode.builder().dataDir(tmp.resolve("peer2")).clientAddress("127.0.0.1:0")
          .peerAddress("127.0.0.1:" + squatter.getLocalPort()).startTimeout(Duration.ofSeconds(10)).build();
      assertThatThrownBy(() -> node.start().get(15, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
      node.close();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    List<String> left;
    do {
      Thread.sleep(100);
      left = Thread.getAllStackTraces().keySet().stream()
          .filter(t -> !baseline.contains(t) && t.isAlive() && t.getName().startsWith("netty-messaging"))
          .map(Thread::getName).collect(Collectors.toList());
    } while (!left.isEmpty() && System.nanoTime() < deadline);
    assertThat(left).as("Atomix messaging threads left after a failed start").isEmpty();
  }

  @Test
  void aDataDirThatIsAFileFailsTheStartAndLeavesNothingBehind() throws Exception {
    Set<Thread> baseline = threads();
    Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
    EtcdNode node = EtcdNode.builder().dataDir(file).clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0")
        .startTimeout(Duration.ofSeconds(10)).build();
    assertThatThrownBy(() -> node.start().get(15, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
    assertFree(URI.create(node.clientUrl()).getPort());
    awaitFree(URI.create(node.peerUrl()).getPort());
    node.close();
    assertNoNewNonDaemonThreads(baseline);
  }

  @Test
  void aDataDirThatIsAFileFailsTheStartAtOnceWithAMessageNamingIt() throws Exception {
    Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
    EtcdNode node = EtcdNode.builder().dataDir(file).clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0")
        .startTimeout(Duration.ofSeconds(10)).build();
    long begin = System.nanoTime();
    assertThatThrownBy(() -> node.start().get(15, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause().hasMessageContaining(file.toString());
    assertThat(Duration.ofNanos(System.nanoTime() - begin)).isLessThan(Duration.ofSeconds(3));
    assertFree(URI.create(node.peerUrl()).getPort());
    node.close();
  }

  @Test
  void aStartTimeoutNamesWhatTheNodeIsStillWaitingFor() {
    EtcdNode node = EtcdNode.builder().dataDir(tmp.resolve("alone")).clientAddress("127.0.0.1:0")
        .peerAddress("127.0.0.1:0").peers("127.0.0.1:1").startTimeout(Duration.ofSeconds(2)).build();
    try {
      assertThatThrownBy(() -> node.start().get(15, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause().hasMessageContaining("did not start within 2000 ms")
          .hasMessageContaining("an answer from any of the peers [127.0.0.1:1]");
    } finally {
      node.close();
    }
  }

  @Test
  void clientUrlBeforeStartThrowsAndAClosedNodeDoesNotStart() throws Exception {
    EtcdNode node = EtcdNode.builder().dataDir(tmp.resolve("unstarted"))
        .clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0").build();
    assertThatThrownBy(node::clientUrl).isInstanceOf(IllegalStateException.class).hasMessageContaining("default");
    assertThat(node.peerUrl()).startsWith("http://127.0.0.1:");
    assertThat(node.name()).isEqualTo("default");
    assertThat(node.isLeader()).isFalse();
    node.close();
    assertThatThrownBy(() -> node.start().get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    assertThatThrownBy(node::clientUrl).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void theBuilderRejectsBadArguments() {
    EtcdNode.Builder b = EtcdNode.builder();
    for (String address : new String[] {"localhost", "localhost:", ":4001", "localhost:abc", "localhost:65536",
        "localhost:-1", "", ":"}) {
      assertThatThrownBy(() -> b.clientAddress(address)).as(address)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"" + address + "\"");
      assertThatThrownBy(() -> b.peerAddress(address)).as(address).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> b.peers("127.0.0.1:7002", address)).as(address)
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> b.clientAddress(null)).isInstanceOf(NullPointerException.class);

    for (Duration bad : new Duration[] {Duration.ofSeconds(-1), Duration.ofMillis(-1), Duration.ZERO}) {
      assertThatThrownBy(() -> b.startTimeout(bad)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("startTimeout");
      assertThatThrownBy(() -> b.commitTimeout(bad)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("commitTimeout");
      assertThatThrownBy(() -> b.electionTimeout(bad)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("electionTimeout");
      assertThatThrownBy(() -> b.heartbeatInterval(bad)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("heartbeatInterval");
    }
    assertThatThrownBy(() -> b.startTimeout(null)).isInstanceOf(NullPointerException.class);

    for (String name : new String[] {"", " ", "a b", "a/b", "../x", "é"}) {
      assertThatThrownBy(() -> b.name(name)).as(name).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("\"" + name + "\"");
    }
    assertThatThrownBy(() -> b.name(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> b.dataDir(null)).isInstanceOf(NullPointerException.class);

    assertThatThrownBy(() -> b.maxKeyBytes(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxKeyBytes");
    assertThatThrownBy(() -> b.maxValueBytes(-1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxValueBytes");
    assertThatThrownBy(() -> b.maxBodyBytes(1023)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxBodyBytes");
    assertThatThrownBy(() -> b.historySize(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("historySize");
    assertThatThrownBy(() -> b.maxWatchers(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxWatchers");
    assertThatThrownBy(() -> b.maxConnections(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxConnections");

    // None of the rejected calls changed the builder: it still builds a node with the defaults.
    EtcdNode node = b.build();
    assertThat(node.name()).isEqualTo("default");
    assertThat(node.peerUrl()).isEqualTo("http://127.0.0.1:7001");
    assertThat(node.dataDir()).isEqualTo(Path.of("default.etcd"));
    node.close();
  }

  // ---------------------------------------------------------------- helpers

  private static Set<Thread> threads() {
    return Set.copyOf(Thread.getAllStackTraces().keySet());
  }

  /** Waits up to 5 s for every non-daemon thread started since {@code baseline} to end. */
  private static void assertNoNewNonDaemonThreads(Set<Thread> baseline) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    List<String> left;
    do {
      left = Thread.getAllStackTraces().keySet().stream()
          .filter(t -> !baseline.contains(t) && t.isAlive() && !t.isDaemon())
          .map(Thread::getName).sorted().collect(Collectors.toList());
      if (left.isEmpty()) {
        return;
      }
      Thread.sleep(100);
    } while (System.nanoTime() < deadline);
    assertThat(left).as("non-daemon threads left running 5 s after close()").isEmpty();
  }

  private static void awaitFree(int port) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
    while (true) {
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress("127.0.0.1", port));
        return;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("port " + port + " still taken 8 s after a failed start", e);
        }
        Thread.sleep(100);
      }
    }
  }

  private static void assertFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", port));
    } catch (IOException e) {
      throw new AssertionError("port " + port + " still taken after close(): " + e, e);
    }
  }
}
