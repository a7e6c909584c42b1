package org.etcdjvm.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replays etcd's getting-started guide, command by command, against one real node (Atomix Raft on a
 * free loopback port, HTTP on another), comparing the exact JSON bodies.
 */
class SeedWalkthroughTest {
  @TempDir static Path dir;
  static EtcdNode node;
  static V1Http curl;

  @BeforeAll
  static void start() throws Exception {
    node = EtcdNode.builder().dataDir(dir).clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0").build();
    node.start().get(30, TimeUnit.SECONDS);
    curl = new V1Http(node.clientUrl());
  }

  @AfterAll
  static void stop() {
    node.close();
    node = null; // a closed node still holds Atomix's log buffers; later classes share this JVM
    curl = null;
  }

  @Test
  void setGetAndDeleteAKey() {
    // curl -L http://127.0.0.1:4001/v1/keys/message -d value="Hello"
    HttpResponse<String> set = curl.post("/v1/keys/message", "value=Hello");
    assertThat(set.statusCode()).isEqualTo(200);
    assertThat(set.headers().firstValue("Content-Type")).contains("application/json");
    long index = V1Http.index(set.body());
    assertThat(set.body()).isEqualTo("{\"action\":\"SET\",\"key\":\"/message\",\"value\":\"Hello\",\"newKey\":true,\"index\":" + index + "}");

    // curl -L http://127.0.0.1:4001/v1/keys/message
    HttpResponse<String> get = curl.get("/v1/keys/message");
    assertThat(get.statusCode()).isEqualTo(200);
    assertThat(get.body()).isEqualTo("{\"action\":\"GET\",\"key\":\"/message\",\"value\":\"Hello\",\"index\":" + index + "}");

    // curl -L http://127.0.0.1:4001/v1/keys/message -X DELETE
    HttpResponse<String> delete = curl.delete("/v1/keys/message");
    assertThat(delete.statusCode()).isEqualTo(200);
    assertThat(delete.body()).isEqualTo("{\"action\":\"DELETE\",\"key\":\"/message\",\"prevValue\":\"Hello\",\"index\":" + (index + 1) + "}");

    HttpResponse<String> gone = curl.get("/v1/keys/message");
    assertThat(gone.statusCode()).isEqualTo(400);
    assertThat(gone.body()).isEqualTo("{\"errorCode\":100,\"message\":\"Key Not Found\",\"cause\":\"get: /message\"}\n");
  }

  @Test
  void directoryListingAndAWatchWokenByASet() throws Exception {
    // curl -L http://127.0.0.1:4001/v1/keys/foo-service/container1 -d value="localhost:1111"
    HttpResponse<String> set = curl.post("/v1/keys/foo-service/container1", "value=localhost:1111");
    assertThat(set.statusCode()).isEqualTo(200);

    // curl -L http://127.0.0.1:4001/v1/keys/foo-service
    HttpResponse<String> list = curl.get("/v1/keys/foo-service");
    long index = V1Http.index(list.body());
    assertThat(list.body()).isEqualTo(
        "[{\"action\":\"GET\",\"key\":\"/foo-service/container1\",\"value\":\"localhost:1111\",\"index\":" + index + "}]");

    // curl -L http://127.0.0.1:4001/v1/watch/foo-service   (in another window)
    CompletableFuture<HttpResponse<String>> watch = curl.getAsync("/v1/watch/foo-service");
    Thread.sleep(200);
    assertThat(watch).isNotDone();

    // curl -L http://127.0.0.1:4001/v1/keys/foo-service/container2 -d value="localhost:2222"
    HttpResponse<String> announce = curl.post("/v1/keys/foo-service/container2", "value=localhost:2222");
    HttpResponse<String> woken = watch.get(5, TimeUnit.SECONDS);
    assertThat(woken.statusCode()).isEqualTo(200);
    assertThat(woken.body()).isEqualTo(announce.body())
        .isEqualTo("{\"action\":\"SET\",\"key\":\"/foo-service/container2\",\"value\":\"localhost:2222\",\"newKey\":true,\"index\":"
            + V1Http.index(announce.body()) + "}");
  }

  @Test
  void testAndSetSucceedsOnlyWhenThePreviousValueMatches() {
    curl.post("/v1/keys/tas", "value=Hello");
    // curl -L http://127.0.0.1:4001/v1/keys/message -d prevValue=Hello -d value=Hi
    HttpResponse<String> swapped = curl.post("/v1/keys/tas", "prevValue=Hello", "value=Hi");
    assertThat(swapped.statusCode()).isEqualTo(200);
    assertThat(swapped.body()).isEqualTo("{\"action\":\"SET\",\"key\":\"/tas\",\"prevValue\":\"Hello\",\"value\":\"Hi\",\"index\":"
        + V1Http.index(swapped.body()) + "}");

    HttpResponse<String> stale = curl.post("/v1/keys/tas", "prevValue=Hello", "value=Again");
    assertThat(stale.statusCode()).isEqualTo(400);
    assertThat(stale.body()).isEqualTo(
        "{\"errorCode\":101,\"message\":\"The given PrevValue is not equal to the value of the key\",\"cause\":\"TestAndSet: Hi!=Hello\"}\n");
    assertThat(curl.get("/v1/keys/tas").body()).contains("\"value\":\"Hi\"");
  }

  @Test
  void aKeyWithATtlExpiresAndThenIsKeyNotFound() throws Exception {
    // curl -L http://127.0.0.1:4001/v1/keys/foo -d value=bar -d ttl=5
    HttpResponse<String> set = curl.post("/v1/keys/foo", "value=bar", "ttl=5");
    assertThat(set.statusCode()).isEqualTo(200);
    assertThat(set.body())
        .startsWith("{\"action\":\"SET\",\"key\":\"/foo\",\"value\":\"bar\",\"newKey\":true,\"expiration\":\"")
        .containsPattern("\"ttl\":[45],\"index\":\\d+}$");

    long deadline = System.nanoTime() + Duration.ofSeconds(8).toNanos();
    HttpResponse<String> get = curl.get("/v1/keys/foo");
    while (get.statusCode() == 200 && System.nanoTime() < deadline) {
      Thread.sleep(100);
      get = curl.get("/v1/keys/foo");
    }
    assertThat(get.statusCode()).isEqualTo(400);
    assertThat(get.body()).isEqualTo("{\"errorCode\":100,\"message\":\"Key Not Found\",\"cause\":\"get: /foo\"}\n");
  }
}
