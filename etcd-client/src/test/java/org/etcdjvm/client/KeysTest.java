package org.etcdjvm.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.etcdjvm.client.Mocks.body;
import static org.etcdjvm.client.Mocks.client;
import static org.etcdjvm.client.Mocks.error;
import static org.etcdjvm.client.Mocks.ok;
import static org.etcdjvm.client.Mocks.take;

import com.squareup.moshi.FromJson;
import com.squareup.moshi.Moshi;
import com.squareup.moshi.ToJson;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Key operations: wire format of requests, decoding of responses and errors. */
class KeysTest {
  @StartStop final MockWebServer server = new MockWebServer();
  EtcdClient etcd;

  @BeforeEach void setUp() {
    etcd = client(server).build();
  }

  @AfterEach void tearDown() {
    etcd.close();
  }

  @Test void setPostsValueAndTtlAsForm() throws Exception {
    server.enqueue(ok("{\"action\":\"SET\",\"key\":\"/message\",\"value\":\"Hello\",\"newKey\":true,"
        + "\"expiration\":\"2013-07-11T20:31:12.156146039-07:00\",\"ttl\":4,\"index\":3}"));

    EtcdResponse r = etcd.set("/message", "Hello").ttl(Duration.ofSeconds(5)).send();

    RecordedRequest request = take(server);
    assertThat(request.getMethod()).isEqualTo("POST");
    assertThat(request.getUrl().encodedPath()).isEqualTo("/v1/keys/message");
    assertThat(request.getHeaders().get("Content-Type")).startsWith("application/x-www-form-urlencoded");
    assertThat(body(request)).isEqualTo("value=Hello&ttl=5");
    assertThat(r.action()).isEqualTo("SET");
    assertThat(r.key()).isEqualTo("/message");
    assertThat(r.value()).isEqualTo("Hello");
    assertThat(r.newKey()).isTrue();
    assertThat(r.prevValue()).isNull();
    assertThat(r.expiration()).isEqualTo(Instant.parse("2013-07-12T03:31:12.156146039Z"));
    assertThat(r.ttl()).isEqualTo(Duration.ofSeconds(4));
    assertThat(r.index()).isEqualTo(3);
  }

  @Test void fractionalTtlIsRoundedUpToWholeSeconds() throws Exception {
    server.enqueue(ok(Mocks.set("/a", "b", 3)));
    etcd.set("a", "b").ttl(Duration.ofMillis(1500)).send();
    assertThat(body(take(server))).isEqualTo("value=b&ttl=2");
  }

  @Test void compareAndSetSendsPrevValue() throws Exception {
    server.enqueue(ok("{\"action\":\"SET\",\"key\":\"/message\",\"prevValue\":\"Hello\",\"value\":\"Hi\",\"index\":4}"));
    EtcdResponse r = etcd.compareAndSet("/message", "Hello", "Hi").send();
    assertThat(body(take(server))).isEqualTo("value=Hi&prevValue=Hello");
    assertThat(r.prevValue()).isEqualTo("Hello");
  }

  @Test void createSendsEmptyPrevValue() throws Exception {
    server.enqueue(ok(Mocks.set("/lock", "me", 5)));
    etcd.create("/lock", "me").ttl(Duration.ofSeconds(10)).send();
    assertThat(body(take(server))).isEqualTo("value=me&ttl=10&prevValue=");
  }

  @Test void compareFailedIsTypedException() {
    server.enqueue(error(400, 101, "The given PrevValue is not equal to the value of the key", "TestAndSet: one!=two"));
    assertThatThrownBy(() -> etcd.compareAndSet("/foo", "two", "three").send())
        .isInstanceOf(CompareFailedException.class)
        .hasMessageContaining("TestAndSet: one!=two")
        .satisfies(e -> {
          EtcdException etcdError = (EtcdException) e;
          assertThat(etcdError.errorCode()).isEqualTo(101);
          assertThat(etcdError.errorMessage()).isEqualTo("The given PrevValue is not equal to the value of the key");
          assertThat(etcdError.cause()).isEqualTo("TestAndSet: one!=two");
        });
  }

  @Test void notAFileIsTypedException() {
    server.enqueue(error(400, 102, "Not A File", "set: /foo/bar"));
    assertThatThrownBy(() -> etcd.set("/foo/bar", "x").send()).isInstanceOf(NotAFileException.class);
  }

  @Test void unknownErrorCodeIsPlainEtcdException() {
    server.enqueue(error(400, 400, "The prefix of the given key is a keyword in etcd", "Set"));
    assertThatThrownBy(() -> etcd.set("/_etcd/x", "y").send())
        .isExactlyInstanceOf(EtcdException.class)
        .satisfies(e -> assertThat(((EtcdException) e).errorCode()).isEqualTo(EtcdException.KEYWORD_PREFIX));
  }

  @Test void getMissingKeyThrowsKeyNotFound() {
    server.enqueue(error(400, 100, "Key Not Found", "get: /nope"));
    assertThatThrownBy(() -> etcd.get("/nope").send())
        .isInstanceOf(KeyNotFoundException.class)
        .hasMessage("etcd error 100 Key Not Found (cause: get: /nope)");
  }

  @Test void getOrNullReturnsNullForMissingKey() throws Exception {
    server.enqueue(error(400, 100, "Key Not Found", "get: /nope"));
    assertThat(etcd.getOrNull("/nope")).isNull();
  }

  @Test void optionalIsEmptyForMissingKeyAsync() throws Exception {
    server.enqueue(error(400, 100, "Key Not Found", "get: /nope"));
    assertThat(etcd.get("/nope").optional().sendAsync().get(5, TimeUnit.SECONDS)).isEmpty();
  }

  @Test void optionalHoldsExistingKey() throws Exception {
    server.enqueue(ok(Mocks.get("/k", "v", 7)));
    Optional<EtcdResponse> r = etcd.get("/k").optional().send();
    assertThat(r).hasValueSatisfying(v -> assertThat(v.value()).isEqualTo("v"));
  }

  @Test void getOfDirectoryThrowsNotAFile() {
    server.enqueue(ok("[{\"action\":\"GET\",\"key\":\"/foo/a\",\"value\":\"1\",\"index\":10}]"));
    assertThatThrownBy(() -> etcd.get("/foo").send())
        .isInstanceOf(NotAFileException.class)
        .hasMessageContaining("/foo is a directory");
  }

  @Test void listReturnsChildrenWithDirectories() throws Exception {
    server.enqueue(ok("[{\"action\":\"GET\",\"key\":\"/foo/foo\",\"value\":\"barbar\",\"index\":10},"
        + "{\"action\":\"GET\",\"key\":\"/foo/foo_dir\",\"dir\":true,\"index\":10}]"));
    List<EtcdResponse> children = etcd.list("/foo").send();
    assertThat(take(server).getUrl().encodedPath()).isEqualTo("/v1/keys/foo");
    assertThat(children).extracting(EtcdResponse::key).containsExactly("/foo/foo", "/foo/foo_dir");
    assertThat(children).extracting(EtcdResponse::dir).containsExactly(false, true);
    assertThat(children.get(1).value()).isNull();
  }

  @Test void listOfAFileIsThatFile() throws Exception {
    server.enqueue(ok(Mocks.get("/foo", "bar", 3)));
    assertThat(etcd.list("/foo").send()).extracting(EtcdResponse::value).containsExactly("bar");
  }

  @Test void listOfRootUsesTrailingSlash() throws Exception {
    server.enqueue(ok("[]"));
    assertThat(etcd.list("/").send()).isEmpty();
    assertThat(take(server).getUrl().encodedPath()).isEqualTo("/v1/keys/");
  }

  @Test void deleteUsesDeleteMethodAndReturnsPrevValue() throws Exception {
    server.enqueue(ok("{\"action\":\"DELETE\",\"key\":\"/message\",\"prevValue\":\"Hello etcd\",\"index\":5}"));
    EtcdResponse r = etcd.delete("/message").send();
    RecordedRequest request = take(server);
    assertThat(request.getMethod()).isEqualTo("DELETE");
    assertThat(request.getUrl().encodedPath()).isEqualTo("/v1/keys/message");
    assertThat(r.action()).isEqualTo("DELETE");
    assertThat(r.prevValue()).isEqualTo("Hello etcd");
    assertThat(r.value()).isNull();
  }

  @Test void keySegmentsArePercentEncoded() throws Exception {
    server.enqueue(ok(Mocks.get("/x", "y", 1)));
    etcd.get("a b/c%d?e#f/").send();
    assertThat(take(server).getTarget()).isEqualTo("/v1/keys/a%20b/c%25d%3Fe%23f");
  }

  @Test void argumentsAreCheckedEagerly() {
    assertThatThrownBy(() -> etcd.get(null)).isInstanceOf(NullPointerException.class).hasMessage("key == null");
    assertThatThrownBy(() -> etcd.set("/k", "")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("value is empty");
    assertThatThrownBy(() -> etcd.set("/k", "v").ttl(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ttl < 1s");
    assertThatThrownBy(() -> etcd.get("/a/../b")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'..'");
    assertThatThrownBy(() -> etcd.watch("/w").start()).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no event callback");
    assertThatThrownBy(() -> EtcdClient.builder().endpoints("not a url")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not an http or https URL");
    assertThat(server.getRequestCount()).isZero();
  }

  @Test void sendAsyncCompletesWithResponse() throws Exception {
    server.enqueue(ok(Mocks.get("/message", "Hello", 9)));
    EtcdResponse r = etcd.get("/message").sendAsync().get(5, TimeUnit.SECONDS);
    assertThat(r.value()).isEqualTo("Hello");
  }

  @Test void sendAsyncFailsWithTypedException() {
    server.enqueue(error(400, 100, "Key Not Found", "get: /nope"));
    assertThatThrownBy(() -> etcd.get("/nope").sendAsync().get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(KeyNotFoundException.class);
  }

  @Test void typedValuesRoundTripThroughMoshi() throws Exception {
    server.enqueue(ok(Mocks.set("/config", "ignored", 3)));
    server.enqueue(ok("{\"action\":\"GET\",\"key\":\"/config\",\"value\":\"{\\\"host\\\":\\\"db\\\",\\\"port\\\":5432}\",\"index\":3}"));

    etcd.set("/config", new Config("db", 5432)).send();
    Config config = etcd.get("/config").as(Config.class).send();

    assertThat(body(take(server))).isEqualTo("value=%7B%22host%22%3A%22db%22%2C%22port%22%3A5432%7D");
    assertThat(config).isEqualTo(new Config("db", 5432));
  }

  static final class DurationAdapter {
    @ToJson String toJson(Duration d) {
      return d.toString();
    }

    @FromJson Duration fromJson(String s) {
      return Duration.parse(s);
    }
  }

  @Test void clientUsesTheConfiguredMoshi() throws Exception {
    try (EtcdClient custom = client(server).moshi(new Moshi.Builder().add(new DurationAdapter()).build()).build()) {
      server.enqueue(ok(Mocks.set("/d", "x", 3)));
      server.enqueue(ok("{\"action\":\"GET\",\"key\":\"/d\",\"value\":\"\\\"PT5S\\\"\",\"index\":3}"));

      custom.set("/d", Duration.ofSeconds(5)).send();
      Duration d = custom.get("/d").as(Duration.class).send();

      assertThat(body(take(server))).isEqualTo("value=%22PT5S%22");
      assertThat(d).isEqualTo(Duration.ofSeconds(5));
    }
  }
}
