package org.etcdjvm.test;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * How long a test class waits for its cluster: the numbers in the README, printed, not asserted.
 * Off by default; run it with
 * {@code mvn -B verify -pl etcd-test -am -Dtest=ReadinessTiming -Detcdjvm.timing=true -Dsurefire.failIfNoSpecifiedTests=false}
 * and read {@code etcd-test/target/surefire-reports/org.etcdjvm.test.ReadinessTiming-output.txt}.
 *
 * <p>Cold: a fresh JVM (the test classpath and flags, as a Surefire fork) whose first cluster
 * this is. Warm: a JVM that has started a cluster before, as every later test class in a fork.
 */
@EnabledIfSystemProperty(named = "etcdjvm.timing", matches = "true")
class ReadinessTiming {
  private static final int ROUNDS = 5;

  /** The child: starts one cluster of args[0] nodes and prints its start time and the JVM's age then. */
  public static final class Child {
    public static void main(String[] args) {
      long begin = System.nanoTime();
      long uptime = ManagementFactory.getRuntimeMXBean().getUptime();
      try (EtcdCluster cluster = EtcdCluster.builder().nodes(Integer.parseInt(args[0])).build().start()) {
        System.out.println("READY " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin) + " " + uptime);
      }
      System.exit(0);
    }
  }

  @Test
  void coldAndWarm() throws Exception {
    for (int nodes : new int[] {1, 3}) {
      List<Long> cold = new ArrayList<>();
      List<Long> uptimes = new ArrayList<>();
      for (int i = 0; i < ROUNDS; i++) {
        long[] r = child(nodes);
        cold.add(r[0]);
        uptimes.add(r[1]);
      }
      System.out.printf("cold, %d node(s): start() %s ms (median %d); JVM age at start() %s ms%n",
          nodes, cold, median(cold), uptimes);
    }
    try (EtcdCluster first = EtcdCluster.builder().build().start()) {
      first.clientUrl(); // warms this JVM up, as an earlier test class would
    }
    for (int nodes : new int[] {1, 3}) {
      List<Long> starts = new ArrayList<>();
      List<Long> closes = new ArrayList<>();
      for (int i = 0; i < ROUNDS; i++) {
        long begin = System.nanoTime();
        EtcdCluster cluster = EtcdCluster.builder().nodes(nodes).build().start();
        starts.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin));
        begin = System.nanoTime();
        cluster.close();
        closes.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin));
      }
      System.out.printf("warm, %d node(s): start() %s ms (median %d); close() %s ms%n",
          nodes, starts, median(starts), closes);
    }
  }

  private static long[] child(int nodes) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    for (String pkg : RequiredJvmFlags.PACKAGES) {
      command.add("--add-opens=java.base/" + pkg + "=ALL-UNNAMED");
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Child.class.getName(), Integer.toString(nodes)));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(60, TimeUnit.SECONDS);
    String line = out.lines().filter(l -> l.startsWith("READY ")).findFirst()
        .orElseThrow(() -> new AssertionError("child did not start a cluster: " + out));
    String[] parts = line.split(" ");
    return new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])};
  }

  private static long median(List<Long> values) {
    List<Long> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get(sorted.size() / 2);
  }
}
