package org.etcdjvm.client.integration;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import okhttp3.OkHttpClient;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.client.EtcdException;
import org.etcdjvm.client.EtcdResponse;
import org.etcdjvm.client.Watch;
import org.etcdjvm.client.WatchEvent;
import org.etcdjvm.client.WriteOutcomeUnknownException;
import org.etcdjvm.embedded.EtcdNode;
import org.etcdjvm.test.EtcdExtension;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The client against three real in-process members of one Raft group: writes through a follower,
 * and watches that outlive the leader. The last test kills the leader, so it runs last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ThreeNodeTest {
  @RegisterExtension static final EtcdExtension cluster = EtcdExtension.cluster(3);

  /**
   * A client that knows only a follower: its first write is redirected (307) and followed by the
   * client, the leader is remembered, and the next writes go straight to it. Reads stay local.
   */
  @Test @Order(1) void aClientThatKnowsOnlyAFollowerWritesThroughTheLeaderAndRemembersIt() throws Exception {
    int leaderIndex = cluster.leaderIndex();
    EtcdNode leader = cluster.node(leaderIndex);
    EtcdNode follower = cluster.node((leaderIndex + 1) % 3);
    List<String> hits = Collections.synchronizedList(new ArrayList<>());
    OkHttpClient recording = new OkHttpClient.Builder()
        .addNetworkInterceptor(chain -> {
          hits.add(chain.request().method() + " " + chain.request().url());
          return chain.proceed(chain.request());
        })
        .build();
    String viaFollower = Await.base(follower.clientUrl()) + "v1/keys/redirect/";
    String viaLeader = Await.base(leader.clientUrl()) + "v1/keys/redirect/";
    try (EtcdClient etcd = EtcdClient.builder().endpoints(follower.clientUrl()).okHttpClient(recording)
        .autoSync(false).build()) {
      assertThat(etcd.writeEndpoint()).isEqualTo(Await.base(follower.clientUrl()));

      EtcdResponse first = etcd.set("/redirect/a", "1").send();
      assertThat(first.newKey()).isTrue();
      assertThat(hits).containsExactly("POST " + viaFollower + "a", "POST " + viaLeader + "a");
      assertThat(etcd.writeEndpoint()).isEqualTo(Await.base(leader.clientUrl()));
      assertThat(etcd.endpoints()).containsExactly(Await.base(follower.clientUrl()), Await.base(leader.clientUrl()));

      hits.clear();
      EtcdResponse second = etcd.set("/redirect/b", "2").send();
      assertThat(second.index()).isGreaterThan(first.index());
      assertThat(hits).containsExactly("POST " + viaLeader + "b");
      hits.clear();
      assertThat(etcd.compareAndSet("/redirect/b", "2", "3").send().value()).isEqualTo("3");
      assertThat(etcd.delete("/redirect/a").send().prevValue()).isEqualTo("1");
      assertThat(hits).containsExactly("POST " + viaLeader + "b", "DELETE " + viaLeader + "a");

      // reads are answered by the follower itself once it has applied this client's writes (until
      // then a read is asked again of the leader: read-your-writes)
      try (EtcdClient followerOnly = EtcdClient.builder().endpoints(follower.clientUrl()).autoSync(false).build()) {
        Await.until(Duration.ofSeconds(10), () -> value(followerOnly, "/redirect/a").isEmpty());
      }
      hits.clear();
      assertThat(value(etcd, "/redirect/b")).isEqualTo("3");
      assertThat(hits).containsExactly("GET " + viaFollower + "b");
    } finally {
      recording.dispatcher().executorService().shutdown();
      recording.connectionPool().evictAll();
    }

    // with the member list read from /v1/machines, the leader is known before the first write
    try (EtcdClient synced = EtcdClient.builder().endpoints(follower.clientUrl()).autoSync(false).build()) {
      assertThat(synced.machines().send()).hasSize(3).first().isEqualTo(leader.clientUrl());
      assertThat(synced.writeEndpoint()).isEqualTo(Await.base(leader.clientUrl()));
      assertThat(synced.endpoints()).hasSize(3);
    }
  }

  /**
   * Two watches are open while the leader is stopped and a writer keeps writing through the
   * survivors: one on a follower (its connection stays up across the election), one on the leader
   * (its connection dies; it resumes on a survivor from its last index). Both deliver every
   * acknowledged write, in index order, once. Writes that fail during the election are retried
   * until acknowledged; an attempt reported as "outcome unknown" may show up as an extra event,
   * any other failed attempt must not.
   */
  @Test @Order(2) void watchesSurviveTheLeaderStoppingAndMissNoEvent() throws Exception {
    int leaderIndex = cluster.leaderIndex();
    EtcdNode leader = cluster.node(leaderIndex);
    List<EtcdNode> followers = List.of(cluster.node((leaderIndex + 1) % 3), cluster.node((leaderIndex + 2) % 3));
    String[] followersFirst = {followers.get(0).clientUrl(), followers.get(1).clientUrl(), leader.clientUrl()};
    String[] leaderFirst = {leader.clientUrl(), followers.get(0).clientUrl(), followers.get(1).clientUrl()};

    try (EtcdClient onFollower = EtcdClient.builder().endpoints(followersFirst).watchTimeout(Duration.ofSeconds(5)).build();
        EtcdClient onLeader = EtcdClient.builder().endpoints(leaderFirst).watchTimeout(Duration.ofSeconds(5)).build();
        EtcdClient writer = EtcdClient.builder().endpoints(followersFirst).readTimeout(Duration.ofSeconds(10)).build()) {
      Recorder a = new Recorder();
      Recorder b = new Recorder();
      try (Watch watchA = onFollower.watch("/failover").listener(a.events::add).onError(a.errors::add).start();
          Watch watchB = onLeader.watch("/failover").listener(b.events::add).onError(b.errors::add).start()) {
        int total = 150;
        Map<Long, String> acknowledged = new ConcurrentHashMap<>(); // index -> value
        Set<String> outcomeUnknown = ConcurrentHashMap.newKeySet(); // values of attempts that may have been applied
        ConcurrentLinkedQueue<Exception> refused = new ConcurrentLinkedQueue<>();
        AtomicInteger done = new AtomicInteger();
        Thread writes = new Thread(() -> {
          for (int i = 0; i < total; i++) {
            for (int attempt = 0; ; attempt++) {
              String value = "v" + i + "." + attempt;
              try {
                acknowledged.put(writer.set("/failover/k" + i, value).send().index(), value);
                break;
              } catch (WriteOutcomeUnknownException e) {
                outcomeUnknown.add(value);
              } catch (IOException | EtcdException e) {
                refused.add(e);
              }
              if (attempt > 300) throw new AssertionError("write " + i + " never acknowledged", refused.peek());
              sleep(50);
            }
            done.incrementAndGet();
          }
        }, "writer");
        writes.start();

        Await.until(Duration.ofSeconds(20), () -> done.get() >= 50);
        cluster.kill(leaderIndex);
        writes.join(45_000);
        assertThat(writes.isAlive()).isFalse();
        assertThat(done.get()).isEqualTo(total);
        int newLeaderIndex = cluster.leaderIndex();
        assertThat(newLeaderIndex).isNotEqualTo(leaderIndex);
        EtcdNode newLeader = cluster.node(newLeaderIndex);

        System.out.printf("leader %s stopped; new leader %s; %d writes refused, %d outcome unknown: %s%n"
            + "watch on follower: %d events, errors %s%nwatch on old leader: %d events, errors %s%n",
            leader.name(), newLeader.name(), refused.size(), outcomeUnknown.size(), refused,
            a.events.size(), a.errors, b.events.size(), b.errors);
        long last = Collections.max(acknowledged.keySet());
        Await.until(Duration.ofSeconds(15), () -> a.lastIndex() >= last && b.lastIndex() >= last);
        Thread.sleep(200); // a duplicate would arrive now

        for (Recorder r : List.of(a, b)) {
          List<WatchEvent> seen = new ArrayList<>(r.events);
          List<Long> indexes = seen.stream().map(WatchEvent::index).collect(Collectors.toList());
          assertThat(indexes).isSorted().doesNotHaveDuplicates();
          assertThat(indexes).containsAll(acknowledged.keySet());
          for (WatchEvent e : seen) {
            assertThat(e.type()).isEqualTo(WatchEvent.Type.SET);
            if (acknowledged.containsKey(e.index())) {
              assertThat(e.value()).isEqualTo(acknowledged.get(e.index()));
            } else {
              assertThat(outcomeUnknown).as("extra event %s: only an 'outcome unknown' write may be applied", e)
                  .contains(e.value());
            }
          }
        }
        assertThat(b.events.stream().map(WatchEvent::index).collect(Collectors.toList()))
            .isEqualTo(a.events.stream().map(WatchEvent::index).collect(Collectors.toList()));
        assertThat(b.errors).as("the watch on the leader lost its connection and failed over").isNotEmpty();
        assertThat(watchA.nextIndex()).isEqualTo(a.lastIndex() + 1);
        assertThat(watchB.nextIndex()).isEqualTo(b.lastIndex() + 1);

        // a survivor holds, for every key, the value of the last event the watches saw for it
        Map<String, String> lastByKey = new TreeMap<>();
        for (WatchEvent e : a.events) lastByKey.put(e.key(), e.value());
        Map<String, String> listed = new TreeMap<>();
        for (EtcdResponse e : writer.list("/failover").send()) listed.put(e.key(), e.value());
        assertThat(listed).hasSize(total).isEqualTo(lastByKey);
      }
    }
  }

  private static String value(EtcdClient etcd, String key) {
    try {
      EtcdResponse r = etcd.getOrNull(key);
      return r == null ? "" : r.value();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static final class Recorder {
    final ConcurrentLinkedQueue<WatchEvent> events = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    long lastIndex() {
      long max = 0;
      for (WatchEvent e : events) max = Math.max(max, e.index());
      return max;
    }
  }
}
