package org.etcdjvm.faults;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.client.Watch;
import org.etcdjvm.client.WatchEvent;
import org.etcdjvm.faults.check.WatchStream;

/**
 * The continuous watches of {@value Workload#ROOT}, all from index 1:
 * <ul>
 *   <li>one raw long-poll loop per slot, pinned to that member ({@code POST /v1/watch/fz
 *       index=N}, then N = event index + 1; error 401 is recorded as a gap and the loop resumes at
 *       the oldest index the member still has). Its events are that replica's apply stream, across
 *       kills, pauses, partitions and wipes of the member;
 *   <li>one etcd-client {@link Watch} over every member (it fails over between them and resyncs by
 *       itself), recorded the same way.
 * </ul>
 */
final class Watchers {
  private final Cluster cluster;
  private final Http http = new Http("watch");
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<Thread> threads = new ArrayList<>();
  final List<WatchStream> streams = new ArrayList<>();
  private final AtomicInteger clientErrors = new AtomicInteger();
  private EtcdClient client;
  private Watch clientWatch;
  /** Every event of the whole store ("/", {@code /_etcd} included), for the record only: events.txt. */
  final List<String> everything = java.util.Collections.synchronizedList(new ArrayList<>());

  Watchers(Cluster cluster) {
    this.cluster = cluster;
  }

  void start() {
    for (NodeProcess n : cluster.all()) {
      WatchStream s = new WatchStream(n.name, true, 1);
      streams.add(s);
      Thread t = new Thread(() -> loop(n, s), "faults-watch-" + n.name);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    Thread all = new Thread(this::recordEverything, "faults-watch-all");
    all.setDaemon(true);
    threads.add(all);
    all.start();
    List<String> endpoints = new ArrayList<>();
    for (NodeProcess n : cluster.all()) {
      endpoints.add(n.clientUrl());
    }
    WatchStream cs = new WatchStream("client", false, 1);
    streams.add(cs);
    client = EtcdClient.builder().endpoints(endpoints).build();
    clientWatch = client.watch(Workload.ROOT)
        .fromIndex(1)
        .timeout(Duration.ofSeconds(20))
        .listener(e -> cs.event(event(e)))
        .onResync(r -> cs.gap(r.missedFrom(), r.index() + 1, "resync: " + r))
        .onError(t -> clientErrors.incrementAndGet())
        .start();
  }

  private static WatchStream.Event event(WatchEvent e) {
    var r = e.response();
    return new WatchStream.Event(r.index(), r.action(), r.key(), r.value(), r.prevValue(), r.newKey(),
        r.expiration() == null ? null : r.expiration().toString(), e.receivedAt().toEpochMilli());
  }

  private void loop(NodeProcess n, WatchStream s) {
    long next = s.startIndex;
    while (!stop.get()) {
      if (!n.isAlive() || n.isPaused()) {
        sleep(50);
        continue;
      }
      Http.Reply r = http.send("POST", n.clientUrl() + "/v1/watch" + Workload.ROOT,
          Http.form("index", Long.toString(next)), Duration.ofSeconds(20), 0);
      if (stop.get()) {
        return;
      }
      if (r.isOk()) {
        Map<String, Object> m = Json.object(r.body());
        if (m == null || !(m.get("index") instanceof Long index)) {
          sleep(100);
          continue;
        }
        s.event(new WatchStream.Event(index, str(m, "action"), str(m, "key"), str(m, "value"), str(m, "prevValue"),
            Boolean.TRUE.equals(m.get("newKey")),
            m.get("expiration") instanceof String exp ? Workload.normalizeExpiration(exp) : null,
            System.currentTimeMillis()));
        next = index + 1;
      } else if (r.errorCode() == 401) {
        long oldest;
        try {
          oldest = Long.parseLong(r.errorCause().strip());
        } catch (RuntimeException e) {
          oldest = -1;
        }
        if (oldest > next) {
          s.gap(next, oldest, n.name + ": " + r.describe());
          next = oldest;
        } else {
          sleep(100);
        }
      } else if (r.failure() == Http.Failure.NO_ANSWER && r.error() != null && r.error().startsWith("timeout")) {
        // an idle long-poll (or a paused member): ask again from the same index
        continue;
      } else {
        sleep(50);
      }
    }
  }

  /** Watches "/" through whichever member answers, writing each event as one line. */
  private void recordEverything() {
    long next = 1;
    int member = 0;
    List<NodeProcess> nodes = new ArrayList<>(cluster.all());
    while (!stop.get()) {
      NodeProcess n = nodes.get(member % nodes.size());
      if (!n.isServing()) {
        member++;
        sleep(20);
        continue;
      }
      Http.Reply r = http.send("POST", n.clientUrl() + "/v1/watch/", Http.form("index", Long.toString(next)),
          Duration.ofSeconds(5), 0);
      if (stop.get()) {
        return;
      }
      if (r.isOk()) {
        Map<String, Object> m = Json.object(r.body());
        if (m != null && m.get("index") instanceof Long index) {
          everything.add(java.time.LocalTime.now() + " via " + n.name + " " + r.body().strip());
          next = index + 1;
          continue;
        }
      } else if (r.errorCode() == 401) {
        everything.add(java.time.LocalTime.now() + " via " + n.name + " resync from " + next + ": " + r.describe());
        try {
          next = Math.max(next, Long.parseLong(r.errorCause().strip()));
          continue;
        } catch (RuntimeException e) {
          // try another member
        }
      }
      member++;
    }
  }

  private static String str(Map<String, Object> m, String k) {
    return m.get(k) instanceof String s ? s : null;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  int clientErrors() {
    return clientErrors.get();
  }

  /**
   * Waits until every stream pinned to a running member, and the client's, has delivered up to
   * {@code index}; returns the streams that did not in time.
   */
  List<String> awaitCaughtUp(long index, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<String> behind;
    do {
      behind = new ArrayList<>();
      for (WatchStream s : streams) {
        boolean relevant = !s.member || cluster.members.contains(Integer.parseInt(s.name.substring(1)));
        if (relevant && s.lastIndex() < index) {
          behind.add(s.name + " at " + s.lastIndex());
        }
      }
      if (behind.isEmpty()) {
        return behind;
      }
      Thread.sleep(100);
    } while (System.nanoTime() < deadline);
    return behind;
  }

  void stop() throws InterruptedException {
    stop.set(true);
    if (clientWatch != null) {
      clientWatch.close();
    }
    if (client != null) {
      client.close();
    }
    for (Thread t : threads) {
      t.interrupt();
      t.join(25_000);
    }
    http.close();
  }
}
