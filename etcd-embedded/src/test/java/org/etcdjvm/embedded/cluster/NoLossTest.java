package org.etcdjvm.embedded.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing acknowledged is lost: concurrent clients do test-and-set increments of one counter and
 * sets of distinct keys, through random members, while the leader is killed (SIGKILL) and restarted
 * several times. Afterwards every write that got a 200 is there, the counter is at least the number
 * of acknowledged increments and at most that plus the increments whose outcome is unknown, and all
 * three replicas list the same keys at the same index.
 */
class NoLossTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(3);
  private static final String COUNTER = "/v1/keys/noloss/counter";

  @TempDir Path dir;

  @Test
  void everyAcknowledgedWriteSurvivesRepeatedLeaderKills() throws Exception {
    int kills = Integer.getInteger("etcdjvm.noloss.kills", 3);
    try (ProcessCluster cluster = new ProcessCluster(dir, 3)) {
      cluster.start(Duration.ofSeconds(60));
      NodeProcess first = cluster.awaitLeader(Duration.ofSeconds(20));
      Curl.Reply init = Curl.put(first.clientUrl() + COUNTER, TIMEOUT, "prevValue", "", "value", "0");
      assertThat(init.status()).as("create the counter: %s", init).isEqualTo(200);

      AtomicBoolean stop = new AtomicBoolean();
      Set<Long> okIncrements = ConcurrentHashMap.newKeySet();
      Set<Long> duplicates = ConcurrentHashMap.newKeySet();
      AtomicInteger unknownIncrements = new AtomicInteger();
      AtomicInteger failedIncrements = new AtomicInteger();
      Map<String, String> okSets = new ConcurrentHashMap<>();
      AtomicInteger unknownSets = new AtomicInteger();
      AtomicInteger failedSets = new AtomicInteger();
      List<Thread> workers = new ArrayList<>();
      for (int w = 0; w < 4; w++) {
        workers.add(new Thread(() -> {
          while (!stop.get()) {
            String node = randomAlive(cluster);
            Curl.Reply current = Curl.get(node + COUNTER, TIMEOUT);
            if (current.status() != 200 || current.value().isEmpty()) {
              pause();
              continue;
            }
            long v = Long.parseLong(current.value().get());
            Curl.Reply r = Curl.post(node + COUNTER, TIMEOUT, "prevValue", Long.toString(v), "value", Long.toString(v + 1));
            switch (r.outcome()) {
              case OK -> {
                if (!okIncrements.add(v + 1)) {
                  duplicates.add(v + 1);
                }
              }
              case UNKNOWN -> unknownIncrements.incrementAndGet();
              case FAILED -> {
                failedIncrements.incrementAndGet();
                pause();
              }
            }
          }
        }, "incrementer-" + w));
      }
      for (int w = 0; w < 4; w++) {
        int worker = w;
        workers.add(new Thread(() -> {
          for (int seq = 0; !stop.get(); seq++) {
            String key = "s" + worker + "-" + seq;
            Curl.Reply r = Curl.put(randomAlive(cluster) + "/v1/keys/noloss/" + key, TIMEOUT, "value", "v" + seq);
            switch (r.outcome()) {
              case OK -> okSets.put(key, "v" + seq);
              case UNKNOWN -> unknownSets.incrementAndGet();
              case FAILED -> {
                failedSets.incrementAndGet();
                pause();
              }
            }
          }
        }, "setter-" + w));
      }
      workers.forEach(Thread::start);

      for (int k = 1; k <= kills; k++) {
        Thread.sleep(2000);
        NodeProcess leader = cluster.awaitLeader(Duration.ofSeconds(20));
        leader.kill();
        System.out.println("NOLOSS kill " + k + ": " + leader.name + " (ok so far: " + okIncrements.size()
            + " increments, " + okSets.size() + " sets)");
        Thread.sleep(1500);
        leader.start();
        leader.awaitReady(Duration.ofSeconds(60));
      }
      Thread.sleep(2000);
      stop.set(true);
      for (Thread t : workers) {
        t.join(15_000);
      }

      String listing = cluster.awaitConverged("/noloss", Duration.ofSeconds(30));
      int present = 0;
      Matcher m = ENTRY.matcher(listing);
      Map<String, String> values = new java.util.HashMap<>();
      while (m.find()) {
        values.put(m.group(1), m.group(2));
      }
      long counter = Long.parseLong(values.get("counter"));
      for (Map.Entry<String, String> set : okSets.entrySet()) {
        assertThat(values.get(set.getKey())).as("acknowledged set of %s", set.getKey()).isEqualTo(set.getValue());
        present++;
      }
      System.out.println("NOLOSS_RESULT kills=" + kills + " counter=" + counter + " ok_increments=" + okIncrements.size()
          + " unknown_increments=" + unknownIncrements + " failed_increments=" + failedIncrements
          + " ok_sets=" + okSets.size() + " unknown_sets=" + unknownSets + " failed_sets=" + failedSets);
      assertThat(duplicates).as("values two acknowledged increments both wrote").isEmpty();
      assertThat(present).isEqualTo(okSets.size());
      assertThat(okIncrements).allSatisfy(v -> assertThat(v).isLessThanOrEqualTo(counter));
      assertThat(counter).isGreaterThanOrEqualTo(okIncrements.size())
          .isLessThanOrEqualTo(okIncrements.size() + unknownIncrements.get());
      assertThat(okIncrements.size()).as("acknowledged increments").isGreaterThan(50);
      assertThat(okSets.size()).as("acknowledged sets").isGreaterThan(200);
      // the same index everywhere: every entry of the (identical) listings carries the store index
      for (NodeProcess n : cluster.nodes) {
        Curl.Reply c = Curl.get(n.clientUrl() + COUNTER, TIMEOUT);
        assertThat(c.value()).contains(Long.toString(counter));
      }
    }
  }

  private static final Pattern ENTRY = Pattern.compile("\"key\":\"/noloss/([^\"]+)\",\"value\":\"([^\"]*)\"");

  private static String randomAlive(ProcessCluster cluster) {
    List<NodeProcess> alive = cluster.alive();
    if (alive.isEmpty()) {
      return cluster.nodes.get(0).clientUrl();
    }
    return alive.get(ThreadLocalRandom.current().nextInt(alive.size())).clientUrl();
  }

  private static void pause() {
    try {
      Thread.sleep(20);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
