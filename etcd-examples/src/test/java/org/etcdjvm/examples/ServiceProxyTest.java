package org.etcdjvm.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.client.Watch;
import org.etcdjvm.client.WatchEvent;
import org.etcdjvm.test.EtcdCluster;
import org.etcdjvm.test.EtcdExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The proxy, two real backends and one real etcd node, all in this JVM on loopback. */
class ServiceProxyTest {
  // a short history, so that a proxy started late begins from a resync instead of a replay
  @RegisterExtension static final EtcdExtension etcd =
      EtcdExtension.of(EtcdCluster.builder().configureNodes(b -> b.historySize(20)));

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();

  /** One request through the proxy, from its start to its answer. */
  record Exchange(long startedNanos, int status, String body) {}

  /**
   * Both backends answer, in turn. Then b stops heartbeating (it keeps serving): its key expires,
   * and every request sent once the proxy has seen the expiry reaches a. A client keeps sending
   * requests the whole time; none fails.
   */
  @Test
  void bothBackendsAnswerAndOnceAnExpiryIsSeenEveryRequestReachesTheSurvivor() throws Exception {
    EtcdClient client = etcd.client();
    BlockingQueue<WatchEvent> expiries = new LinkedBlockingQueue<>();
    try (Watch expiryWatch = client.watch("/foo-service").onExpire(expiries::add).start();
        Backend a = Backend.start(client, "/foo-service", "a", Duration.ofSeconds(1));
        Backend b = Backend.start(client, "/foo-service", "b", Duration.ofSeconds(1));
        ServiceProxy proxy = ServiceProxy.start(client, "/foo-service")) {
      await(() -> proxy.backends().equals(Map.of("a", a.address(), "b", b.address())));

      List<String> answers = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        Exchange e = get(proxy, "/hello?n=" + i);
        assertThat(e.status()).isEqualTo(200);
        answers.add(e.body());
      }
      assertThat(answers).as("round robin over a and b").containsExactly(
          answers.get(0), answers.get(1), answers.get(0), answers.get(1), answers.get(0), answers.get(1));
      assertThat(answers.subList(0, 2)).containsExactlyInAnyOrder("hello from a", "hello from b");

      ConcurrentLinkedQueue<Exchange> exchanges = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
      Thread load = new Thread(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          try {
            exchanges.add(get(proxy, "/load"));
          } catch (InterruptedException e) {
            return;
          } catch (Exception e) {
            failures.add(e);
          }
        }
      }, "load");
      load.start();
      try {
        b.stopHeartbeat();
        await(() -> !proxy.backends().containsKey("b"));
        long sawExpiry = System.nanoTime(); // the proxy's table changed before this instant
        WatchEvent expiry = expiries.poll(10, TimeUnit.SECONDS);
        assertThat(expiry).isNotNull();
        assertThat(expiry.key()).isEqualTo("/foo-service/b");
        assertThat(proxy.backends()).containsOnlyKeys("a");
        int served = exchanges.size();
        await(() -> exchanges.size() >= served + 100); // a hundred requests after the expiry
        load.interrupt();
        load.join(10_000);

        assertThat(failures).as("no request failed").isEmpty();
        List<Exchange> afterExpiry = exchanges.stream().filter(e -> e.startedNanos() - sawExpiry > 0).toList();
        assertThat(afterExpiry).hasSizeGreaterThanOrEqualTo(99)
            .allSatisfy(e -> assertThat(e.status() + " " + e.body()).isEqualTo("200 hello from a"));
        assertThat(exchanges).allSatisfy(e -> assertThat(e.status()).isEqualTo(200));
      } finally {
        load.interrupt();
      }
    }
  }

  /**
   * A backend whose key is still there but whose port refuses connections (it crashed before its
   * TTL ran out): requests it would get go to the next backend, since they never reached it.
   */
  @Test
  void aRequestThatCannotConnectGoesToTheNextBackend() throws Exception {
    EtcdClient client = etcd.client();
    String dead;
    try (ServerSocket s = new ServerSocket(0)) {
      dead = "127.0.0.1:" + s.getLocalPort();
    }
    client.set("/bar-service/crashed", dead).ttl(Duration.ofSeconds(30)).send();
    try (Backend alive = Backend.start(client, "/bar-service", "alive", Duration.ofSeconds(5));
        ServiceProxy proxy = ServiceProxy.start(client, "/bar-service")) {
      await(() -> proxy.backends().size() == 2);
      for (int i = 0; i < 6; i++) {
        assertThat(get(proxy, "/").body()).isEqualTo("hello from alive");
      }
      assertThat(alive.requests()).isEqualTo(6);
    } finally {
      client.delete("/bar-service/crashed").send();
    }
  }

  @Test
  void noBackendIs503AndAPostIsForwardedWithItsBody() throws Exception {
    EtcdClient client = etcd.client();
    try (ServiceProxy proxy = ServiceProxy.start(client, "/empty-service")) {
      assertThat(get(proxy, "/").status()).isEqualTo(503);
      try (Backend one = Backend.start(client, "/empty-service", "one", Duration.ofSeconds(5))) {
        await(() -> proxy.backends().size() == 1);
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(proxy.url() + "/submit"))
            .POST(HttpRequest.BodyPublishers.ofString("x=1")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(200);
        assertThat(post.headers().firstValue("X-Backend")).hasValue("one");
      }
      await(() -> proxy.backends().isEmpty()); // closed: it deregistered itself
    }
  }

  /** The backend table follows announcements, moves, deletions and expiries, from the watch alone. */
  @Test
  void theTableFollowsAnnouncementsRemovalsAndExpiries() throws Exception {
    EtcdClient client = etcd.client();
    client.set("/table-service/container1", "localhost:1111").send(); // before the proxy: replayed
    try (ServiceProxy proxy = ServiceProxy.start(client, "/table-service")) {
      await(() -> proxy.backends().equals(Map.of("container1", "localhost:1111")));
      client.set("/table-service/container2", "localhost:2222").send();
      client.set("/table-service/container3", "localhost:3333").ttl(Duration.ofSeconds(1)).send();
      await(() -> proxy.backends().size() == 3);
      client.delete("/table-service/container1").send();
      client.set("/table-service/container2", "localhost:2223").send(); // moved
      await(() -> proxy.backends().equals(Map.of("container2", "localhost:2223", "container3", "localhost:3333")));
      await(() -> proxy.backends().equals(Map.of("container2", "localhost:2223"))); // container3 expired
      client.set("/other-service/x", "localhost:9999").send();
      client.delete("/table-service/container2").send();
      await(() -> proxy.backends().isEmpty());
    }
  }

  @Test
  void aProxyStartedAfterTheHistoryWasClearedStartsFromTheListing() throws Exception {
    EtcdClient client = etcd.client();
    for (int i = 0; i < 30; i++) client.set("/many-service/c" + i, "localhost:" + (5000 + i)).send();
    client.delete("/many-service/c0").send();
    try (ServiceProxy proxy = ServiceProxy.start(client, "many-service/")) {
      await(() -> proxy.backends().size() == 29);
      assertThat(proxy.backends()).doesNotContainKey("c0").containsEntry("c29", "localhost:5029");
      client.set("/many-service/c30", "localhost:5030").send();
      await(() -> proxy.backends().size() == 30);
    }
  }

  @Test
  void mainShowsBothBackendsThenOnlyTheSurvivor() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ServiceProxy.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
    assertThat(lines).hasSize(7);
    assertThat(lines.get(0)).startsWith("etcd node ready at http://127.0.0.1:");
    assertThat(lines.get(2)).startsWith("proxy at http://127.0.0.1:").contains("routes to {a=127.0.0.1:", ", b=127.0.0.1:");
    assertThat(lines.get(3)).matches("requests through the proxy: "
        + "200 hello from (a|b), 200 hello from (a|b), 200 hello from (a|b), 200 hello from (a|b)")
        .contains("hello from a").contains("hello from b");
    assertThat(lines.get(4)).isEqualTo("b stops heartbeating (it keeps serving, but etcd no longer hears from it)");
    assertThat(lines.get(5)).matches("b's key expired \\d+ ms later; proxy routes to \\{a=127\\.0\\.0\\.1:\\d+}");
    assertThat(lines.get(6)).isEqualTo("requests through the proxy: "
        + "200 hello from a, 200 hello from a, 200 hello from a, 200 hello from a");
  }

  private Exchange get(ServiceProxy proxy, String path) throws Exception {
    long started = System.nanoTime();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(proxy.url() + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    return new Exchange(started, r.statusCode(), r.body().strip());
  }

  static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("not within 20 s");
      Thread.sleep(10);
    }
  }
}
