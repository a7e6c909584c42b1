package org.etcdjvm.embedded.internal.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.T0;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.delete;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.set;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class EtcdStoreConcurrencyTest {

  /**
   * One writer keeps /counter's value equal to the index of the write that set it, and keeps
   * /dir/a and /dir/b created and deleted together in pairs of writes. Readers check every read is
   * consistent with one point in that sequence.
   */
  @Test
  void readersOnManyThreadsSeeOnlyConsistentStatesWhileOneThreadWrites() throws Exception {
    EtcdStore store = new EtcdStore(StoreLimits.defaults());
    store.apply(set("/counter", "1"), T0);
    int writes = 20_000;
    AtomicBoolean done = new AtomicBoolean();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    AtomicLong reads = new AtomicLong();
    int readers = 4;
    CountDownLatch started = new CountDownLatch(readers);
    Thread[] threads = new Thread[readers];
    for (int t = 0; t < readers; t++) {
      threads[t] = new Thread(() -> {
        started.countDown();
        long lastIndex = 0;
        try {
          while (!done.get()) {
            Event counter = store.get("/counter").node();
            assertThat(counter.index()).isGreaterThanOrEqualTo(lastIndex);
            lastIndex = counter.index();
            // /counter was written by the write with this index, or one of the /dir writes after it
            long value = Long.parseLong(counter.value());
            assertThat(counter.index() - value).isBetween(0L, 1L);
            List<Event> root = store.get("/").children();
            assertThat(root).extracting(Event::key).isSorted();
            assertThat(root).allSatisfy(e -> assertThat(e.index()).isEqualTo(root.get(0).index()));
            assertThat(store.index()).isGreaterThanOrEqualTo(lastIndex);
            reads.addAndGet(3);
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      });
      threads[t].start();
    }
    assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
    long start = System.nanoTime();
    for (int i = 0; i < writes; i++) {
      long next = store.index() + 1;
      if (i % 2 == 0) {
        store.apply(set("/counter", Long.toString(next)), T0);
      } else {
        store.apply(set("/k" + (i % 50), "v"), T0);
        store.apply(set("/counter", Long.toString(next + 1)), T0);
        if (i % 7 == 0) {
          store.apply(delete("/k" + (i % 50)), T0);
          store.apply(set("/counter", Long.toString(next + 3)), T0);
        }
      }
    }
    Thread.sleep(50);
    done.set(true);
    for (Thread t : threads) {
      t.join(10_000);
    }
    long millis = Math.max(1, (System.nanoTime() - start) / 1_000_000);
    assertThat(failures).isEmpty();
    assertThat(reads.get()).isPositive();
    System.out.printf("concurrency: %d writes, %d reads in %d ms%n", store.index(), reads.get(), millis);
  }

  @Test
  void watchersRegisteringConcurrentlyWithWritesEachGetExactlyOneEvent() throws Exception {
    EtcdStore store = new EtcdStore(StoreLimits.defaults());
    int watchers = 2000;
    AtomicLong fired = new AtomicLong();
    Thread writer = new Thread(() -> {
      for (int i = 0; i < 5000; i++) {
        try {
          store.apply(set("/w/" + (i % 10), "v" + i), T0);
        } catch (StoreException e) {
          throw new AssertionError(e);
        }
      }
    });
    writer.start();
    for (int i = 0; i < watchers; i++) {
      store.watches().watch("/w/" + (i % 10), 0, e -> fired.incrementAndGet());
    }
    writer.join();
    // anything still pending gets one more event
    for (int k = 0; k < 10; k++) {
      store.apply(set("/w/" + k, "final"), T0);
    }
    assertThat(fired.get()).isEqualTo(watchers);
    assertThat(store.watches().activeWatchers()).isZero();
  }
}
