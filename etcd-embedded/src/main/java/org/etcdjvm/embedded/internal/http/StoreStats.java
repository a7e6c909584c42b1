package org.etcdjvm.embedded.internal.http;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counters behind {@code /v1/stats/store}: successful operations served by this node since it
 * started. Thread-safe; counting never contends between event loops.
 *
 * <p>A successful test-and-set counts in both {@code testAndSets} and {@code sets}, as in etcd 0.1.x.
 * Writes are counted by the node that answered them (the leader; a follower only redirects).
 */
final class StoreStats {
  private final LongAdder gets = new LongAdder();
  private final LongAdder sets = new LongAdder();
  private final LongAdder deletes = new LongAdder();
  private final LongAdder testAndSets = new LongAdder();

  void countGet() {
    gets.increment();
  }

  void countSet(boolean testAndSet) {
    sets.increment();
    if (testAndSet) {
      testAndSets.increment();
    }
  }

  void countDelete() {
    deletes.increment();
  }

  /** {@code {"gets":N,"sets":N,"deletes":N,"testAndSets":N}}, no trailing newline. */
  byte[] toJson() {
    String json = "{\"gets\":" + gets.sum()
        + ",\"sets\":" + sets.sum()
        + ",\"deletes\":" + deletes.sum()
        + ",\"testAndSets\":" + testAndSets.sum()
        + "}";
    return json.getBytes(StandardCharsets.US_ASCII);
  }
}
