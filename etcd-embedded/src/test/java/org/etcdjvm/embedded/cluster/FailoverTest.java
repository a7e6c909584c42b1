package org.etcdjvm.embedded.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the leader of a three-node cluster (three JVMs): writes through the survivors resume
 * quickly, watches on the survivors keep working, and the killed node restarts from its data
 * directory, catches up and serves the same data.
 *
 * <p>Rounds: environment variable {@code ETCDJVM_FAILOVER_ROUNDS} (or system property
 * {@code etcdjvm.failover.rounds}), default 3. The kill-to-first-write times are printed as
 * {@code FAILOVER_ROUND} / {@code FAILOVER_RESULT} lines in the test's output file; the benchmark:
 * {@code ETCDJVM_FAILOVER_ROUNDS=12 mvn -B -q -pl etcd-embedded verify -Dtest=FailoverTest}.
 */
class FailoverTest {
  @TempDir Path dir;

  @Test
  void killingTheLeaderLosesNothingAndWritesResumeWithinSeconds() throws Exception {
    int rounds = Integer.getInteger("etcdjvm.failover.rounds",
        Integer.parseInt(System.getenv().getOrDefault("ETCDJVM_FAILOVER_ROUNDS", "3")));
    try (ProcessCluster cluster = new ProcessCluster(dir, 3)) {
      List<Long> startMs = cluster.start(Duration.ofSeconds(60));
      System.out.println("FAILOVER_START ready_ms=" + startMs);
      List<Long> failoverMs = new ArrayList<>();
      List<Long> restartMs = new ArrayList<>();
      int leaderChangesOnRestart = 0;
      List<String> acknowledged = new ArrayList<>();
      for (int round = 1; round <= rounds; round++) {
        NodeProcess leader = cluster.awaitLeader(Duration.ofSeconds(20));
        Curl.Reply before = Curl.put(leader.clientUrl() + "/v1/keys/failover/r" + round + "-before", Duration.ofSeconds(5),
            "value", "b" + round);
        assertThat(before.status()).as("write before the kill: %s", before).isEqualTo(200);
        acknowledged.add("r" + round + "-before");
        List<NodeProcess> survivors = cluster.nodes.stream().filter(n -> n != leader).toList();
        // survivors' watchers of the first key written after the kill
        String afterKey = "/failover/r" + round + "-after";
        List<CompletableFuture<HttpResponse<String>>> watches = new ArrayList<>();
        for (NodeProcess s : survivors) {
          watches.add(Curl.HTTP.sendAsync(HttpRequest.newBuilder(URI.create(s.clientUrl() + "/v1/watch" + afterKey))
              .timeout(Duration.ofSeconds(60)).GET().build(), HttpResponse.BodyHandlers.ofString()));
        }
        Thread.sleep(100); // the long polls are registered

        long killed = System.nanoTime();
        leader.kill();
        Curl.Reply after = null;
        int attempt = 0;
        while (System.nanoTime() - killed < TimeUnit.SECONDS.toNanos(30)) {
          NodeProcess via = survivors.get(attempt++ % survivors.size());
          after = Curl.put(via.clientUrl() + "/v1/keys" + afterKey, Duration.ofSeconds(1), "value", "a" + round);
          if (after.ok()) {
            break;
          }
          Thread.sleep(10);
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
        assertThat(after.ok()).as("a write through the survivors after the kill: %s", after).isTrue();
        failoverMs.add(ms);
        acknowledged.add("r" + round + "-after");
        System.out.println("FAILOVER_ROUND " + round + " killed=" + leader.name + " first_write_ms=" + ms
            + " attempts=" + attempt);

        for (CompletableFuture<HttpResponse<String>> w : watches) {
          HttpResponse<String> event = w.get(10, TimeUnit.SECONDS);
          assertThat(event.statusCode()).isEqualTo(200);
          assertThat(event.body()).startsWith("{\"action\":\"SET\",\"key\":\"" + afterKey + "\"")
              .contains("\"value\":\"a" + round + "\"");
        }

        NodeProcess successor = cluster.awaitLeader(Duration.ofSeconds(10));
        leader.start();
        restartMs.add(leader.awaitReady(Duration.ofSeconds(60)));
        if (cluster.awaitLeader(Duration.ofSeconds(10)) != successor) {
          leaderChangesOnRestart++; // the restarted member should rejoin without deposing anyone
        }
        String listing = cluster.awaitConverged("/failover", Duration.ofSeconds(20));
        for (String key : acknowledged) {
          assertThat(listing).contains("\"key\":\"/failover/" + key + "\"");
        }
      }
      List<Long> sorted = failoverMs.stream().sorted().toList();
      System.out.println("FAILOVER_RESULT rounds=" + rounds + " median_ms=" + sorted.get(sorted.size() / 2)
          + " min_ms=" + sorted.get(0) + " max_ms=" + sorted.get(sorted.size() - 1) + " all_ms=" + failoverMs
          + " restart_ready_ms=" + restartMs + " leader_changes_on_restart=" + leaderChangesOnRestart);
      assertThat(sorted.get(sorted.size() / 2)).as("median kill-to-first-write, ms").isLessThanOrEqualTo(3000);
      assertThat(sorted.get(sorted.size() - 1)).as("slowest kill-to-first-write, ms").isLessThanOrEqualTo(8000);
    }
  }
}
