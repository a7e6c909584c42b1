package org.etcdjvm.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Watch semantics over real HTTP against one node: prefixes, history, the root, expiry, fan-out, no lost events. */
class WatchTest {
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
    if (node != null) {
      node.close();
      node = null; // a closed node still holds Atomix's log buffers; later classes share this JVM
    }
    curl = null;
  }

  private static long currentIndex() {
    return V1Http.index(curl.get("/v1/keys/").body());
  }

  private static HttpResponse<String> set(String key, String... pairs) {
    HttpResponse<String> r = curl.post("/v1/keys" + key, pairs);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r;
  }

  @Test
  void aGetWatchIsWokenByASetUnderItsPrefixButNotByAKeyThatOnlySharesItsLetters() throws Exception {
    long from = currentIndex() + 1;
    CompletableFuture<HttpResponse<String>> watch = curl.getAsync("/v1/watch/foo-service");
    CompletableFuture<HttpResponse<String>> exact = curl.getAsync("/v1/watch/foo-service/c3");
    Thread.sleep(500); // let both register
    set("/foo-service2/c1", "value=x");
    set("/foo-servicex", "value=x");
    set("/foo-service/c2x", "value=x");                 // under the prefix, but not the exact key
    Thread.sleep(300);
    assertThat(exact).isNotDone();
    HttpResponse<String> woken = watch.get(5, TimeUnit.SECONDS);
    assertThat(woken.statusCode()).isEqualTo(200);
    assertThat(woken.body()).startsWith("{\"action\":\"SET\",\"key\":\"/foo-service/c2x\",");

    HttpResponse<String> c3 = set("/foo-service/c3", "value=localhost:3333");
    assertThat(exact.get(5, TimeUnit.SECONDS).body()).isEqualTo(c3.body());
    assertThat(c3.body()).isEqualTo("{\"action\":\"SET\",\"key\":\"/foo-service/c3\",\"value\":\"localhost:3333\","
        + "\"newKey\":true,\"index\":" + V1Http.index(c3.body()) + "}");

    // History respects the segment boundary too: the siblings' events are skipped.
    HttpResponse<String> replay = curl.post("/v1/watch/foo-service/", "index=" + from);
    assertThat(replay.body()).isEqualTo(woken.body());
  }

  @Test
  void aPostWithAnIndexReturnsAPastEventAtOnce() throws Exception {
    HttpResponse<String> a = set("/past/a", "value=1");
    set("/past-other", "value=2");
    HttpResponse<String> b = set("/past/b", "value=3");
    HttpResponse<String> a2 = set("/past/a", "value=4");
    long n = V1Http.index(a.body());

    long begin = System.nanoTime();
    assertThat(curl.post("/v1/watch/past", "index=" + n).body()).isEqualTo(a.body());
    assertThat(curl.post("/v1/watch/past", "index=" + (n + 1)).body()).isEqualTo(b.body());
    assertThat(curl.post("/v1/watch/past/a", "index=" + (n + 1)).body()).isEqualTo(a2.body())
        .contains("\"prevValue\":\"1\",\"value\":\"4\"");
    assertThat(curl.post("/v1/watch/past/", "index=" + V1Http.index(b.body())).body()).isEqualTo(b.body());
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin)).isLessThan(3_000);

    // An index beyond the history waits for the next event; index=0 is the same as a GET.
    CompletableFuture<HttpResponse<String>> future = curl.postAsync("/v1/watch/past", "index=" + (V1Http.index(a2.body()) + 1));
    CompletableFuture<HttpResponse<String>> zero = curl.postAsync("/v1/watch/past", "index=0");
    Thread.sleep(500);
    assertThat(future).isNotDone();
    assertThat(zero).isNotDone();
    HttpResponse<String> c = set("/past/c", "value=5");
    assertThat(future.get(5, TimeUnit.SECONDS).body()).isEqualTo(c.body());
    assertThat(zero.get(5, TimeUnit.SECONDS).body()).isEqualTo(c.body());
  }

  @Test
  void aWatchOnTheRootSeesEverything() throws Exception {
    long from = currentIndex() + 1;
    CompletableFuture<HttpResponse<String>> slash = curl.getAsync("/v1/watch/");
    CompletableFuture<HttpResponse<String>> bare = curl.getAsync("/v1/watch");
    CompletableFuture<HttpResponse<String>> indexed = curl.postAsync("/v1/watch/", "index=" + from);
    Thread.sleep(500);
    HttpResponse<String> deep = set("/anything/at/all/deep", "value=x");
    assertThat(slash.get(5, TimeUnit.SECONDS).body()).isEqualTo(deep.body());
    assertThat(bare.get(5, TimeUnit.SECONDS).body()).isEqualTo(deep.body());
    assertThat(indexed.get(5, TimeUnit.SECONDS).body()).isEqualTo(deep.body());

    CompletableFuture<HttpResponse<String>> again = curl.getAsync("/v1/watch/");
    Thread.sleep(500);
    HttpResponse<String> deleted = curl.delete("/v1/keys/anything/at/all/deep");
    assertThat(again.get(5, TimeUnit.SECONDS).body()).isEqualTo(deleted.body())
        .startsWith("{\"action\":\"DELETE\",\"key\":\"/anything/at/all/deep\",\"prevValue\":\"x\",");
    // The root also replays from history.
    assertThat(curl.post("/v1/watch/", "index=" + from).body()).isEqualTo(deep.body());
  }

  @Test
  void theExpiryOfATtlKeyWakesAWatchWithADeleteAndIsKeptInHistory() throws Exception {
    HttpResponse<String> set = set("/ttlw/k", "value=v", "ttl=1");
    long setIndex = V1Http.index(set.body());
    String expiration = (String) Json.object(set.body()).get("expiration");
    assertThat(expiration).isNotNull();
    CompletableFuture<HttpResponse<String>> indexed = curl.postAsync("/v1/watch/ttlw", "index=" + (setIndex + 1));
    CompletableFuture<HttpResponse<String>> exact = curl.getAsync("/v1/watch/ttlw/k");

    HttpResponse<String> expired = indexed.get(6, TimeUnit.SECONDS);
    assertThat(expired.statusCode()).isEqualTo(200);
    long expiryIndex = V1Http.index(expired.body());
    assertThat(expiryIndex).isGreaterThan(setIndex);
    assertThat(expired.body()).isEqualTo("{\"action\":\"DELETE\",\"key\":\"/ttlw/k\",\"prevValue\":\"v\",\"expiration\":\""
        + expiration + "\",\"index\":" + expiryIndex + "}");
    assertThat(exact.get(5, TimeUnit.SECONDS).body()).isEqualTo(expired.body());
    assertThat(curl.get("/v1/keys/ttlw/k").body())
        .isEqualTo("{\"errorCode\":100,\"message\":\"Key Not Found\",\"cause\":\"get: /ttlw/k\"}\n");
    // Expiries are replayed from history like any other event.
    assertThat(curl.post("/v1/watch/ttlw", "index=" + (setIndex + 1)).body()).isEqualTo(expired.body());
  }

  @Test
  void fiftyConcurrentLongPollsAreAllWokenByOneSet() throws Exception {
    long next = currentIndex() + 1;
    List<CompletableFuture<HttpResponse<String>>> polls = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      // POST index=next: a poll that registers late still gets the set, from history; GET would hang.
      polls.add(i % 2 == 0 ? curl.postAsync("/v1/watch/fan", "index=" + next)
          : curl.postAsync("/v1/watch/fan/x", "index=" + next));
    }
    Thread.sleep(500);
    assertThat(polls).noneMatch(CompletableFuture::isDone);
    HttpResponse<String> set = set("/fan/x", "value=go");
    for (CompletableFuture<HttpResponse<String>> poll : polls) {
      HttpResponse<String> r = poll.get(10, TimeUnit.SECONDS);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo(set.body());
    }
  }

  @Test
  void reWatchingFromIndexPlusOneNeverMissesAnEventWhileAnotherThreadWrites() throws Exception {
    long start = currentIndex() + 1;
    Map<Long, String> written = new java.util.concurrent.ConcurrentSkipListMap<>();
    List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    Thread writer = new Thread(() -> {
      // 200 sets, up to 8 in flight (so Raft batches them), plus sets outside the prefix that must not show up.
      java.util.concurrent.Semaphore window = new java.util.concurrent.Semaphore(8);
      for (int i = 0; i < 220; i++) {
        window.acquireUninterruptibly();
        boolean inside = i % 11 != 10;
        curl.postAsync(inside ? "/v1/keys/seq/k" + (i % 7) : "/v1/keys/seq-other/x", "value=" + i)
            .whenComplete((r, e) -> {
              if (e != null || r.statusCode() != 200) {
                failures.add(e != null ? e : new AssertionError(r.body()));
              } else if (inside) {
                written.put(V1Http.index(r.body()), r.body());
              }
              window.release();
            });
      }
      window.acquireUninterruptibly(8);
    }, "writer");
    writer.start();

    List<Long> seen = new ArrayList<>();
    List<String> seenBodies = new ArrayList<>();
    long next = start;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
    while (seen.size() < 200 && System.nanoTime() < deadline) {
      HttpResponse<String> r = curl.post("/v1/watch/seq", "index=" + next);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      Map<String, Object> event = Json.object(r.body());
      assertThat((String) event.get("key")).startsWith("/seq/k");
      long index = (Long) event.get("index");
      assertThat(index).isGreaterThanOrEqualTo(next);
      seen.add(index);
      seenBodies.add(r.body());
      next = index + 1;
    }
    writer.join(30_000);
    assertThat(writer.isAlive()).isFalse();
    assertThat(failures).isEmpty();
    assertThat(written).hasSize(200);
    assertThat(seen).isEqualTo(new ArrayList<>(written.keySet()));
    assertThat(seenBodies).isEqualTo(new ArrayList<>(written.values()));
  }
}
