package org.etcdjvm.faults;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import org.etcdjvm.faults.check.Anomaly;

/**
 * The soak mode ({@code bin/fault-soak}): schedule after schedule, alternating 3- and 5-node
 * clusters, until the time is up; every schedule is checked as it ends. Exit status 1 if any
 * anomaly was found.
 *
 * <pre>
 * bin/fault-soak [--minutes 30] [--seed N] [--nodes 3|5|mixed] [--schedule-seconds 150]
 *                [--reads auto|consistent|log|leader] [--only FAULT,...] [--out DIR]
 * bin/fault-soak --replay SEED:NODES:SECONDS     # one schedule again
 * </pre>
 */
public final class FaultSoak {
  private FaultSoak() {}

  /** An anomaly and the schedule that found it. */
  record Found(Schedule schedule, Anomaly anomaly) {
    String format() {
      return "FAULTS ANOMALY in schedule " + schedule + " (replay: " + replayHint(schedule) + ")\n" + anomaly.format();
    }
  }

  /** Totals over several schedules. */
  record Totals(int schedules, long operations, Map<String, Integer> byKind, int faults,
      Map<Nemesis.Fault, Integer> faultKinds, long watchEvents, List<Found> anomalies, Duration wall) {
    String summary() {
      Map<String, Integer> kinds = new TreeMap<>();
      anomalies.forEach(f -> kinds.merge(f.anomaly().kind(), 1, Integer::sum));
      return String.format("%d schedules in %.1f min: %d operations %s, %d faults %s, %d watch events, %d anomalies%s",
          schedules, wall.toMillis() / 60000.0, operations, byKind, faults, faultKinds, watchEvents, anomalies.size(),
          kinds.isEmpty() ? "" : " " + kinds);
    }

    /** The anomalies whose kind is not in {@code tolerated}. */
    List<Found> except(java.util.Set<String> tolerated) {
      return anomalies.stream().filter(f -> !tolerated.contains(f.anomaly().kind())).toList();
    }
  }

  public static void main(String[] args) throws Exception {
    double minutes = 30;
    long seed = ThreadLocalRandom.current().nextLong(1, 1_000_000_000L);
    String nodes = "mixed";
    int scheduleSeconds = 150;
    String replay = null;
    ReadMode reads = ReadMode.parse(System.getProperty("etcdjvm.faults.reads"));
    java.util.Set<Nemesis.Fault> only = Nemesis.parse(System.getProperty("etcdjvm.faults.only"));
    Path out = Path.of(System.getProperty("etcdjvm.faults.out", "target/faults"));
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String v = i + 1 < args.length ? args[i + 1] : null;
      switch (a) {
        case "--minutes" -> { minutes = Double.parseDouble(v); i++; }
        case "--seed" -> { seed = Long.parseLong(v); i++; }
        case "--nodes" -> { nodes = v; i++; }
        case "--schedule-seconds" -> { scheduleSeconds = Integer.parseInt(v); i++; }
        case "--replay" -> { replay = v; i++; }
        case "--reads" -> { reads = ReadMode.parse(v); i++; }
        case "--only" -> { only = Nemesis.parse(v); i++; }
        case "--out" -> { out = Path.of(v); i++; }
        case "-h", "--help" -> {
          System.out.println("bin/fault-soak [--minutes 30] [--seed N] [--nodes 3|5|mixed] [--schedule-seconds 150]"
              + " [--reads auto|consistent|log|leader] [--only FAULT,...] [--out DIR] | --replay SEED:NODES:SECONDS\n"
              + "faults: " + java.util.Arrays.toString(Nemesis.Fault.values()));
          return;
        }
        default -> throw new IllegalArgumentException("unknown argument " + a + " (see --help)");
      }
    }
    FaultRun.Options options = FaultRun.Options.defaults(out, FaultSoak::log).withReads(reads).withOnly(only);
    Totals totals;
    if (replay != null) {
      totals = runAll(List.of(Schedule.parse(replay)), Long.MAX_VALUE, options, System.out);
    } else {
      log("soak: " + minutes + " min, seed " + seed + ", nodes " + nodes + ", " + scheduleSeconds + " s per schedule");
      List<Schedule> plan = new ArrayList<>();
      for (int i = 0; i < 10_000; i++) {
        int n = nodes.equals("mixed") ? (i % 2 == 0 ? 3 : 5) : Integer.parseInt(nodes);
        plan.add(new Schedule(seed + i, n, Duration.ofSeconds(scheduleSeconds)));
      }
      long deadline = System.nanoTime() + (long) (minutes * 60e9);
      totals = runAll(plan, deadline, options, System.out);
    }
    System.out.println("FAULTS TOTAL " + totals.summary());
    for (Found a : totals.anomalies()) {
      System.out.println(a.format());
    }
    System.exit(totals.anomalies().isEmpty() ? 0 : 1);
  }

  /**
   * Runs schedules in order until the list or the time ({@code deadline}, nanoTime; a schedule is
   * started only if it can end before it) runs out.
   */
  static Totals runAll(List<Schedule> plan, long deadline, FaultRun.Options options, PrintStream out) throws Exception {
    long t0 = System.nanoTime();
    long operations = 0;
    long watchEvents = 0;
    int faults = 0;
    int done = 0;
    Map<String, Integer> byKind = new TreeMap<>();
    Map<Nemesis.Fault, Integer> kinds = new EnumMap<>(Nemesis.Fault.class);
    List<Found> anomalies = new ArrayList<>();
    for (Schedule s : plan) {
      long expected = s.length().plusSeconds(60).toNanos();
      if (done > 0 && System.nanoTime() + expected > deadline) {
        break;
      }
      FaultRun.Report r = FaultRun.run(s, options);
      done++;
      operations += r.totalOperations();
      watchEvents += r.watchEvents();
      faults += r.totalFaults();
      r.operations().forEach((k, v) -> byKind.merge(k.substring(0, k.indexOf('/')), v, Integer::sum));
      r.faults().forEach((k, v) -> kinds.merge(k, v, Integer::sum));
      out.println("FAULTS " + r.summary());
      for (String d : r.details()) {
        out.println("FAULTS   " + d);
      }
      for (Anomaly a : r.anomalies()) {
        Found f = new Found(s, a);
        out.println(f.format());
        anomalies.add(f);
      }
      if (System.nanoTime() > deadline) {
        break;
      }
    }
    return new Totals(done, operations, byKind, faults, kinds, watchEvents, anomalies,
        Duration.ofNanos(System.nanoTime() - t0));
  }

  static String replayHint(Schedule s) {
    return "bin/fault-soak --replay " + s + "   or   mvn -B verify -pl etcd-faults -am -Dtest=FaultCiTest"
        + " -Dsurefire.failIfNoSpecifiedTests=false -Detcdjvm.faults.replay=" + s;
  }

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

  static void log(String s) {
    System.out.println(LocalTime.now().format(TIME) + " FAULTS " + s);
    System.out.flush();
  }
}
