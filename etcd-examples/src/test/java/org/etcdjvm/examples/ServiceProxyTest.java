package org.etcdjvm.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.embedded.EtcdNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServiceProxyTest {
  @TempDir static Path dir;
  static EtcdNode node;
  static EtcdClient etcd;

  @BeforeAll static void start() throws Exception {
    // a short history, so the second test's proxy starts from a resync instead of a replay
    node = EtcdNode.builder().dataDir(dir).clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0").historySize(20).build();
    node.start().get(30, TimeUnit.SECONDS);
    etcd = EtcdClient.builder().endpoints(node.clientUrl()).build();
  }

  @AfterAll static void stop() {
    etcd.close();
    node.close();
  }

  @Test void theRoutingTableFollowsAnnouncementsRemovalsAndExpiries() throws Exception {
    etcd.set("/foo-service/container1", "localhost:1111").send(); // before the proxy: replayed
    try (ServiceProxy proxy = new ServiceProxy(etcd, "/foo-service")) {
      await(() -> proxy.routes().equals(Map.of("container1", "localhost:1111")));

      etcd.set("/foo-service/container2", "localhost:2222").send();
      etcd.set("/foo-service/container3", "localhost:3333").ttl(Duration.ofSeconds(1)).send();
      await(() -> proxy.routes().size() == 3);
      assertThat(proxy.routes()).containsEntry("container2", "localhost:2222").containsEntry("container3", "localhost:3333");
      assertThat(new String[] {proxy.route(), proxy.route(), proxy.route()})
          .containsExactlyInAnyOrder("localhost:1111", "localhost:2222", "localhost:3333");

      etcd.delete("/foo-service/container1").send();
      etcd.set("/foo-service/container2", "localhost:2223").send(); // moved
      await(() -> proxy.routes().equals(Map.of("container2", "localhost:2223", "container3", "localhost:3333")));

      await(() -> proxy.routes().equals(Map.of("container2", "localhost:2223"))); // container3 expired
      etcd.set("/other-service/x", "localhost:9999").send();
      etcd.delete("/foo-service/container2").send();
      await(() -> proxy.routes().isEmpty());
      assertThat(proxy.route()).isNull();
    }
  }

  @Test void aProxyStartedAfterTheHistoryWasClearedStartsFromTheListing() throws Exception {
    for (int i = 0; i < 30; i++) etcd.set("/bar-service/c" + i, "localhost:" + (5000 + i)).send();
    etcd.delete("/bar-service/c0").send();
    try (ServiceProxy proxy = new ServiceProxy(etcd, "bar-service/")) {
      await(() -> proxy.routes().size() == 29);
      assertThat(proxy.routes()).doesNotContainKey("c0").containsEntry("c29", "localhost:5029");
      etcd.set("/bar-service/c30", "localhost:5030").send();
      await(() -> proxy.routes().size() == 30);
    }
  }

  @Test void mainRuns() throws Exception {
    ServiceProxy.run(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
  }

  static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("not within 5 s");
      Thread.sleep(10);
    }
  }
}
