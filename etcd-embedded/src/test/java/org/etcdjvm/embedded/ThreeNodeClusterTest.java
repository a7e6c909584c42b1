package org.etcdjvm.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.etcdjvm.embedded.internal.LocalCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three real in-process nodes on free loopback ports form one Raft group. */
class ThreeNodeClusterTest {
  @TempDir static Path dir;
  static final List<EtcdNode> nodes = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    List<String> peers = LocalCluster.peerAddresses(3);
    for (int i = 0; i < 3; i++) {
      nodes.add(LocalCluster.member(peers, i, "n" + i, dir.resolve("n" + i)).build());
    }
    LocalCluster.startAll(nodes, Duration.ofSeconds(60));
  }

  @AfterAll
  static void stop() {
    nodes.forEach(EtcdNode::close);
    nodes.clear(); // a closed node still holds Atomix's log buffers; later classes share this JVM
  }

  @Test
  void aWriteToAnyMemberIsReadableOnEveryMember() throws Exception {
    assertThat(nodes.stream().filter(EtcdNode::isLeader)).hasSize(1);
    EtcdNode follower = nodes.stream().filter(n -> !n.isLeader()).findFirst().orElseThrow();
    // curl -L: a follower redirects the write to the leader, the client follows
    HttpResponse<String> set = new V1Http(follower.clientUrl()).post("/v1/keys/shared", "value=everywhere");
    assertThat(set.statusCode()).isEqualTo(200);
    long index = V1Http.index(set.body());
    for (EtcdNode node : nodes) {
      V1Http curl = new V1Http(node.clientUrl());
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      HttpResponse<String> get = curl.get("/v1/keys/shared");
      while (get.statusCode() != 200 && System.nanoTime() < deadline) {
        Thread.sleep(20);
        get = curl.get("/v1/keys/shared");
      }
      assertThat(get.body()).startsWith("{\"action\":\"GET\",\"key\":\"/shared\",\"value\":\"everywhere\"");
      assertThat(V1Http.index(get.body())).isGreaterThanOrEqualTo(index);
      assertThat(curl.get("/v1/machines").body().split(", ")).hasSize(3);
    }
  }
}
