package org.etcdjvm.client.integration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ConnectException;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.etcdjvm.client.CompareFailedException;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.client.EtcdException;
import org.etcdjvm.client.EtcdResponse;
import org.etcdjvm.client.KeyNotFoundException;
import org.etcdjvm.client.NotAFileException;
import org.etcdjvm.client.Watch;
import org.etcdjvm.client.WatchEvent;
import org.etcdjvm.test.EtcdExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every call of the client against one real in-process node (Atomix Raft + Netty HTTP on loopback). */
class SingleNodeTest {
  @RegisterExtension static final EtcdExtension server = EtcdExtension.singleNode();
  static EtcdClient etcd;

  @BeforeAll static void client() {
    etcd = server.client(); // closed with the node
  }

  @Test void setGetDeleteAndGetOrNull() throws Exception {
    EtcdResponse set = etcd.set("/message", "Hello").send();
    assertThat(set.action()).isEqualTo("SET");
    assertThat(set.key()).isEqualTo("/message");
    assertThat(set.value()).isEqualTo("Hello");
    assertThat(set.newKey()).isTrue();
    assertThat(set.prevValue()).isNull();
    assertThat(set.index()).isPositive();

    EtcdResponse get = etcd.get("message").send(); // keys are paths: "message" is "/message"
    assertThat(get.action()).isEqualTo("GET");
    assertThat(get.value()).isEqualTo("Hello");
    assertThat(get.index()).isEqualTo(set.index());
    assertThat(get.ttl()).isNull();
    assertThat(get.expiration()).isNull();

    EtcdResponse again = etcd.set("/message", "Hi").send();
    assertThat(again.newKey()).isFalse();
    assertThat(again.prevValue()).isEqualTo("Hello");
    assertThat(again.index()).isGreaterThan(set.index());

    EtcdResponse delete = etcd.delete("/message/").send();
    assertThat(delete.action()).isEqualTo("DELETE");
    assertThat(delete.prevValue()).isEqualTo("Hi");
    assertThat(delete.value()).isNull();
    assertThat(delete.index()).isEqualTo(again.index() + 1);

    assertThat(etcd.getOrNull("/message")).isNull();
    assertThat(etcd.get("/message").optional().send()).isEmpty();
    assertThat(etcd.get("/message").orNull().send()).isNull();
    assertThatThrownBy(() -> etcd.get("/message").send())
        .isInstanceOf(KeyNotFoundException.class)
        .satisfies(e -> {
          EtcdException etcdError = (EtcdException) e;
          assertThat(etcdError.errorCode()).isEqualTo(EtcdException.KEY_NOT_FOUND);
          assertThat(etcdError.errorMessage()).isEqualTo("Key Not Found");
          assertThat(etcdError.cause()).isEqualTo("get: /message");
        });
  }

  @Test void keysWithCharactersThatNeedEncodingRoundTrip() throws Exception {
    String key = "/odd keys/100% ?sure#yes";
    etcd.set(key, "v=1&w=2 ü").send();
    assertThat(etcd.get(key).send().value()).isEqualTo("v=1&w=2 ü");
    assertThat(etcd.list("/odd keys").send()).extracting(EtcdResponse::key).containsExactly(key);
  }

  /** Read requests are built once per key and reused (up to a bound): many keys still read right. */
  @Test void manyDistinctKeysReadBackRight() throws Exception {
    etcd.set("/many/a", "1").send();
    etcd.set("/many/b", "2").send();
    for (int i = 0; i < 1500; i++) {
      assertThat(etcd.getOrNull("/many/missing" + i)).isNull();
      if (i % 100 == 0) {
        assertThat(etcd.get("/many/a").send().value()).isEqualTo("1");
        assertThat(etcd.get("/many/b").send().value()).isEqualTo("2");
      }
    }
    etcd.set("/many/a", "3").send();
    assertThat(etcd.get("/many/a").send().value()).isEqualTo("3");
  }

  @Test void ttlIsReportedAndTheKeyExpires() throws Exception {
    Instant before = Instant.now();
    EtcdResponse set = etcd.set("/ttl/five", "bar").ttl(Duration.ofSeconds(5)).send();
    assertThat(set.ttl()).isBetween(Duration.ofSeconds(4), Duration.ofSeconds(5));
    assertThat(set.expiration()).isBetween(before.plusSeconds(4), Instant.now().plusSeconds(6));
    EtcdResponse get = etcd.get("/ttl/five").send();
    assertThat(get.expiration()).isEqualTo(set.expiration());

    assertThatThrownBy(() -> etcd.set("/ttl/one", "x").ttl(Duration.ofMillis(300))) // etcd counts seconds
        .isInstanceOf(IllegalArgumentException.class);
    etcd.set("/ttl/one", "soon").ttl(Duration.ofMillis(1200)).send(); // rounded up to 2 s
    Await.until(Duration.ofSeconds(5), () -> {
      try {
        return etcd.getOrNull("/ttl/one") == null;
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    // a set without a TTL makes the key permanent
    EtcdResponse permanent = etcd.set("/ttl/five", "kept").send();
    assertThat(permanent.expiration()).isNull();
    assertThat(etcd.get("/ttl/five").send().ttl()).isNull();
  }

  @Test void compareAndSetAndCreate() throws Exception {
    etcd.set("/cas", "Hello").send();
    EtcdResponse swapped = etcd.compareAndSet("/cas", "Hello", "Hi").send();
    assertThat(swapped.prevValue()).isEqualTo("Hello");
    assertThat(swapped.value()).isEqualTo("Hi");

    assertThatThrownBy(() -> etcd.compareAndSet("/cas", "Hello", "Again").send())
        .isInstanceOf(CompareFailedException.class)
        .satisfies(e -> assertThat(((EtcdException) e).cause()).isEqualTo("TestAndSet: Hi!=Hello"))
        .hasFieldOrPropertyWithValue("errorCode", EtcdException.TEST_FAILED);
    assertThat(etcd.get("/cas").send().value()).isEqualTo("Hi");
    assertThatThrownBy(() -> etcd.compareAndSet("/cas-missing", "x", "y").send())
        .isInstanceOf(KeyNotFoundException.class);

    EtcdResponse created = etcd.create("/lock", "me").ttl(Duration.ofSeconds(30)).send();
    assertThat(created.newKey()).isTrue();
    assertThatThrownBy(() -> etcd.create("/lock", "you").send())
        .isInstanceOf(CompareFailedException.class);
    assertThat(etcd.get("/lock").send().value()).isEqualTo("me");
    // an empty prevValue is "create": the same as create()
    assertThatThrownBy(() -> etcd.compareAndSet("/lock", "", "you").send())
        .isInstanceOf(CompareFailedException.class);
  }

  @Test void listIsOneLevelSortedWithDirectories() throws Exception {
    etcd.set("/dir/b", "2").send();
    etcd.set("/dir/a", "1").send();
    etcd.set("/dir/sub/c", "3").send();

    List<EtcdResponse> list = etcd.list("/dir").send();
    assertThat(list).extracting(EtcdResponse::key).containsExactly("/dir/a", "/dir/b", "/dir/sub");
    assertThat(list).extracting(EtcdResponse::value).containsExactly("1", "2", null);
    assertThat(list).extracting(EtcdResponse::dir).containsExactly(false, false, true);
    assertThat(list).allSatisfy(e -> assertThat(e.action()).isEqualTo("GET"));

    assertThat(etcd.list("/dir/a").send()).extracting(EtcdResponse::value).containsExactly("1");
    assertThatThrownBy(() -> etcd.list("/no-such-dir").send()).isInstanceOf(KeyNotFoundException.class);
    assertThatThrownBy(() -> etcd.get("/dir").send()).isInstanceOf(NotAFileException.class);
  }

  @Test void typedValuesWithMoshi() throws Exception {
    Config config = new Config("db.local", 5432);
    EtcdResponse set = etcd.set("/config/db", config).send();
    assertThat(set.value()).isEqualTo("{\"host\":\"db.local\",\"port\":5432}");
    assertThat(etcd.get("/config/db").as(Config.class).send()).isEqualTo(config);
    assertThat(etcd.get("/config/missing").as(Config.class).optional().send()).isEqualTo(Optional.empty());
    etcd.set("/config/n", 42).send();
    assertThat(etcd.get("/config/n").as(Integer.class).send()).isEqualTo(42);
    etcd.set("/config/s", "plain").send(); // a String is stored as is
    assertThat(etcd.get("/config/s").send().value()).isEqualTo("plain");
  }

  @Test void serverErrorsBecomeTypedExceptions() throws Exception {
    etcd.set("/file", "x").send();
    etcd.set("/d/child", "x").send();
    assertThatThrownBy(() -> etcd.set("/d", "x").send()) // onto a directory
        .isInstanceOf(NotAFileException.class)
        .hasFieldOrPropertyWithValue("errorCode", EtcdException.NOT_FILE);
    assertThatThrownBy(() -> etcd.set("/file/child", "x").send()) // through a file
        .isInstanceOf(NotAFileException.class);
    assertThatThrownBy(() -> etcd.delete("/d").send()) // v1 cannot delete directories
        .isInstanceOf(KeyNotFoundException.class);
    assertThatThrownBy(() -> etcd.delete("/never").send())
        .isInstanceOf(KeyNotFoundException.class)
        .satisfies(e -> assertThat(((EtcdException) e).cause()).isEqualTo("delete: /never"));
    assertThatThrownBy(() -> etcd.set("/_etcd/x", "x").send())
        .isExactlyInstanceOf(EtcdException.class)
        .hasFieldOrPropertyWithValue("errorCode", EtcdException.KEYWORD_PREFIX);
    assertThatThrownBy(() -> etcd.set("/" + "k".repeat(1100), "x").send())
        .isExactlyInstanceOf(EtcdException.class)
        .hasFieldOrPropertyWithValue("errorCode", 209);
  }

  @Test void asyncCalls() throws Exception {
    EtcdResponse set = etcd.set("/async", "1").sendAsync().get(5, TimeUnit.SECONDS);
    assertThat(etcd.get("/async").sendAsync().get(5, TimeUnit.SECONDS).index()).isEqualTo(set.index());
    assertThat(etcd.get("/async-missing").orNull().sendAsync().get(5, TimeUnit.SECONDS)).isNull();
    assertThatThrownBy(() -> etcd.get("/async-missing").sendAsync().get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(KeyNotFoundException.class);
    assertThat(etcd.delete("/async").sendAsync().get(5, TimeUnit.SECONDS).prevValue()).isEqualTo("1");
  }

  @Test void machinesListsTheNode() throws Exception {
    assertThat(etcd.machines().send()).containsExactly(server.clientUrl());
    assertThat(etcd.writeEndpoint()).isEqualTo(Await.base(server.clientUrl()));
  }

  @Test void noNodeListeningIsAnIOException() throws Exception {
    String closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = "http://127.0.0.1:" + s.getLocalPort();
    }
    try (EtcdClient nobody = EtcdClient.builder().endpoints(closed).autoSync(false).build()) {
      assertThatThrownBy(() -> nobody.get("/x").send()).isInstanceOf(ConnectException.class);
      assertThatThrownBy(() -> nobody.set("/x", "y").send()).isInstanceOf(ConnectException.class);
    }
  }

  /**
   * One watch sees a SET, a DELETE and an EXPIRE (ttl=1) in order while another thread writes 300
   * keys under the same prefix: every acknowledged write exactly once, in index order, nothing
   * missing, nothing extra. After close() nothing more arrives.
   */
  @Test void watchDeliversEveryEventOnceInOrderUntilClosed() throws Exception {
    ConcurrentLinkedQueue<WatchEvent> events = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    Watch watch = etcd.watch("/w").listener(events::add).onError(errors::add).start();

    ConcurrentLinkedQueue<Long> acknowledged = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<Throwable> writeFailures = new ConcurrentLinkedQueue<>();
    Thread writer = new Thread(() -> {
      for (int i = 0; i < 300; i++) {
        try {
          acknowledged.add(etcd.set("/w/k" + i, "v" + i).send().index());
        } catch (Exception e) {
          writeFailures.add(e);
        }
      }
    }, "writer");
    writer.start();

    long ttlSet = etcd.set("/w/ttl", "soon").ttl(Duration.ofSeconds(1)).send().index();
    long delSet = etcd.set("/w/del", "x").send().index();
    long deleted = etcd.delete("/w/del").send().index();
    acknowledged.addAll(List.of(ttlSet, delSet, deleted));

    writer.join(30_000);
    assertThat(writeFailures).isEmpty();
    assertThat(acknowledged).hasSize(303);
    Await.until(Duration.ofSeconds(5), () -> events.stream().anyMatch(e -> e.type() == WatchEvent.Type.EXPIRE));
    long lastAcknowledged = acknowledged.stream().mapToLong(Long::longValue).max().orElseThrow();
    Await.until(Duration.ofSeconds(5), () -> events.stream().anyMatch(e -> e.index() >= lastAcknowledged));
    Thread.sleep(100); // anything extra (a duplicate) would arrive now

    List<WatchEvent> seen = new ArrayList<>(events);
    List<Long> indexes = seen.stream().map(WatchEvent::index).collect(Collectors.toList());
    assertThat(indexes).isSorted().doesNotHaveDuplicates();
    WatchEvent expiry = seen.stream().filter(e -> e.type() == WatchEvent.Type.EXPIRE).findFirst().orElseThrow();
    Set<Long> expected = new TreeSet<>(acknowledged);
    expected.add(expiry.index());
    assertThat(new TreeSet<>(indexes)).isEqualTo(expected);

    assertThat(seen).filteredOn(e -> e.type() == WatchEvent.Type.SET).hasSize(302);
    assertThat(seen).filteredOn(e -> e.type() != WatchEvent.Type.SET).extracting(WatchEvent::index)
        .containsExactly(deleted, expiry.index());
    WatchEvent delete = seen.stream().filter(e -> e.index() == deleted).findFirst().orElseThrow();
    assertThat(delete.type()).isEqualTo(WatchEvent.Type.DELETE);
    assertThat(delete.key()).isEqualTo("/w/del");
    assertThat(delete.prevValue()).isEqualTo("x");
    assertThat(expiry.key()).isEqualTo("/w/ttl");
    assertThat(expiry.prevValue()).isEqualTo("soon");
    assertThat(expiry.index()).isGreaterThan(deleted);
    assertThat(seen.stream().filter(e -> e.index() == ttlSet).findFirst().orElseThrow().value()).isEqualTo("soon");
    assertThat(errors).isEmpty();
    assertThat(watch.nextIndex()).isEqualTo(seen.get(seen.size() - 1).index() + 1);

    watch.close();
    assertThat(watch.isClosed()).isTrue();
    int before = events.size();
    etcd.set("/w/after-close", "x").send();
    Thread.sleep(300);
    assertThat(events).hasSize(before);
  }
}
