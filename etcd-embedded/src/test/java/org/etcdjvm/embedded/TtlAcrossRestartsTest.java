package org.etcdjvm.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.etcdjvm.embedded.internal.LocalCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log's time (which TTLs count) across restarts: a restarted member comes back with the time
 * the members that stayed up have, so whoever leads next stamps the same time. Regression test for
 * the fault harness's {@code expiry-early}: a restarted member used to resume from the time of the
 * last entry it replayed, trailing by its downtime; once it led, the log's time stood still, and
 * when a member that had stayed up led again it leapt forward, expiring keys seconds early.
 */
class TtlAcrossRestartsTest {
  @TempDir Path dir;
  final List<EtcdNode> nodes = new ArrayList<>();

  @AfterEach
  void stop() {
    nodes.forEach(EtcdNode::close);
    nodes.clear();
  }

  @Test
  void aClusterRestartedAfterAnOutageCountsTheOutageAndStampsTheTimeOfTheMembersThatStayedUp() throws Exception {
    List<String> peers = LocalCluster.peerAddresses(3);
    startAll(peers);
    V1Http leader = new V1Http(leader().clientUrl());
    assertThat(leader.post("/v1/keys/short", "value=gone", "ttl=2").statusCode()).isEqualTo(200);
    assertThat(leader.post("/v1/keys/long", "value=kept", "ttl=600").statusCode()).isEqualTo(200);
    assertStampsNearTheWallClock(leader);

    nodes.forEach(EtcdNode::close);
    nodes.clear();
    long downSince = System.nanoTime();
    // the outage itself: the cluster is down for 4 s, longer than /short's TTL
    while (System.nanoTime() - downSince < Duration.ofSeconds(4).toNanos()) {
      Thread.sleep(100);
    }
    startAll(peers);

    leader = new V1Http(leader().clientUrl());
    assertStampsNearTheWallClock(leader);
    for (EtcdNode node : nodes) {
      V1Http curl = new V1Http(node.clientUrl());
      assertThat(curl.get("/v1/keys/short").body()).as("on %s", node.name()).contains("\"errorCode\":100");
      assertThat(curl.get("/v1/keys/long").body()).as("on %s", node.name()).contains("\"value\":\"kept\"");
    }
  }

  @Test
  void aMemberRestartedWhileTheOthersRanResumesTheirTime() throws Exception {
    List<String> peers = LocalCluster.peerAddresses(3);
    startAll(peers);
    EtcdNode first = leader();
    assertThat(new V1Http(first.clientUrl()).post("/v1/keys/k", "value=1", "ttl=600").statusCode()).isEqualTo(200);

    // the leader goes down for 3 s; the others elect a leader and go on writing
    int down = nodes.indexOf(first);
    first.close();
    long downSince = System.nanoTime();
    EtcdNode second = awaitLeaderOtherThan(first);
    V1Http viaSecond = new V1Http(second.clientUrl());
    while (System.nanoTime() - downSince < Duration.ofSeconds(3).toNanos()) {
      assertThat(viaSecond.post("/v1/keys/k", "value=2", "ttl=600").statusCode()).isEqualTo(200);
      Thread.sleep(100);
    }
    EtcdNode restarted = LocalCluster.member(peers, down, "n" + down, dir.resolve("n" + down)).build();
    nodes.set(down, restarted);
    restarted.start().get(60, java.util.concurrent.TimeUnit.SECONDS);

    // the member that stayed up stops; the restarted one and the third elect a leader, which
    // stamps the time the cluster had, whichever of the two it is
    second.close();
    nodes.remove(second);
    EtcdNode third = awaitLeaderOtherThan(second);
    assertStampsNearTheWallClock(new V1Http(third.clientUrl()));
  }

  private void startAll(List<String> peers) throws Exception {
    for (int i = 0; i < 3; i++) {
      nodes.add(LocalCluster.member(peers, i, "n" + i, dir.resolve("n" + i)).build());
    }
    LocalCluster.startAll(nodes, Duration.ofSeconds(90));
  }

  private EtcdNode leader() throws InterruptedException {
    return awaitLeaderOtherThan(null);
  }

  private EtcdNode awaitLeaderOtherThan(EtcdNode not) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      for (EtcdNode n : nodes) {
        if (n != not && n.isLeader()) {
          return n;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no leader among " + nodes);
  }

  /**
   * A TTL key's expiration minus its TTL is the log's time when the leader stamped the write: on
   * one machine it stays within about a second of the wall clock (by design it may trail by a
   * command's commit latency; it must not trail by a downtime).
   */
  private static void assertStampsNearTheWallClock(V1Http leader) throws Exception {
    Instant before = Instant.now();
    HttpResponse<String> set = leader.post("/v1/keys/probe", "value=p", "ttl=100");
    Instant after = Instant.now();
    assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
    String body = set.body();
    int at = body.indexOf("\"expiration\":\"") + "\"expiration\":\"".length();
    Instant stamped = Instant.parse(body.substring(at, body.indexOf('"', at))).minusSeconds(100);
    assertThat(stamped).as("the log's time stamped on %s", body)
        .isBetween(before.minusMillis(1500), after.plusMillis(1500));
  }
}
