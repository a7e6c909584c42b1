package org.etcdjvm.client.integration;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.client.EtcdResponse;
import org.etcdjvm.client.Watch;
import org.etcdjvm.client.WatchEvent;
import org.etcdjvm.client.WatchResync;
import org.etcdjvm.test.EtcdCluster;
import org.etcdjvm.test.EtcdExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Error 401 from a real node whose watch history is shorter than the watch needs. */
class ResyncTest {
  @RegisterExtension static final EtcdExtension node =
      EtcdExtension.of(EtcdCluster.builder().configureNodes(b -> b.historySize(10)));

  @Test void aWatchFromAClearedIndexResyncsFromTheSnapshotAndContinues() throws Exception {
    try (EtcdClient etcd = EtcdClient.builder().endpoints(node.clientUrl()).build()) {
      long last = 0;
      for (int i = 0; i < 50; i++) last = etcd.set(String.format("/r/k%02d", i), "v" + i).send().index();

      BlockingQueue<Object> seen = new LinkedBlockingQueue<>();
      Watch watch = etcd.watch("/r").fromIndex(1).listener(seen::add).onResync(seen::add).onError(seen::add).start();

      Object first = seen.poll(5, TimeUnit.SECONDS);
      assertThat(first).isInstanceOf(WatchResync.class);
      WatchResync resync = (WatchResync) first;
      assertThat(resync.missedFrom()).isEqualTo(1);
      assertThat(resync.index()).isGreaterThanOrEqualTo(last); // the store's index when the snapshot was read
      assertThat(resync.oldestAvailable()).isGreaterThan(1).isLessThanOrEqualTo(resync.index());
      List<String> keys = new ArrayList<>();
      for (int i = 0; i < 50; i++) keys.add(String.format("/r/k%02d", i));
      assertThat(resync.entries()).extracting(EtcdResponse::key).containsExactlyElementsOf(keys);
      assertThat(resync.entries().get(49).value()).isEqualTo("v49");
      assertThat(watch.nextIndex()).isEqualTo(resync.index() + 1);

      long next = etcd.set("/r/k50", "v50").send().index();
      Object event = seen.poll(5, TimeUnit.SECONDS);
      assertThat(event).isInstanceOf(WatchEvent.class);
      assertThat(((WatchEvent) event).index()).isEqualTo(next);
      assertThat(((WatchEvent) event).value()).isEqualTo("v50");
      long deleted = etcd.delete("/r/k00").send().index();
      Object second = seen.poll(5, TimeUnit.SECONDS);
      assertThat(second).isInstanceOf(WatchEvent.class);
      assertThat(((WatchEvent) second).index()).isEqualTo(deleted);
      assertThat(((WatchEvent) second).type()).isEqualTo(WatchEvent.Type.DELETE);
      assertThat(seen.poll(200, TimeUnit.MILLISECONDS)).as("nothing else: no error, no second resync").isNull();
      watch.close();
    }
  }

  @Test void aWatchWithinTheHistoryReplaysWithoutResync() throws Exception {
    try (EtcdClient etcd = EtcdClient.builder().endpoints(node.clientUrl()).watchTimeout(Duration.ofSeconds(5)).build()) {
      List<Long> indexes = new ArrayList<>();
      for (int i = 0; i < 20; i++) indexes.add(etcd.set("/h/k" + i, "v" + i).send().index());
      long from = indexes.get(15);
      BlockingQueue<Object> seen = new LinkedBlockingQueue<>();
      try (Watch watch = etcd.watch("/h").fromIndex(from).listener(seen::add).onResync(seen::add).onError(seen::add).start()) {
        for (long expected : indexes.subList(15, 20)) {
          Object o = seen.poll(5, TimeUnit.SECONDS);
          assertThat(o).isInstanceOf(WatchEvent.class);
          assertThat(((WatchEvent) o).index()).isEqualTo(expected);
        }
        assertThat(seen.poll(200, TimeUnit.MILLISECONDS)).isNull();
        assertThat(watch.nextIndex()).isEqualTo(indexes.get(19) + 1);
      }
    }
  }
}
