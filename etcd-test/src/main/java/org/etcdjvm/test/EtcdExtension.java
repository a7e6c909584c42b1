package org.etcdjvm.test;

import java.util.List;
import java.util.Objects;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.embedded.EtcdNode;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit 5 extension that runs an {@link EtcdCluster} for your tests.
 *
 * <pre>{@code
 * class InventoryTest {
 *   @RegisterExtension static EtcdExtension etcd = EtcdExtension.singleNode();
 *
 *   @Test void storesTheCount() throws Exception {
 *     etcd.client().set("/inventory/apples", "3").send();
 *     assertEquals("3", etcd.client().get("/inventory/apples").send().value());
 *   }
 * }
 * }</pre>
 *
 * <p><b>Scope</b> follows the field: on a {@code static} field, one cluster for the whole test
 * class (started before its first test and its {@code @BeforeAll} methods, closed after the last;
 * {@code @Nested} classes share it); on an instance field, a fresh cluster for each test (closed
 * after the test's {@code @AfterEach} methods). Per class is much faster: starting is cheap, but
 * closing takes about 2 s. Keys written by one test are seen by the next in a per-class cluster,
 * and a member one test kills stays killed until restarted. Register it with
 * {@code @RegisterExtension}; {@code @ExtendWith} cannot configure it.
 *
 * <p><b>Defaults</b> are those of {@link EtcdCluster.Builder}; {@link #of} takes a builder for
 * anything else, e.g. {@code EtcdExtension.of(EtcdCluster.builder().nodes(3).configureNodes(b ->
 * b.historySize(10)))}.
 *
 * <p><b>Failures.</b> When the cluster cannot start the test class (or test) fails with
 * {@link EtcdCluster#start()}'s {@link IllegalStateException}; a JVM without the {@code
 * --add-opens} flags Atomix needs gets the Surefire and Gradle lines to paste. The accessors
 * throw {@link IllegalStateException} when no cluster is running (outside a test, or in a test
 * that the extension does not cover).
 *
 * <p><b>Thread-safety.</b> The accessors may be called from any thread, including from tests
 * running in parallel on a per-class cluster.
 */
public final class EtcdExtension implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, AfterAllCallback {
  private final EtcdCluster.Builder config;
  private volatile EtcdCluster cluster;
  /** The test class whose {@code beforeAll} started the cluster; null for a per-test cluster. */
  private Class<?> owner;

  private EtcdExtension(EtcdCluster.Builder config) {
    this.config = config;
  }

  /**
   * One node.
   *
   * @return an extension that starts a single-member cluster
   */
  public static EtcdExtension singleNode() {
    return of(EtcdCluster.builder());
  }

  /**
   * A cluster of {@code nodes} members, formed before the first test.
   *
   * @param nodes how many members, 1 to 9
   * @return an extension that starts a cluster of that many members
   */
  public static EtcdExtension cluster(int nodes) {
    return of(EtcdCluster.builder().nodes(nodes));
  }

  /**
   * A cluster configured by {@code builder}, which is copied: changing it later changes nothing.
   *
   * @param builder the cluster's configuration
   * @return an extension that starts such clusters
   */
  public static EtcdExtension of(EtcdCluster.Builder builder) {
    return new EtcdExtension(Objects.requireNonNull(builder, "builder == null").copy());
  }

  @Override
  public synchronized void beforeAll(ExtensionContext context) {
    if (cluster == null) {
      cluster = config.build().start();
      owner = context.getRequiredTestClass();
    }
  }

  @Override
  public synchronized void beforeEach(ExtensionContext context) {
    if (cluster == null) {
      cluster = config.build().start();
    }
  }

  @Override
  public synchronized void afterEach(ExtensionContext context) {
    if (owner == null) {
      closeCluster();
    }
  }

  @Override
  public synchronized void afterAll(ExtensionContext context) {
    if (owner != null && owner == context.getRequiredTestClass()) {
      owner = null;
      closeCluster();
    }
  }

  private void closeCluster() {
    EtcdCluster c = cluster;
    cluster = null;
    if (c != null) {
      c.close();
    }
  }

  /**
   * The running cluster, for what the shortcuts below do not cover (such as {@link
   * EtcdCluster#size()}).
   *
   * @return the cluster of the current test class or test
   * @throws IllegalStateException if none is running
   */
  public EtcdCluster cluster() {
    EtcdCluster c = cluster;
    if (c == null) {
      throw new IllegalStateException("no etcd cluster is running here: register the EtcdExtension with"
          + " @RegisterExtension on a static field (one cluster per test class) or an instance field (one per test),"
          + " and use it from a test or a @BeforeEach/@AfterEach method");
    }
    return c;
  }

  /**
   * Member 0's client URL; see {@link EtcdCluster#clientUrl()}.
   *
   * @return a URL such as {@code http://127.0.0.1:24011}
   */
  public String clientUrl() {
    return cluster().clientUrl();
  }

  /**
   * Every member's client URL; see {@link EtcdCluster#clientUrls()}.
   *
   * @return the URLs, in member order
   */
  public List<String> clientUrls() {
    return cluster().clientUrls();
  }

  /**
   * A client over every member, closed with the cluster; see {@link EtcdCluster#client()}.
   *
   * @return the cluster's shared client
   */
  public EtcdClient client() {
    return cluster().client();
  }

  /**
   * Member {@code i}'s running node; see {@link EtcdCluster#node(int)}.
   *
   * @param i the member's index, from 0
   * @return its node
   */
  public EtcdNode node(int i) {
    return cluster().node(i);
  }

  /**
   * The index of the member that leads now, waiting for an election to settle; see {@link
   * EtcdCluster#leaderIndex()}.
   *
   * @return the leader's index, from 0
   */
  public int leaderIndex() {
    return cluster().leaderIndex();
  }

  /**
   * Stops member {@code i} as a crash would; see {@link EtcdCluster#kill(int)} for what that means
   * in one JVM.
   *
   * @param i the member's index, from 0
   */
  public void kill(int i) {
    cluster().kill(i);
  }

  /**
   * Starts member {@code i} again on its data directory and ports; see {@link
   * EtcdCluster#restart(int)}.
   *
   * @param i the member's index, from 0
   * @return its new node, serving
   */
  public EtcdNode restart(int i) {
    return cluster().restart(i);
  }
}
