package org.etcdjvm.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.embedded.EtcdNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedClusterTest {
  @TempDir Path dir;

  @Test void threeMembersJoinOneByOneReplicateAndStopFreeingTheirPorts() throws Exception {
    EmbeddedCluster cluster = EmbeddedCluster.start(dir, 3);
    assertThat(cluster.nodes()).extracting(EtcdNode::name).containsExactly("node0", "node1", "node2");
    try (EtcdClient etcd = EtcdClient.builder().endpoints(cluster.clientUrls()).build()) {
      assertThat(cluster.clientUrls()).hasSize(3).doesNotHaveDuplicates().allMatch(u -> u.startsWith("http://127.0.0.1:"));
      ServiceProxyTest.await(() -> cluster.nodes().stream().filter(EtcdNode::isLeader).count() == 1);
      // each member registers itself; a follower answers from its replica, which may trail by a heartbeat
      ServiceProxyTest.await(() -> {
        try {
          return etcd.machines().send().size() == 3;
        } catch (Exception e) {
          return false;
        }
      });
      assertThat(etcd.machines().send()).containsExactlyInAnyOrderElementsOf(cluster.clientUrls());
      long index = etcd.set("/hello", "cluster").send().index();
      for (String url : cluster.clientUrls()) {
        try (EtcdClient one = EtcdClient.builder().endpoints(url).autoSync(false).build()) {
          ServiceProxyTest.await(() -> {
            try {
              return one.getOrNull("/hello") != null;
            } catch (Exception e) {
              return false;
            }
          });
          assertThat(one.get("/hello").send().index()).isGreaterThanOrEqualTo(index);
        }
      }
    } finally {
      cluster.close();
    }
    try (EtcdClient stopped = EtcdClient.builder().endpoints(cluster.clientUrls()).autoSync(false).build()) {
      assertThatThrownBy(() -> stopped.get("/hello").send()).isInstanceOf(ConnectException.class);
    }
    for (EtcdNode node : cluster.nodes()) { // every client and peer port is free again
      for (String url : List.of(node.clientUrl(), node.peerUrl())) {
        try (ServerSocket s = new ServerSocket()) {
          s.bind(new InetSocketAddress("127.0.0.1", URI.create(url).getPort()));
        }
      }
    }
  }
}
