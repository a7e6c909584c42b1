package org.etcdjvm.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.embedded.EtcdNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real in-process clusters of one and three nodes, started, killed, restarted and closed. */
class EtcdClusterTest {
  @TempDir Path base;

  @Test
  void aSingleNodeServesAndCloseFreesItsPortsAndDeletesItsDirectory() throws Exception {
    EtcdCluster cluster = EtcdCluster.builder().baseDirectory(base)
        .configureNodes(b -> b.corsOrigins(List.of("https://app.example"))).build();
    assertThatThrownBy(cluster::clientUrls).isInstanceOf(IllegalStateException.class).hasMessageContaining("start()");
    assertThat(cluster.start()).isSameAs(cluster);
    assertThat(cluster.start()).as("start() again does nothing").isSameAs(cluster);
    EtcdNode node = cluster.node(0);
    try {
      assertThat(cluster.size()).isEqualTo(1);
      assertThat(cluster.clientUrl()).startsWith("http://127.0.0.1:").isEqualTo(node.clientUrl());
      assertThat(cluster.clientUrls()).containsExactly(node.clientUrl());
      assertThat(node.name()).isEqualTo("node0");
      assertThat(node.isLeader()).isTrue();
      assertThat(cluster.leaderIndex()).isZero();
      assertThat(node.dataDir()).startsWith(base);
      assertThat(cluster.toString()).contains("1 node", "running", node.clientUrl());

      EtcdClient etcd = cluster.client();
      assertThat(cluster.client()).isSameAs(etcd);
      etcd.set("/message", "Hello").send();
      assertThat(etcd.get("/message").send().value()).isEqualTo("Hello");
      // the node settings were applied: CORS for that origin
      HttpResponse<String> cors = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create(cluster.clientUrl() + "/v1/keys/message")).header("Origin", "https://app.example").build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(cors.headers().firstValue("Access-Control-Allow-Origin")).hasValue("https://app.example");
    } finally {
      cluster.close();
    }
    cluster.close(); // idempotent
    try (Stream<Path> left = Files.list(base)) {
      assertThat(left).as("the cluster's temporary directory is gone").isEmpty();
    }
    assertFree(URI.create(node.clientUrl()).getPort());
    assertFree(URI.create(node.peerUrl()).getPort());
    assertThatThrownBy(cluster::client).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    assertThatThrownBy(cluster::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    assertThatThrownBy(() -> cluster.node(0)).isInstanceOf(IllegalStateException.class);
  }

  /**
   * Three members: the leader is killed, the survivors elect a new one and take writes through the
   * cluster's client, and the killed member restarts on its data directory and ports and catches
   * up with what was written while it was down.
   */
  @Test
  void aKilledLeaderIsReplacedAndRestartsOnItsDataAndPorts() throws Exception {
    try (EtcdCluster cluster = EtcdCluster.builder().nodes(3).baseDirectory(base).build().start()) {
      List<String> urls = cluster.clientUrls();
      assertThat(urls).hasSize(3).doesNotHaveDuplicates();
      EtcdClient etcd = cluster.client();
      etcd.set("/before", "1").send();

      int leader = cluster.leaderIndex();
      EtcdNode killed = cluster.node(leader);
      Path dataDir = killed.dataDir();
      cluster.kill(leader);
      assertThatThrownBy(() -> cluster.node(leader)).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("restart(" + leader + ")");
      assertThatThrownBy(() -> cluster.kill(leader)).isInstanceOf(IllegalStateException.class);
      try (EtcdClient direct = EtcdClient.builder().endpoints(urls.get(leader)).autoSync(false).build()) {
        assertThatThrownBy(() -> direct.get("/before").send()).isInstanceOf(ConnectException.class);
      }

      int next = cluster.leaderIndex();
      assertThat(next).isNotEqualTo(leader);
      await(() -> {
        try {
          etcd.set("/during", "2").send();
          return true;
        } catch (Exception e) {
          return false; // the client learns the new leader
        }
      });

      EtcdNode restarted = cluster.restart(leader);
      assertThat(restarted).isNotSameAs(killed).isSameAs(cluster.node(leader));
      assertThat(restarted.dataDir()).isEqualTo(dataDir);
      assertThat(restarted.clientUrl()).isEqualTo(urls.get(leader));
      assertThat(restarted.peerUrl()).isEqualTo(killed.peerUrl());
      assertThat(cluster.clientUrls()).isEqualTo(urls);
      try (EtcdClient direct = EtcdClient.builder().endpoints(restarted.clientUrl()).autoSync(false).build()) {
        assertThat(direct.get("/before").send().value()).isEqualTo("1");
        await(() -> value(direct, "/during").equals("2"));
      }
    }
  }

  @Test
  void aFailedStartStopsEverythingAndLeavesNoDirectory() throws Exception {
    // no free disk space is ever enough: the members never get to serve clients
    EtcdCluster cluster = EtcdCluster.builder().nodes(3).baseDirectory(base).startTimeout(Duration.ofSeconds(2))
        .configureNodes(b -> b.minFreeDiskSpace(Long.MAX_VALUE)).build();
    assertThatThrownBy(cluster::start).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("etcd cluster of 3 did not start").hasMessageContaining("did not start within 2000 ms");
    try (Stream<Path> left = Files.list(base)) {
      assertThat(left).isEmpty();
    }
    cluster.close();
  }

  @Test
  void aBaseDirectoryThatIsAFileIsAnUncheckedIOException() throws Exception {
    Path file = Files.writeString(base.resolve("file"), "x");
    EtcdCluster cluster = EtcdCluster.builder().baseDirectory(file).build();
    assertThatThrownBy(cluster::start).isInstanceOf(UncheckedIOException.class);
  }

  @Test
  void theBuilderChecksItsArguments() {
    assertThatThrownBy(() -> EtcdCluster.builder().nodes(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> EtcdCluster.builder().nodes(10)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> EtcdCluster.builder().startTimeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> EtcdCluster.builder().startTimeout(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> EtcdCluster.builder().configureNodes(null)).isInstanceOf(NullPointerException.class);
    EtcdCluster unstarted = EtcdCluster.builder().build();
    assertThatThrownBy(() -> unstarted.node(1)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> unstarted.kill(0)).isInstanceOf(IllegalStateException.class);
    unstarted.close();
  }

  private static String value(EtcdClient etcd, String key) {
    try {
      var r = etcd.getOrNull(key);
      return r == null ? "" : r.value();
    } catch (Exception e) {
      return "";
    }
  }

  private static void assertFree(int port) throws Exception {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", port));
    }
  }

  static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 20 s");
      }
      Thread.sleep(10);
    }
  }
}
