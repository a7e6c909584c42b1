package org.etcdjvm.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.etcdjvm.client.Mocks.client;
import static org.etcdjvm.client.Mocks.ok;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Threads, dispatchers and what close() does and does not release. */
class ResourcesTest {
  @StartStop final MockWebServer server = new MockWebServer();
  /** Long-polls block until released; everything else answers at once. */
  final CountDownLatch releaseWatches = new CountDownLatch(1);
  final AtomicInteger watchRequests = new AtomicInteger();

  @BeforeEach void setUp() {
    server.setDispatcher(new Dispatcher() {
      @Override public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
        if (request.getUrl().encodedPath().startsWith("/v1/watch/")) {
          watchRequests.incrementAndGet();
          releaseWatches.await(10, TimeUnit.SECONDS);
          return ok("");
        }
        return ok(Mocks.get("/k", "v", 7));
      }
    });
  }

  @AfterEach void tearDown() {
    releaseWatches.countDown();
  }

  private long watchRequests() {
    return watchRequests.get();
  }

  private void startWatches(EtcdClient etcd, int count) throws InterruptedException {
    for (int i = 0; i < count; i++) etcd.watch("/w" + i).fromIndex(1).listener(e -> {}).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (watchRequests() < count && System.nanoTime() < deadline) Thread.sleep(5);
    assertThat(watchRequests()).isEqualTo(count); // all long-polls are outstanding at once
  }

  @Test void manyConcurrentWatchesDoNotStarveAGet() throws Exception {
    try (EtcdClient etcd = client(server).build()) {
      startWatches(etcd, 70); // more than the 64 per host the client allows normal calls
      assertThat(etcd.get("/k").sendAsync().get(2, TimeUnit.SECONDS).value()).isEqualTo("v");
    }
  }

  @Test void watchesDoNotUseTheUserClientsPerHostLimit() throws Exception {
    OkHttpClient user = new OkHttpClient(); // OkHttp's dispatcher: 5 requests per host
    try (EtcdClient etcd = client(server).okHttpClient(user).build()) {
      startWatches(etcd, 8);
      assertThat(user.dispatcher().runningCallsCount()).isZero();
      assertThat(etcd.get("/k").sendAsync().get(2, TimeUnit.SECONDS).value()).isEqualTo("v");
    } finally {
      user.dispatcher().executorService().shutdown();
      user.connectionPool().evictAll();
    }
  }

  @Test void closeDoesNotShutDownAUserProvidedOkHttpClient() throws Exception {
    OkHttpClient user = new OkHttpClient();
    try {
      EtcdClient etcd = client(server).okHttpClient(user).build();
      etcd.get("/k").sendAsync().get(2, TimeUnit.SECONDS);
      etcd.watch("/w").fromIndex(1).listener(e -> {}).start();
      etcd.close();

      assertThat(user.dispatcher().executorService().isShutdown()).isFalse();
      try (Response response = user.newCall(new Request.Builder().url(server.url("/v1/keys/k")).build()).execute()) {
        assertThat(response.code()).isEqualTo(200);
      }
    } finally {
      user.dispatcher().executorService().shutdown();
      user.connectionPool().evictAll();
    }
  }

  @Test void closeDoesNotShutDownAUserProvidedExecutor() throws Exception {
    ExecutorService executor = Executors.newCachedThreadPool();
    try {
      EtcdClient etcd = client(server).executorService(executor).build();
      assertThat(etcd.get("/k").sendAsync().get(2, TimeUnit.SECONDS).value()).isEqualTo("v");
      etcd.close();
      assertThat(executor.isShutdown()).isFalse();
    } finally {
      executor.shutdownNow();
    }
  }

  @Test void everyClientThreadIsADaemonAndCloseReleasesThem() throws Exception {
    EtcdClient etcd = client(server).build();
    Thread asyncThread = etcd.get("/k").sendAsync().thenApply(r -> Thread.currentThread()).get(2, TimeUnit.SECONDS);
    startWatches(etcd, 3);
    Set<Thread> ours = longPollThreads();
    if (asyncThread != Thread.currentThread()) {
      // (when the answer was in before thenApply was attached, the function ran on this thread;
      // seen once under load)
      ours.add(asyncThread);
    }

    assertThat(ours).hasSizeGreaterThanOrEqualTo(3).allMatch(Thread::isDaemon); // the async thread may be reused

    etcd.close(); // cancels the long-polls and shuts down the executor the client created
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (ours.stream().anyMatch(Thread::isAlive) && System.nanoTime() < deadline) Thread.sleep(10);
    assertThat(ours).noneMatch(Thread::isAlive);
  }

  @Test void requestsAfterCloseFailClearly() {
    EtcdClient etcd = client(server).build();
    etcd.close();
    etcd.close(); // idempotent
    assertThatThrownBy(() -> etcd.get("/k").send())
        .isInstanceOf(IllegalStateException.class).hasMessage("EtcdClient is closed");
    assertThatThrownBy(() -> etcd.watch("/k").listener(e -> {}).start())
        .isInstanceOf(IllegalStateException.class);
  }

  /** OkHttp names a dispatcher thread after the call it runs: "OkHttp http://host:port/...". */
  private Set<Thread> longPollThreads() {
    String prefix = "OkHttp " + server.url("/"); // OkHttp redacts the path: "http://host:port/..."
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith(prefix))
        .collect(Collectors.toCollection(HashSet::new));
  }
}
