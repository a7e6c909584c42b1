package org.etcdjvm.embedded.internal.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.T0;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.assertEtcdError;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.delete;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.set;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class WatchHubTest {
  private final EtcdStore store = new EtcdStore(new StoreLimits(1024, 1 << 20, 5, 3));
  private final WatchHub hub = store.watches();
  private final List<Event> seen = new ArrayList<>();

  @Test
  void aWatchFromZeroGetsTheNextChangeAtTheKey() throws StoreException {
    store.apply(set("/foo", "old"), T0);
    hub.watch("/foo", 0, seen::add);
    assertThat(seen).isEmpty();
    Event e = store.apply(set("/foo", "new"), T0);
    assertThat(seen).containsExactly(e);
  }

  @Test
  void aWatchOnAPrefixSeesChangesUnderIt() throws StoreException {
    hub.watch("/foo-service", 0, seen::add);
    Event e = store.apply(set("/foo-service/container2", "localhost:2222"), T0);
    assertThat(seen).containsExactly(e);
  }

  @Test
  void prefixMatchingRespectsSegmentBoundaries() throws StoreException {
    hub.watch("/foo", 0, seen::add);
    store.apply(set("/foobar", "x"), T0);
    store.apply(set("/fo", "x"), T0);
    assertThat(seen).isEmpty();
    Event e = store.apply(set("/foo/bar/baz", "x"), T0);
    assertThat(seen).containsExactly(e);
  }

  @Test
  void aWatchOnADeeperKeyDoesNotSeeItsParent() throws StoreException {
    store.apply(set("/a/b", "x"), T0);
    hub.watch("/a/b/c", 0, seen::add);
    store.apply(delete("/a/b"), T0);
    assertThat(seen).isEmpty();
  }

  @Test
  void aRootWatchSeesEverythingLiveAndFromHistory() throws StoreException {
    Event first = store.apply(set("/x/y", "1"), T0);
    hub.watch("/", 0, seen::add);
    Event second = store.apply(set("/z", "2"), T0);
    hub.watch("/", 1, seen::add);
    assertThat(seen).containsExactly(second, first);
  }

  @Test
  void deletesAreDelivered() throws StoreException {
    store.apply(set("/foo", "bar"), T0);
    hub.watch("/foo", 0, seen::add);
    Event e = store.apply(delete("/foo"), T0);
    assertThat(seen).containsExactly(e);
    assertThat(e.action()).isEqualTo(Action.DELETE);
  }

  @Test
  void failedWritesAreNotDelivered() throws StoreException {
    hub.watch("/", 0, seen::add);
    assertEtcdError(() -> store.apply(delete("/missing"), T0), EtcdError.KEY_NOT_FOUND, "delete: /missing");
    assertThat(seen).isEmpty();
    assertThat(hub.activeWatchers()).isEqualTo(1);
  }

  @Test
  void aWatchFromAnIndexReturnsTheFirstMatchingEventFromHistoryAtOnce() throws StoreException {
    store.apply(set("/other", "1"), T0);
    Event foo2 = store.apply(set("/foo", "2"), T0);
    store.apply(set("/foo", "3"), T0);
    hub.watch("/foo", 1, seen::add);
    assertThat(seen).containsExactly(foo2);
    assertThat(hub.activeWatchers()).isZero();
  }

  @Test
  void aWatchFromAnIndexReturnsThatExactIndexWhenItMatches() throws StoreException {
    store.apply(set("/foo", "1"), T0);
    Event e2 = store.apply(set("/foo", "2"), T0);
    hub.watch("/foo", 2, seen::add);
    assertThat(seen).containsExactly(e2);
  }

  @Test
  void aWatchFromAnIndexWithNoMatchInHistoryWaitsForTheNextOne() throws StoreException {
    store.apply(set("/other", "1"), T0);
    hub.watch("/foo", 1, seen::add);
    assertThat(seen).isEmpty();
    store.apply(set("/other", "2"), T0);
    Event e = store.apply(set("/foo/x", "3"), T0);
    assertThat(seen).containsExactly(e);
  }

  @Test
  void aWatchFromAFutureIndexWaitsForThatIndex() throws StoreException {
    store.apply(set("/foo", "1"), T0);
    hub.watch("/foo", 4, seen::add);
    store.apply(set("/foo", "2"), T0);
    store.apply(set("/foo", "3"), T0);
    assertThat(seen).isEmpty();
    Event e4 = store.apply(set("/foo", "4"), T0);
    assertThat(seen).containsExactly(e4);
  }

  @Test
  void aWatchOlderThanTheHistoryIsCleared() throws StoreException {
    for (int i = 1; i <= 7; i++) {
      store.apply(set("/k", "v" + i), T0); // history holds 5: indexes 3..7
    }
    assertThat(hub.oldestRetainedIndex()).isEqualTo(3);
    assertEtcdError(() -> hub.watch("/k", 1, seen::add), EtcdError.EVENT_INDEX_CLEARED, "3");
    assertEtcdError(() -> hub.watch("/", 2, seen::add), EtcdError.EVENT_INDEX_CLEARED, "3");
    hub.watch("/k", 3, seen::add);
    assertThat(seen).extracting(Event::index).containsExactly(3L);
    assertThat(hub.activeWatchers()).isZero();
  }

  @Test
  void theClearedCheckAppliesEvenIfALaterEventMatches() throws StoreException {
    for (int i = 1; i <= 6; i++) {
      store.apply(set("/k" + i, "v"), T0); // index 1 evicted
    }
    assertEtcdError(() -> hub.watch("/k6", 1, seen::add), EtcdError.EVENT_INDEX_CLEARED, "2");
  }

  @Test
  void largeValuesLeaveFewerEventsInTheHistoryTheNewestAlwaysKept() throws Exception {
    // 100 events allowed, but only 2 500 characters of keys, values and previous values
    EtcdStore store = new EtcdStore(new StoreLimits(1024, 1 << 20, 100, 10, 2_500));
    String big = "v".repeat(1_000);
    for (int i = 1; i <= 5; i++) {
      store.apply(set("/big", big + i), T0); // each overwrite holds ~2 000: value and previous value
    }
    WatchHub hub = store.watches();
    assertThat(hub.oldestRetainedIndex()).isEqualTo(5);
    assertEtcdError(() -> hub.watch("/big", 4, seen::add), EtcdError.EVENT_INDEX_CLEARED, "5");
    hub.watch("/big", 5, seen::add);
    assertThat(seen).extracting(Event::value).containsExactly(big + 5);

    // one event larger than the whole budget is still kept, alone
    store.apply(set("/huge", "h".repeat(10_000)), T0);
    assertThat(hub.oldestRetainedIndex()).isEqualTo(6);
    // small events fill the history again up to the count
    for (int i = 0; i < 10; i++) {
      store.apply(set("/s" + i, "x"), T0);
    }
    assertThat(hub.oldestRetainedIndex()).isEqualTo(7);

    // a snapshot restored into a store with the same limits keeps the same history
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    store.writeSnapshot(new java.io.DataOutputStream(bytes));
    EtcdStore copy = new EtcdStore(new StoreLimits(1024, 1 << 20, 100, 10, 2_500));
    copy.readSnapshot(new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray())));
    assertThat(copy.watches().oldestRetainedIndex()).isEqualTo(7);
  }

  @Test
  void oldestRetainedIndexIsZeroForAnEmptyHistory() {
    assertThat(hub.oldestRetainedIndex()).isZero();
  }

  @Test
  void aWatchFiresOnlyOnce() throws StoreException {
    hub.watch("/foo", 0, seen::add);
    Event first = store.apply(set("/foo", "1"), T0);
    store.apply(set("/foo", "2"), T0);
    assertThat(seen).containsExactly(first);
    assertThat(hub.activeWatchers()).isZero();
  }

  @Test
  void allWatchersOfAnEventFireAtEveryLevel() throws StoreException {
    List<String> who = new ArrayList<>();
    hub.watch("/", 0, e -> who.add("root"));
    hub.watch("/a", 0, e -> who.add("a"));
    hub.watch("/a/b", 0, e -> who.add("a/b"));
    store.apply(set("/a/b", "x"), T0);
    assertThat(who).containsExactly("root", "a", "a/b");
    assertThat(hub.activeWatchers()).isZero();
  }

  @Test
  void cancelIsIdempotentAndFreesTheSlot() throws StoreException {
    WatchHub.Watch w = hub.watch("/foo", 0, seen::add);
    assertThat(hub.activeWatchers()).isEqualTo(1);
    w.cancel();
    w.cancel();
    assertThat(hub.activeWatchers()).isZero();
    store.apply(set("/foo", "1"), T0);
    assertThat(seen).isEmpty();
  }

  @Test
  void cancellingAFiredWatchDoesNothing() throws StoreException {
    WatchHub.Watch w = hub.watch("/foo", 0, seen::add);
    hub.watch("/foo", 0, seen::add);
    store.apply(set("/foo", "1"), T0);
    w.cancel();
    assertThat(hub.activeWatchers()).isZero();
    hub.watch("/foo", 0, seen::add);
    assertThat(hub.activeWatchers()).isEqualTo(1);
  }

  @Test
  void tooManyWatchersIsARaftInternalError() throws StoreException {
    WatchHub.Watch a = hub.watch("/a", 0, seen::add);
    hub.watch("/b", 0, seen::add);
    hub.watch("/c", 0, seen::add);
    assertEtcdError(() -> hub.watch("/d", 0, seen::add), EtcdError.RAFT_INTERNAL, "too many watchers");
    a.cancel();
    hub.watch("/d", 0, seen::add);
    assertThat(hub.activeWatchers()).isEqualTo(3);
  }

  @Test
  void aHistoryHitNeedsNoSlot() throws StoreException {
    store.apply(set("/a", "1"), T0);
    hub.watch("/x", 0, seen::add);
    hub.watch("/y", 0, seen::add);
    hub.watch("/z", 0, seen::add);
    hub.watch("/a", 1, seen::add);
    assertThat(seen).extracting(Event::key).containsExactly("/a");
  }

  @Test
  void aThrowingCallbackDoesNotBreakTheWriteOrOtherWatchers() throws StoreException {
    hub.watch("/foo", 0, e -> {
      throw new IllegalStateException("boom");
    });
    hub.watch("/foo", 0, seen::add);
    Event e = store.apply(set("/foo", "1"), T0);
    assertThat(seen).containsExactly(e);
    assertThat(store.get("/foo").node().value()).isEqualTo("1");
  }

  @Test
  void callbacksRunAfterTheChangeIsVisibleAndOutsideLocks() throws Exception {
    AtomicBoolean visible = new AtomicBoolean();
    CountDownLatch otherThreadDone = new CountDownLatch(1);
    hub.watch("/foo", 0, e -> {
      Thread reader = new Thread(() -> {
        try {
          visible.set("1".equals(store.get("/foo").node().value()));
          hub.watch("/bar", 0, x -> {}).cancel();
        } catch (StoreException ex) {
          // visible stays false
        }
        otherThreadDone.countDown();
      });
      reader.start();
      try {
        assertThat(otherThreadDone.await(5, TimeUnit.SECONDS)).isTrue();
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
      }
    });
    store.apply(set("/foo", "1"), T0);
    assertThat(visible).isTrue();
  }

  @Test
  void aWatchCanBeRegisteredFromInsideACallback() throws StoreException {
    List<Event> second = new ArrayList<>();
    hub.watch("/foo", 0, e -> {
      try {
        hub.watch("/foo", e.index() + 1, second::add);
      } catch (StoreException ex) {
        throw new AssertionError(ex);
      }
    });
    store.apply(set("/foo", "1"), T0);
    Event next = store.apply(set("/foo", "2"), T0);
    assertThat(second).containsExactly(next);
  }

  @Test
  void noEventSlipsBetweenHistoryLookupAndRegistration() throws Exception {
    EtcdStore big = new EtcdStore(new StoreLimits(1024, 1 << 20, 100_000, 100_000));
    int writes = 3000;
    List<Event> received = new CopyOnWriteArrayList<>();
    Thread writer = new Thread(() -> {
      for (int i = 0; i < writes; i++) {
        try {
          big.apply(set("/k", "v" + i), T0);
        } catch (StoreException e) {
          throw new AssertionError(e);
        }
      }
    });
    writer.start();
    // A client that re-watches from lastIndex + 1 must see every index exactly once.
    long next = 1;
    while (next <= writes) {
      CountDownLatch got = new CountDownLatch(1);
      Event[] box = new Event[1];
      big.watches().watch("/k", next, e -> {
        box[0] = e;
        got.countDown();
      });
      assertThat(got.await(10, TimeUnit.SECONDS)).isTrue();
      received.add(box[0]);
      next = box[0].index() + 1;
    }
    writer.join();
    assertThat(received).extracting(Event::index).containsExactlyElementsOf(
        java.util.stream.LongStream.rangeClosed(1, writes).boxed().toList());
  }
}
