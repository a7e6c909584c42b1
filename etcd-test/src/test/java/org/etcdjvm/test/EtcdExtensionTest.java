package org.etcdjvm.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/**
 * The extension's scope, checked by running small test classes with JUnit's {@link
 * EngineTestKit}: a static field gives the class (and its nested classes) one cluster, an
 * instance field gives each test its own, and each is closed when its scope ends.
 */
class EtcdExtensionTest {
  /** Clusters the sample classes saw, in the order they saw them. */
  static final List<EtcdCluster> seen = new ArrayList<>();

  @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
  static class PerClass {
    @RegisterExtension static EtcdExtension etcd = EtcdExtension.singleNode();

    @Test @Order(1) void first() throws Exception {
      seen.add(etcd.cluster());
      etcd.client().set("/shared", "from the first test").send();
      assertThat(etcd.clientUrls()).containsExactly(etcd.clientUrl());
      assertThat(etcd.node(0).isLeader()).isTrue();
    }

    @Test @Order(2) void second() throws Exception {
      seen.add(etcd.cluster());
      assertThat(etcd.client().get("/shared").send().value()).isEqualTo("from the first test");
    }

    @Nested class Inner {
      @Test void nestedClassesShareIt() {
        seen.add(etcd.cluster());
      }
    }
  }

  @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
  static class PerTest {
    @RegisterExtension EtcdExtension etcd = EtcdExtension.singleNode();

    @Test @Order(1) void first() throws Exception {
      seen.add(etcd.cluster());
      etcd.client().set("/mine", "first").send();
    }

    @Test @Order(2) void second() throws Exception {
      seen.add(etcd.cluster());
      assertThat(etcd.client().getOrNull("/mine")).as("a fresh cluster").isNull();
    }
  }

  static class ThreeMembers {
    @RegisterExtension static EtcdExtension etcd = EtcdExtension.cluster(3);

    @Test void killAndRestartThroughTheExtension() throws Exception {
      seen.add(etcd.cluster());
      int leader = etcd.leaderIndex();
      etcd.kill(leader);
      assertThatThrownBy(() -> etcd.node(leader)).isInstanceOf(IllegalStateException.class);
      assertThat(etcd.restart(leader).clientUrl()).isEqualTo(etcd.clientUrls().get(leader));
    }
  }

  @Test
  void aStaticFieldGivesTheClassOneClusterClosedAfterItsLastTest() {
    seen.clear();
    run(PerClass.class).assertStatistics(s -> s.started(3).succeeded(3));
    assertThat(seen).hasSize(3);
    assertThat(seen.get(1)).isSameAs(seen.get(0));
    assertThat(seen.get(2)).isSameAs(seen.get(0));
    assertClosed(seen.get(0));
  }

  @Test
  void anInstanceFieldGivesEachTestItsOwnClusterClosedAfterIt() {
    seen.clear();
    run(PerTest.class).assertStatistics(s -> s.started(2).succeeded(2));
    assertThat(seen).hasSize(2);
    assertThat(seen.get(1)).isNotSameAs(seen.get(0));
    assertClosed(seen.get(0));
    assertClosed(seen.get(1));
  }

  @Test
  void aClusterOfThreeThroughTheExtension() {
    seen.clear();
    run(ThreeMembers.class).assertStatistics(s -> s.started(1).succeeded(1));
    assertThat(seen.get(0).size()).isEqualTo(3);
    assertClosed(seen.get(0));
  }

  @Test
  void outsideATestTheAccessorsSayHowToRegisterIt() {
    EtcdExtension idle = EtcdExtension.cluster(3);
    assertThatThrownBy(idle::client).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("@RegisterExtension");
    assertThatThrownBy(() -> EtcdExtension.cluster(0)).isInstanceOf(IllegalArgumentException.class);
  }

  private static Events run(Class<?> testClass) {
    return EngineTestKit.engine("junit-jupiter").selectors(selectClass(testClass)).execute().testEvents()
        .debug(System.out);
  }

  private static void assertClosed(EtcdCluster cluster) {
    assertThatThrownBy(cluster::clientUrls).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
  }
}
