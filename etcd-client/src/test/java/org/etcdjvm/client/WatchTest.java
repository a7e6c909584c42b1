package org.etcdjvm.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.etcdjvm.client.Mocks.body;
import static org.etcdjvm.client.Mocks.client;
import static org.etcdjvm.client.Mocks.error;
import static org.etcdjvm.client.Mocks.ok;
import static org.etcdjvm.client.Mocks.take;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The continuous watch: order, re-watch index, empty polls, history cleared, failover, close. */
class WatchTest {
  @StartStop final MockWebServer a = new MockWebServer();
  @StartStop final MockWebServer b = new MockWebServer();
  /** Everything the watch reported, in order: WatchEvents, WatchResyncs and Throwables. */
  final BlockingQueue<Object> seen = new LinkedBlockingQueue<>();
  EtcdClient etcd;

  @AfterEach void tearDown() {
    if (etcd != null) etcd.close();
  }

  private Watch.Builder watch(String prefix) {
    return etcd.watch(prefix).listener(seen::add).onError(seen::add).onResync(seen::add);
  }

  private Object next() throws InterruptedException {
    Object o = seen.poll(5, TimeUnit.SECONDS);
    if (o == null) throw new AssertionError("nothing seen within 5 s");
    return o;
  }

  private WatchEvent nextEvent() throws InterruptedException {
    Object o = next();
    assertThat(o).isInstanceOf(WatchEvent.class);
    return (WatchEvent) o;
  }

  @Test void deliversInOrderAndRewatchesFromIndexPlusOne() throws Exception {
    a.enqueue(ok(Mocks.set("/foo/a", "1", 5)));
    a.enqueue(ok(Mocks.set("/foo/b", "2", 8)));
    a.enqueue(ok(Mocks.delete("/foo/a", "1", 9)));
    etcd = client(a).build();

    Watch w = watch("/foo").fromIndex(5).start();

    assertThat(nextEvent().index()).isEqualTo(5);
    assertThat(nextEvent().index()).isEqualTo(8);
    WatchEvent third = nextEvent();
    assertThat(third.index()).isEqualTo(9);
    assertThat(third.type()).isEqualTo(WatchEvent.Type.DELETE);
    RecordedRequest first = take(a);
    assertThat(first.getMethod()).isEqualTo("POST");
    assertThat(first.getUrl().encodedPath()).isEqualTo("/v1/watch/foo");
    assertThat(body(first)).isEqualTo("index=5");
    assertThat(body(take(a))).isEqualTo("index=6");
    assertThat(body(take(a))).isEqualTo("index=9");
    assertThat(body(take(a))).isEqualTo("index=10");
    assertThat(w.nextIndex()).isEqualTo(10);
  }

  @Test void startWithoutIndexWatchesFromCurrentIndexPlusOne() throws Exception {
    a.enqueue(ok("[{\"action\":\"GET\",\"key\":\"/foo/a\",\"value\":\"1\",\"index\":10}]"));
    etcd = client(a).build();

    Watch w = watch("/foo").start();

    RecordedRequest anchor = take(a);
    assertThat(anchor.getMethod()).isEqualTo("GET");
    assertThat(anchor.getUrl().encodedPath()).isEqualTo("/v1/keys/foo");
    assertThat(w.nextIndex()).isEqualTo(11); // known before start() returned
    RecordedRequest poll = take(a);
    assertThat(poll.getUrl().encodedPath()).isEqualTo("/v1/watch/foo");
    assertThat(body(poll)).isEqualTo("index=11");
  }

  @Test void startOnMissingPrefixTakesIndexFromRoot() throws Exception {
    a.enqueue(error(400, 100, "Key Not Found", "get: /foo"));
    a.enqueue(ok("[{\"action\":\"GET\",\"key\":\"/_etcd\",\"dir\":true,\"index\":42}]"));
    etcd = client(a).build();

    watch("/foo").start();

    assertThat(take(a).getUrl().encodedPath()).isEqualTo("/v1/keys/foo");
    assertThat(take(a).getUrl().encodedPath()).isEqualTo("/v1/keys/");
    assertThat(body(take(a))).isEqualTo("index=43");
  }

  @Test void emptyStoreFallsBackToNextChangeThenUsesIndexes() throws Exception {
    a.enqueue(ok("[]"));
    a.enqueue(ok("[]"));
    a.enqueue(ok(Mocks.set("/foo", "x", 3)));
    etcd = client(a).build();

    watch("/foo").start();

    assertThat(nextEvent().index()).isEqualTo(3);
    take(a);
    take(a);
    RecordedRequest firstPoll = take(a);
    assertThat(firstPoll.getMethod()).isEqualTo("GET");
    assertThat(firstPoll.getUrl().encodedPath()).isEqualTo("/v1/watch/foo");
    assertThat(body(take(a))).isEqualTo("index=4");
  }

  @Test void emptyLongPollAnswerIsRetriedFromSameIndex() throws Exception {
    a.enqueue(ok(""));
    a.enqueue(ok(Mocks.set("/foo", "x", 5)));
    etcd = client(a).build();

    watch("/foo").fromIndex(5).start();

    assertThat(nextEvent().index()).isEqualTo(5);
    assertThat(body(take(a))).isEqualTo("index=5");
    assertThat(body(take(a))).isEqualTo("index=5");
    assertThat(body(take(a))).isEqualTo("index=6");
    assertThat(seen).isEmpty(); // no error for an empty answer
  }

  @Test void historyClearedReadsDirectoryThenSignalsResyncThenContinues() throws Exception {
    a.enqueue(error(400, 401, "The event in requested index is outdated and cleared", "7"));
    a.enqueue(ok("[{\"action\":\"GET\",\"key\":\"/foo/a\",\"value\":\"1\",\"index\":20},"
        + "{\"action\":\"GET\",\"key\":\"/foo/b\",\"value\":\"2\",\"index\":20}]"));
    a.enqueue(ok(Mocks.set("/foo/c", "3", 21)));
    etcd = client(a).build();

    watch("/foo").fromIndex(3).start();

    Object first = next();
    assertThat(first).isInstanceOf(WatchResync.class);
    WatchResync resync = (WatchResync) first;
    assertThat(resync.entries()).extracting(EtcdResponse::key).containsExactly("/foo/a", "/foo/b");
    assertThat(resync.index()).isEqualTo(20);
    assertThat(resync.missedFrom()).isEqualTo(3);
    assertThat(resync.oldestAvailable()).isEqualTo(7);
    assertThat(nextEvent().index()).isEqualTo(21);

    assertThat(body(take(a))).isEqualTo("index=3");
    RecordedRequest reread = take(a);
    assertThat(reread.getMethod()).isEqualTo("GET");
    assertThat(reread.getUrl().encodedPath()).isEqualTo("/v1/keys/foo");
    assertThat(body(take(a))).isEqualTo("index=21");
  }

  @Test void historyClearedWithoutResyncCallbackIsReportedAsError() throws Exception {
    a.enqueue(error(400, 401, "The event in requested index is outdated and cleared", "7"));
    a.enqueue(ok("[{\"action\":\"GET\",\"key\":\"/foo/a\",\"value\":\"1\",\"index\":20}]"));
    etcd = client(a).build();

    etcd.watch("/foo").listener(seen::add).onError(seen::add).fromIndex(3).start();

    assertThat(next()).isInstanceOf(IndexClearedException.class)
        .satisfies(e -> assertThat(((IndexClearedException) e).oldestIndex()).isEqualTo(7));
    take(a);
    take(a);
    assertThat(body(take(a))).isEqualTo("index=21");
  }

  @Test void survivesEndpointGoingAwayAndResumesFromLastIndex() throws Exception {
    a.enqueue(ok(Mocks.set("/foo", "1", 5)));
    b.enqueue(ok(Mocks.set("/foo", "2", 6)));
    etcd = client(a, b).build();

    watch("/foo").fromIndex(5).start();
    assertThat(nextEvent().index()).isEqualTo(5);
    take(a);
    assertThat(body(take(a))).isEqualTo("index=6"); // this poll is outstanding on a...
    a.close();                                       // ...when a goes away

    assertThat(next()).isInstanceOf(IOException.class); // reported, for information
    assertThat(nextEvent().index()).isEqualTo(6);
    RecordedRequest resumed = take(b);
    assertThat(resumed.getUrl().encodedPath()).isEqualTo("/v1/watch/foo");
    assertThat(body(resumed)).isEqualTo("index=6");
  }

  @Test void serverErrorMovesWatchToNextEndpoint() throws Exception {
    a.enqueue(error(503, 300, "Raft Internal Error", "too many watchers"));
    b.enqueue(ok(Mocks.set("/foo", "1", 5)));
    etcd = client(a, b).build();

    watch("/foo").fromIndex(5).start();

    assertThat((Throwable) next()).isInstanceOf(IOException.class).hasMessageContaining("too many watchers");
    assertThat(nextEvent().index()).isEqualTo(5);
    assertThat(body(take(b))).isEqualTo("index=5");
  }

  @Test void closeStopsWatchingAndSendsNoMoreRequests() throws Exception {
    etcd = client(a).build();
    Watch w = watch("/foo").fromIndex(5).start();
    take(a); // the long-poll is outstanding

    w.close();
    a.enqueue(ok(Mocks.set("/foo", "1", 5)));
    Thread.sleep(300);

    assertThat(w.isClosed()).isTrue();
    assertThat(a.getRequestCount()).isEqualTo(1);
    assertThat(seen).isEmpty();
  }

  @Test void clientCloseClosesWatches() throws Exception {
    etcd = client(a).build();
    Watch w = watch("/foo").fromIndex(5).start();
    take(a);

    etcd.close();

    assertThat(w.isClosed()).isTrue();
  }

  @Test void longPollHasItsOwnTimeoutIndependentOfReadTimeout() throws Exception {
    AtomicLong index = new AtomicLong(5);
    a.setDispatcher(new Dispatcher() {
      @Override public MockResponse dispatch(RecordedRequest request) {
        String body = request.getUrl().encodedPath().startsWith("/v1/watch/")
            ? Mocks.set("/foo", "v", index.getAndIncrement())
            : Mocks.get("/foo", "v", 5);
        return new MockResponse.Builder().body(body).headersDelay(700, TimeUnit.MILLISECONDS).build();
      }
    });
    etcd = client(a).readTimeout(Duration.ofMillis(250)).watchTimeout(Duration.ofSeconds(5)).build();

    watch("/foo").fromIndex(5).start();

    assertThat(nextEvent().index()).isEqualTo(5); // the long-poll outlived the 250 ms read timeout...
    assertThat(nextEvent().index()).isEqualTo(6);
    assertThatThrownBy(() -> etcd.get("/foo").send()) // ...which still applies to a normal call
        .isInstanceOf(SocketTimeoutException.class);
  }

  @Test void idleLongPollIsReissuedFromSameIndexWithoutError() throws Exception {
    a.enqueue(new MockResponse.Builder().body(Mocks.set("/foo", "late", 5))
        .headersDelay(2, TimeUnit.SECONDS).build());
    a.enqueue(ok(Mocks.set("/foo", "1", 5)));
    etcd = client(a).build();

    watch("/foo").fromIndex(5).timeout(Duration.ofMillis(300)).start();

    WatchEvent event = nextEvent();
    assertThat(event.value()).isEqualTo("1");
    assertThat(body(take(a))).isEqualTo("index=5");
    assertThat(body(take(a))).isEqualTo("index=5");
  }

  @Test void expiryIsToldApartFromDelete() throws Exception {
    Instant past = Instant.now().minusSeconds(2);
    Instant future = Instant.now().plusSeconds(60);
    a.enqueue(ok(Mocks.set("/foo/k", "v", 5)));
    a.enqueue(ok("{\"action\":\"DELETE\",\"key\":\"/foo/k\",\"prevValue\":\"v\",\"expiration\":\"" + future + "\",\"index\":6}"));
    a.enqueue(ok("{\"action\":\"DELETE\",\"key\":\"/foo/t\",\"prevValue\":\"v\",\"expiration\":\"" + past + "\",\"index\":7}"));
    a.enqueue(ok(Mocks.delete("/foo/p", "v", 8)));
    etcd = client(a).build();
    BlockingQueue<String> typed = new LinkedBlockingQueue<>();

    etcd.watch("/foo").fromIndex(5)
        .onSet(e -> typed.add("set " + e.index()))
        .onDelete(e -> typed.add("delete " + e.index()))
        .onExpire(e -> typed.add("expire " + e.index()))
        .start();

    List<String> expected = List.of("set 5", "delete 6", "expire 7", "delete 8");
    for (String e : expected) assertThat(typed.poll(5, TimeUnit.SECONDS)).isEqualTo(e);
  }

  @Test void nonRecursiveWatchDeliversOnlyTheKeyButAdvancesIndex() throws Exception {
    a.enqueue(ok(Mocks.set("/foo/child", "1", 5)));
    a.enqueue(ok(Mocks.set("/foo", "2", 6)));
    etcd = client(a).build();

    watch("/foo").recursive(false).fromIndex(5).start();

    assertThat(nextEvent().key()).isEqualTo("/foo");
    take(a);
    assertThat(body(take(a))).isEqualTo("index=6");
    assertThat(body(take(a))).isEqualTo("index=7");
  }

  @Test void replayedEventIsDeliveredOnce() throws Exception {
    a.enqueue(ok(Mocks.set("/foo", "1", 5)));
    a.enqueue(ok(Mocks.set("/foo", "1", 5)));
    a.enqueue(ok(Mocks.set("/foo", "2", 6)));
    etcd = client(a).build();

    watch("/foo").fromIndex(5).start();

    assertThat(nextEvent().index()).isEqualTo(5);
    assertThat(nextEvent().index()).isEqualTo(6);
  }

  @Test void failingListenerIsReportedAndWatchContinues() throws Exception {
    a.enqueue(ok(Mocks.set("/foo", "1", 5)));
    a.enqueue(ok(Mocks.set("/foo", "2", 6)));
    etcd = client(a).build();

    etcd.watch("/foo").fromIndex(5).onError(seen::add)
        .listener(e -> {
          if (e.index() == 5) throw new IllegalStateException("boom");
          seen.add(e);
        })
        .start();

    assertThat((Throwable) next()).isInstanceOf(IllegalStateException.class).hasMessage("boom");
    assertThat(nextEvent().index()).isEqualTo(6);
  }

  @Test void callbacksRunOnTheCallbackExecutor() throws Exception {
    ExecutorService callbacks = Executors.newSingleThreadExecutor(r -> new Thread(r, "my-callbacks"));
    try {
      a.enqueue(ok(Mocks.set("/foo", "1", 5)));
      etcd = client(a).callbackExecutor(callbacks).build();
      BlockingQueue<String> threads = new LinkedBlockingQueue<>();

      etcd.watch("/foo").fromIndex(5).listener(e -> threads.add(Thread.currentThread().getName())).start();

      assertThat(threads.poll(5, TimeUnit.SECONDS)).isEqualTo("my-callbacks");
    } finally {
      callbacks.shutdownNow();
    }
  }

  @Test void keepsWatchingAfterConnectionDropsWithSingleEndpoint() throws Exception {
    a.enqueue(new MockResponse.Builder().onResponseStart(SocketEffect.ShutdownConnection.INSTANCE).build());
    a.enqueue(ok(Mocks.set("/foo", "1", 5)));
    etcd = client(a).build();

    watch("/foo").fromIndex(5).start();

    assertThat(next()).isInstanceOf(IOException.class);
    assertThat(nextEvent().index()).isEqualTo(5);
    assertThat(body(take(a))).isEqualTo("index=5");
    assertThat(body(take(a))).isEqualTo("index=5");
  }
}
