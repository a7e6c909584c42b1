package org.etcdjvm.faults;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.etcdjvm.faults.check.Anomaly;
import org.etcdjvm.faults.check.EventLog;
import org.etcdjvm.faults.check.FinalStateChecker;
import org.etcdjvm.faults.check.Linearizability;
import org.etcdjvm.faults.check.LocalReadChecker;
import org.etcdjvm.faults.check.Op;
import org.etcdjvm.faults.check.WatchChecker;
import org.etcdjvm.faults.check.WatchStream;

/**
 * One schedule, end to end: a fresh cluster (in network namespaces when possible), watches, clients,
 * the nemesis for the schedule's length, then heal, let the clients run a little on the healthy
 * cluster, stop them, wait out the TTLs, read every register key once more, wait for the replicas
 * to converge and the watches to catch up, and run every checker over the history. Everything is
 * torn down whatever happens (and by a shutdown hook if the JVM is stopped meanwhile).
 */
final class FaultRun {
  /** Everything that is not the schedule. */
  record Options(ReadMode reads, int clients, int activeKeys, int maxOpsPerKey, int maxUnknownPerKey, Path outDir,
      List<String> nodeArgs, java.util.Set<Nemesis.Fault> only, Consumer<String> log) {
    /** Defaults, and the system properties {@code etcdjvm.faults.reads}, {@code .only}, {@code .nodeArgs}. */
    static Options defaults(Path outDir, Consumer<String> log) {
      String args = System.getProperty("etcdjvm.faults.nodeArgs", "");
      return new Options(ReadMode.parse(System.getProperty("etcdjvm.faults.reads")), 5, 3, 150, 8, outDir,
          args.isBlank() ? List.of() : List.of(args.strip().split("\\s+")),
          Nemesis.parse(System.getProperty("etcdjvm.faults.only")), log);
    }

    Options withReads(ReadMode r) {
      return new Options(r, clients, activeKeys, maxOpsPerKey, maxUnknownPerKey, outDir, nodeArgs, only, log);
    }

    Options withOnly(java.util.Set<Nemesis.Fault> kinds) {
      return new Options(reads, clients, activeKeys, maxOpsPerKey, maxUnknownPerKey, outDir, nodeArgs, kinds, log);
    }
  }

  /** What a schedule did and found. */
  record Report(Schedule schedule, ReadMode reads, String network, Map<String, Integer> operations, int registerKeys,
      Map<Nemesis.Fault, Integer> faults, int watchEvents, int watchGaps, int localReads, List<Anomaly> anomalies,
      Duration wall, long checkMillis, Path dir, List<String> details) {
    int totalOperations() {
      return operations.values().stream().mapToInt(Integer::intValue).sum();
    }

    int totalFaults() {
      return faults.values().stream().mapToInt(Integer::intValue).sum();
    }

    String summary() {
      return String.format("schedule %s (%d nodes, reads %s, %s): %d operations %s, %d register keys, %d faults %s, "
              + "%d watch events (%d resyncs), %d local reads, checked in %d ms, %d anomalies, %d s",
          schedule, schedule.nodes(), reads, network, totalOperations(), operations, registerKeys, totalFaults(),
          faults, watchEvents, watchGaps, localReads, checkMillis, anomalies.size(), wall.toSeconds());
    }
  }

  private FaultRun() {}

  static Report run(Schedule schedule, Options o) throws Exception {
    long t0 = System.nanoTime();
    Path dir = o.outDir().resolve(schedule.toString().replace(':', '-'));
    deleteTree(dir);
    Files.createDirectories(dir);
    int slots = schedule.nodes() + 1;
    boolean namespaces = !Boolean.getBoolean("etcdjvm.faults.loopback") && NamespaceNetwork.available();
    Network net = namespaces ? new NamespaceNetwork(slots) : new LoopbackNetwork(slots);
    String netName = namespaces ? "network namespaces" : "loopback, no partitions";
    Cluster cluster = new Cluster(net, dir, schedule.nodes(), slots, o.nodeArgs());
    Thread hook = new Thread(() -> {
      cluster.close();
      net.close();
    }, "faults-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    o.log().accept("schedule " + schedule + ": " + schedule.nodes() + " nodes (+1 spare), "
        + schedule.length().toSeconds() + " s of faults, " + netName + ", output in " + dir);
    Workload workload = null;
    Watchers watchers = null;
    List<Anomaly> anomalies = new ArrayList<>();
    try {
      cluster.startAll(Duration.ofSeconds(120));
      String sick = cluster.awaitHealthy(Duration.ofSeconds(120));
      if (sick != null) {
        throw new IllegalStateException("the new cluster did not become healthy: " + sick);
      }
      ReadMode reads = o.reads() == ReadMode.AUTO ? probeReads(cluster) : o.reads();
      o.log().accept("reads: " + reads + (o.reads() == ReadMode.AUTO ? " (auto)" : ""));
      watchers = new Watchers(cluster);
      watchers.start();
      workload = new Workload(cluster, reads, schedule.seed(), o.clients(), o.activeKeys(), o.maxOpsPerKey(),
          o.maxUnknownPerKey());
      workload.start();
      long origin = t0;
      Nemesis nemesis = new Nemesis(cluster, schedule.seed(), origin, o.only(), s -> o.log().accept(s));
      Thread.sleep(1500);
      boolean healthy = nemesis.run(System.nanoTime() + schedule.length().toNanos());
      if (healthy) {
        healthy = nemesis.finish();
      }
      anomalies.addAll(nemesis.problems);
      Thread.sleep(3000); // the clients on a healthy cluster, as in Jepsen's final phase
      workload.stopTtl();
      workload.stop();
      if (healthy) {
        // TTLs count the log's time, which stands still while there is no leader: expiries may come
        // later than the wall clock says. Wait for them, generously.
        awaitExpired(cluster, Math.max(System.currentTimeMillis(), workload.latestExpiration()) + 120_000);
      }

      // final linearizable reads, then wait for the replicas to converge
      Map<String, List<Op>> byKey = new TreeMap<>();
      for (String key : workload.keys.all()) {
        if (healthy && workload.finalRead(key, Duration.ofSeconds(30)) == null) {
          anomalies.add(Anomaly.of("final-state", "no linearizable read of " + key + " answered within 30 s after healing"));
        }
      }
      List<FinalStateChecker.Replica> replicas = healthy ? awaitConverged(cluster, Duration.ofSeconds(60)) : List.of();
      anomalies.addAll(FinalStateChecker.converged(replicas));
      List<Op> ops = workload.ops();
      if (!replicas.isEmpty()) {
        FinalStateChecker.Replica r0 = replicas.get(0);
        List<Anomaly> late = FinalStateChecker.expired(r0, Workload.TTL);
        if (!late.isEmpty()) {
          anomalies.add(lateExpiryDetails(late.get(0), cluster, r0, workload.latestExpiration()));
        }
        List<Op> once = ops.stream().filter(op -> op.kind == Op.Kind.ONCE).toList();
        anomalies.addAll(FinalStateChecker.noLostWrites(once, r0.dirs().getOrDefault(Workload.ONCE, Map.of())));
      }
      if (healthy) {
        long target = 0;
        for (Op op : ops) {
          target = Math.max(target, op.done() && op.outcome() == Op.Outcome.OK ? op.index() : -1);
        }
        for (WatchStream s : watchers.streams) {
          target = Math.max(target, s.lastIndex());
        }
        List<String> behind = watchers.awaitCaughtUp(target, Duration.ofSeconds(60));
        if (!behind.isEmpty()) {
          anomalies.add(Anomaly.of("watch", "watches did not deliver the log up to index " + target
              + " within 60 s after healing: " + behind));
        }
      }
      watchers.stop();

      // the checkers
      long c0 = System.nanoTime();
      for (Op op : ops) {
        if (op.key.startsWith(Workload.LIN + "/")) {
          byKey.computeIfAbsent(op.key, k -> new ArrayList<>()).add(op);
        }
      }
      for (Map.Entry<String, List<Op>> e : byKey.entrySet()) {
        Linearizability.Result r = Linearizability.check(e.getValue());
        if (!r.linearizable()) {
          anomalies.add(new Anomaly("linearizability", e.getKey() + ": " + r.summary(origin),
              excerpt(e.getValue(), r, nemesis.events, origin)));
        }
      }
      anomalies.addAll(WatchChecker.check(watchers.streams, ops));
      anomalies.addAll(LocalReadChecker.check(workload.localReads, new EventLog(watchers.streams), workload.keys.all()));
      long checkMillis = (System.nanoTime() - c0) / 1_000_000;

      int events = 0;
      int gaps = 0;
      for (WatchStream s : watchers.streams) {
        events += s.events();
        gaps += s.gaps();
      }
      writeHistory(dir.resolve("history.txt"), ops, nemesis.events, origin);
      Files.write(dir.resolve("events.txt"), new ArrayList<>(watchers.everything), StandardCharsets.UTF_8);
      List<String> details = new ArrayList<>();
      for (WatchStream s : watchers.streams) {
        details.add("watch " + s.name + ": " + s.events() + " events, " + s.gaps() + " resyncs, up to index " + s.lastIndex());
      }
      details.add("client watch errors (failovers, retries): " + watchers.clientErrors());
      details.add("TTL expiries: " + expiryLag(watchers.streams, ops));
      for (Nemesis.Event f : nemesis.events) {
        details.add(String.format("fault [%.1f s .. %.1f s] %s", (f.start() - origin) / 1e9, (f.end() - origin) / 1e9,
            f.description()));
      }
      Report report = new Report(schedule, reads, netName, counts(ops), byKey.size(), new TreeMap<>(nemesis.counts),
          events, gaps, workload.localReads.size(), anomalies, Duration.ofNanos(System.nanoTime() - t0), checkMillis, dir,
          details);
      writeReport(dir.resolve("report.txt"), report);
      return report;
    } finally {
      if (workload != null) {
        workload.stop();
        workload.close();
      }
      if (watchers != null) {
        watchers.stop();
      }
      cluster.close();
      net.close();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs anyway
      }
      if (anomalies.isEmpty()) {
        for (NodeProcess n : cluster.all()) {
          deleteTree(n.dataDir);
        }
      }
    }
  }

  /** The anomaly of keys not expired, with each member's full answer for the first of them. */
  private static Anomaly lateExpiryDetails(Anomaly a, Cluster cluster, FinalStateChecker.Replica r0, long latest) {
    List<String> lines = new ArrayList<>(a.excerpt());
    lines.add("now " + java.time.Instant.now() + "; latest expiration acknowledged "
        + java.time.Instant.ofEpochMilli(latest));
    String key = r0.dirs().get(Workload.TTL).keySet().iterator().next();
    try (Http http = new Http("late")) {
      for (NodeProcess n : cluster.memberNodes()) {
        lines.add(n + " GET " + key + ": " + http.get(n.clientUrl() + "/v1/keys" + key, Duration.ofSeconds(5)).describe());
      }
    }
    return new Anomaly(a.checker(), a.summary(), lines);
  }

  /**
   * How late expiries were delivered (first watch to see each): after the TTL had passed since the
   * set was sent, and after the {@code expiration} the server advertised (TTLs count the log's
   * time, which does not advance while the cluster has no leader).
   */
  static String expiryLag(List<WatchStream> streams, List<Op> ops) {
    Map<String, Op> sets = new HashMap<>();
    for (Op op : ops) {
      if (op.kind == Op.Kind.TTL) {
        sets.put(op.key, op);
      }
    }
    Map<Long, long[]> byIndex = new TreeMap<>();
    for (WatchStream s : streams) {
      for (WatchStream.Item item : s.items()) {
        if (item instanceof WatchStream.Event e && e.isDelete() && e.expiration() != null && sets.containsKey(e.key())) {
          Op set = sets.get(e.key());
          long due = java.time.Instant.parse(e.expiration()).toEpochMilli();
          long[] lag = {e.receivedAt() - (set.invokeWall + set.ttl() * 1000), e.receivedAt() - due};
          byIndex.merge(e.index(), lag, (a, b) -> a[0] <= b[0] ? a : b);
        }
      }
    }
    if (byIndex.isEmpty()) {
      return "none seen";
    }
    long[] afterTtl = byIndex.values().stream().mapToLong(a -> a[0]).sorted().toArray();
    long[] afterExpiration = byIndex.values().stream().mapToLong(a -> a[1]).sorted().toArray();
    int n = afterTtl.length;
    return n + " seen; delivered after the TTL had passed since the set was sent: median " + afterTtl[n / 2]
        + " ms, max " + afterTtl[n - 1] + " ms; after the advertised expiration: median " + afterExpiration[n / 2]
        + " ms, max " + afterExpiration[n - 1] + " ms";
  }

  /** Waits until no member lists a key under {@value Workload#TTL}, or until {@code deadline} (epoch ms). */
  private static void awaitExpired(Cluster cluster, long deadline) throws InterruptedException {
    try (Http http = new Http("expiry")) {
      while (System.currentTimeMillis() < deadline) {
        boolean empty = true;
        for (NodeProcess n : cluster.memberNodes()) {
          Http.Reply r = http.get(n.clientUrl() + "/v1/keys" + Workload.TTL, Duration.ofSeconds(5));
          List<Object> listing = r.isOk() ? Json.array(r.body()) : null;
          if (!(r.errorCode() == 100 || listing != null && listing.isEmpty())) {
            empty = false;
          }
        }
        if (empty) {
          return;
        }
        Thread.sleep(200);
      }
    }
  }

  /** CONSISTENT when a follower answers {@code ?consistent=true} with a 307, else LOG. */
  static ReadMode probeReads(Cluster cluster) throws InterruptedException {
    NodeProcess leader = cluster.awaitLeader(Duration.ofSeconds(30));
    try (Http http = new Http("probe")) {
      for (NodeProcess n : cluster.memberNodes()) {
        if (n != leader) {
          Http.Reply r = http.send("GET", n.clientUrl() + "/v1/keys/?consistent=true", null, Duration.ofSeconds(5), 0);
          return r.status() == 307 ? ReadMode.CONSISTENT : ReadMode.LOG;
        }
      }
    }
    return ReadMode.LOG;
  }

  private static final List<String> DIRS = List.of(Workload.LIN, Workload.ONCE, Workload.TTL);

  /** Polls every member's listings until all agree (or the time runs out); returns the last answers. */
  static List<FinalStateChecker.Replica> awaitConverged(Cluster cluster, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<FinalStateChecker.Replica> last;
    try (Http http = new Http("converge")) {
      do {
        last = new ArrayList<>();
        for (NodeProcess n : cluster.memberNodes()) {
          Map<String, Map<String, String>> dirs = new LinkedHashMap<>();
          long index = -1;
          for (String dir : DIRS) {
            Http.Reply r = http.get(n.clientUrl() + "/v1/keys" + dir, Duration.ofSeconds(10));
            Map<String, String> entries = new TreeMap<>();
            List<Object> listing = r.isOk() ? Json.array(r.body()) : null;
            if (listing != null) {
              for (Object o : listing) {
                if (o instanceof Map<?, ?> e && e.get("key") instanceof String k) {
                  entries.put(k, e.get("value") instanceof String v ? v : "<dir>");
                }
              }
            } else if (r.errorCode() != 100) {
              entries.put("<error>", r.describe());
            }
            dirs.put(dir, entries);
          }
          Http.Reply root = http.get(n.clientUrl() + "/v1/keys" + Workload.ROOT, Duration.ofSeconds(10));
          List<Object> rootListing = root.isOk() ? Json.array(root.body()) : null;
          if (rootListing != null && !rootListing.isEmpty() && rootListing.get(0) instanceof Map<?, ?> e
              && e.get("index") instanceof Long i) {
            index = i;
          }
          last.add(new FinalStateChecker.Replica(n.name, index, dirs));
        }
        if (FinalStateChecker.converged(last).isEmpty()) {
          return last;
        }
        Thread.sleep(200);
      } while (System.nanoTime() < deadline);
    }
    return last;
  }

  private static Map<String, Integer> counts(List<Op> ops) {
    Map<String, Integer> out = new TreeMap<>();
    for (Op op : ops) {
      String k = op.kind.name().toLowerCase(java.util.Locale.ROOT) + "/"
          + (op.done() ? op.outcome().name().toLowerCase(java.util.Locale.ROOT) : "pending");
      out.merge(k, 1, Integer::sum);
    }
    return out;
  }

  /** The key's operations around where the search got stuck, and the faults of that time. */
  static List<String> excerpt(List<Op> keyOps, Linearizability.Result r, List<Nemesis.Event> faults, long origin) {
    List<Op> sorted = new ArrayList<>(Linearizability.relevant(keyOps));
    sorted.sort(Comparator.comparingLong(op -> op.invoke));
    int at = r.stuckOn() == null ? sorted.size() - 1 : sorted.indexOf(r.stuckOn());
    int from = Math.max(0, at - 15);
    int to = Math.min(sorted.size(), at + 6);
    List<String> lines = new ArrayList<>();
    lines.add("operations " + from + ".." + (to - 1) + " of " + sorted.size() + " (by call time; times since start):");
    for (Op op : sorted.subList(from, to)) {
      lines.add((op == r.stuckOn() ? "=> " : "   ") + op.describe(origin));
    }
    if (!sorted.isEmpty()) {
      long a = sorted.get(from).invoke;
      long b = sorted.get(to - 1).complete() == Long.MAX_VALUE ? sorted.get(to - 1).invoke : sorted.get(to - 1).complete();
      for (Nemesis.Event f : faults) {
        if (f.end() >= a && f.start() <= b) {
          lines.add(String.format("   fault [%.3f s .. %.3f s] %s", (f.start() - origin) / 1e9, (f.end() - origin) / 1e9,
              f.description()));
        }
      }
    }
    return lines;
  }

  private static void writeHistory(Path file, List<Op> ops, List<Nemesis.Event> faults, long origin) throws IOException {
    List<Op> sorted = new ArrayList<>(ops);
    sorted.sort(Comparator.comparingLong(op -> op.invoke));
    List<Nemesis.Event> fs = new ArrayList<>(faults);
    int f = 0;
    try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8))) {
      for (Op op : sorted) {
        while (f < fs.size() && fs.get(f).start() <= op.invoke) {
          Nemesis.Event e = fs.get(f++);
          w.printf("---- fault [%.3f s .. %.3f s] %s%n", (e.start() - origin) / 1e9, (e.end() - origin) / 1e9,
              e.description());
        }
        w.println(op.describe(origin));
      }
    }
  }

  private static void writeReport(Path file, Report r) throws IOException {
    StringBuilder b = new StringBuilder(r.summary()).append('\n');
    for (String d : r.details()) {
      b.append(d).append('\n');
    }
    for (Anomaly a : r.anomalies()) {
      b.append(a.format()).append('\n');
    }
    Files.writeString(file, b.toString(), StandardCharsets.UTF_8);
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
