package org.etcdjvm.embedded.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.etcdjvm.embedded.internal.LocalCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runtime membership with real {@code bin/etcd-node} processes, the etcd 0.1 way: the first node
 * alone, the others joining with {@code -C} naming a running member; removing members (dead or
 * alive, the leader included) and replacing a dead one; and what must be refused.
 */
class MembershipTest {
  private static final Duration START = Duration.ofSeconds(60);
  private static final Duration SHORT = Duration.ofSeconds(2);

  @TempDir Path dir;
  private final List<NodeProcess> started = new ArrayList<>();

  @AfterEach
  void killAll() throws InterruptedException {
    for (NodeProcess n : started) {
      n.kill();
    }
  }

  private NodeProcess node(String name, String... peers) throws IOException {
    NodeProcess n = new NodeProcess(name, "127.0.0.1:" + LocalCluster.freePort(), "127.0.0.1:" + LocalCluster.freePort(),
        List.of(peers), dir.resolve(name));
    started.add(n);
    return n;
  }

  /** etcd 0.1's README: node1 alone, node2 and node3 each with {@code -C} naming node1's peer address. */
  private List<NodeProcess> readmeCluster() throws Exception {
    NodeProcess node1 = node("node1").start();
    node1.awaitReady(START);
    NodeProcess node2 = node("node2", node1.peerAddress).start();
    NodeProcess node3 = node("node3", node1.peerAddress).start();
    node2.awaitReady(START);
    node3.awaitReady(START);
    return List.of(node1, node2, node3);
  }

  @Test
  void theEtcd01ReadmeSequenceFormsOneClusterThatSurvivesTheLossOfAnyMember() throws Exception {
    List<NodeProcess> nodes = readmeCluster();
    String all = nodes.stream().map(NodeProcess::clientUrl).sorted().toList().toString();
    for (NodeProcess n : nodes) {
      // leader first: compared with the leader of the moment (a busy machine may see an election)
      await(() -> {
        NodeProcess leader = awaitLeader(nodes);
        String body = Curl.get(n.clientUrl() + "/v1/machines", SHORT).body();
        return sortedUrls(body).equals(all) && body.startsWith(leader.clientUrl()) ? body : null;
      }, java.util.Objects::nonNull, "3 machines, leader first, on " + n.name);
    }
    NodeProcess leader = awaitLeader(nodes);
    assertThat(Curl.get(leader.clientUrl() + "/v1/stats/leader", SHORT).body())
        .contains("\"followers\":{").contains(nodes.stream().filter(n -> n != leader).map(n -> "\"" + n.name + "\"")
            .toArray(String[]::new));

    // Each member in turn is killed (-9): the others go on, nothing acknowledged is lost, and it
    // comes back from its data directory (whatever -C says).
    List<String> acknowledged = new ArrayList<>();
    for (NodeProcess victim : nodes) {
      List<NodeProcess> others = nodes.stream().filter(n -> n != victim).toList();
      Curl.Reply before = writeThrough(others, "/m/before-" + victim.name);
      acknowledged.add("before-" + victim.name);
      victim.kill();
      Curl.Reply after = writeThrough(others, "/m/after-" + victim.name);
      assertThat(after.index()).isGreaterThan(before.index());
      acknowledged.add("after-" + victim.name);
      victim.start();
      victim.awaitReady(START);
      String listing = awaitConverged(nodes, "/m");
      for (String key : acknowledged) {
        assertThat(listing).contains("\"key\":\"/m/" + key + "\"");
      }
    }
  }

  @Test
  void aDeadMemberIsRemovedAndReplacedWithoutLosingTheMajority() throws Exception {
    List<NodeProcess> nodes = readmeCluster();
    NodeProcess dead = nodes.get(2);
    List<NodeProcess> survivors = List.of(nodes.get(0), nodes.get(1));
    writeThrough(survivors, "/r/one");
    dead.kill();

    Curl.Reply removed = Curl.delete(survivors.get(1).clientUrl() + "/remove/" + dead.name, Duration.ofSeconds(10));
    assertThat(removed.status()).as("remove: %s", removed).isEqualTo(200);
    String twoUrls = survivors.stream().map(NodeProcess::clientUrl).sorted().toList().toString();
    await(() -> Curl.get(survivors.get(0).clientUrl() + "/v1/machines", SHORT).body(),
        body -> sortedUrls(body).equals(twoUrls), "2 machines after the removal");
    writeThrough(survivors, "/r/two");

    NodeProcess replacement = node("node4", survivors.get(1).peerAddress).start();
    replacement.awaitReady(START);
    List<NodeProcess> now = List.of(survivors.get(0), survivors.get(1), replacement);
    String threeUrls = now.stream().map(NodeProcess::clientUrl).sorted().toList().toString();
    for (NodeProcess n : now) {
      await(() -> Curl.get(n.clientUrl() + "/v1/machines", SHORT).body(),
          body -> sortedUrls(body).equals(threeUrls), "3 machines on " + n.name);
    }
    assertThat(awaitConverged(now, "/r")).contains("/r/one", "/r/two");

    // The removed member, back on its old data directory, must not serve: it refuses to start.
    dead.start();
    assertThat(dead.awaitExit(START)).isEqualTo(1);
    assertThat(dead.tail(5)).contains("was removed from the cluster").contains("data directory");
    assertThat(sortedUrls(Curl.get(survivors.get(0).clientUrl() + "/v1/machines", SHORT).body()))
        .as("a refused member leaves the cluster as it was").isEqualTo(threeUrls);
  }

  @Test
  void aLiveMemberAndTheLeaderCanBeRemovedAndStopThemselves() throws Exception {
    List<NodeProcess> nodes = readmeCluster();
    NodeProcess leader = awaitLeader(nodes);
    NodeProcess follower = nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
    NodeProcess third = nodes.stream().filter(n -> n != leader && n != follower).findFirst().orElseThrow();

    Curl.Reply removeFollower = Curl.delete(third.clientUrl() + "/remove/" + follower.name, Duration.ofSeconds(10));
    assertThat(removeFollower.status()).as("%s", removeFollower).isEqualTo(200);
    assertThat(follower.awaitExit(START)).as("the removed member stops").isZero();
    assertThat(follower.tail(5)).contains("removed from the cluster");

    Curl.Reply removeLeader = Curl.delete(third.clientUrl() + "/remove/" + leader.name, Duration.ofSeconds(10));
    assertThat(removeLeader.status()).as("%s", removeLeader).isEqualTo(200);
    assertThat(leader.awaitExit(START)).isZero();
    // the last member leads alone and takes writes
    Curl.Reply write = await(() -> Curl.put(third.clientUrl() + "/v1/keys/alone", SHORT, "value", "yes"), Curl.Reply::ok,
        "a write on the last member");
    assertThat(write.status()).isEqualTo(200);
    assertThat(Curl.get(third.clientUrl() + "/v1/machines", SHORT).body()).isEqualTo(third.clientUrl());
    Curl.Reply last = Curl.delete(third.clientUrl() + "/remove/" + third.name, SHORT);
    assertThat(last.body()).contains("\"errorCode\":300").contains("last member");
    assertThat(Curl.delete(third.clientUrl() + "/remove/nobody", SHORT).body()).contains("\"errorCode\":100");
  }

  @Test
  void aJoinBeyondMaxsizeGetsError103AndChangesNothing() throws Exception {
    NodeProcess node1 = node("node1").withArgs("-maxsize", "2").start();
    node1.awaitReady(START);
    NodeProcess node2 = node("node2", node1.peerAddress).start();
    node2.awaitReady(START);
    NodeProcess node3 = node("node3", node1.peerAddress).start();
    assertThat(node3.awaitExit(START)).isEqualTo(1);
    assertThat(node3.tail(5)).contains("error 103").contains("Reached the max number of machines");
    assertThat(sortedUrls(Curl.get(node1.clientUrl() + "/v1/machines", SHORT).body()))
        .isEqualTo(List.of(node1.clientUrl(), node2.clientUrl()).stream().sorted().toList().toString());
  }

  @Test
  void aNameInUseAndAnotherMemberListAreRefused() throws Exception {
    NodeProcess node1 = node("node1").start();
    node1.awaitReady(START);
    NodeProcess impostor = node("node1", node1.peerAddress);
    // same name, its own ports and data directory
    NodeProcess clash = new NodeProcess("node1", impostor.clientAddress, impostor.peerAddress, impostor.peers,
        dir.resolve("clash"));
    started.add(clash);
    clash.start();
    assertThat(clash.awaitExit(START)).isEqualTo(1);
    assertThat(clash.tail(5)).contains("the name node1 is already used");

    // two new members started with different lists: a static bootstrap needs the same list on all
    String a = "127.0.0.1:" + LocalCluster.freePort();
    String b = "127.0.0.1:" + LocalCluster.freePort();
    String c = "127.0.0.1:" + LocalCluster.freePort();
    NodeProcess na = new NodeProcess("na", "127.0.0.1:" + LocalCluster.freePort(), a, List.of(b), dir.resolve("na"));
    NodeProcess nb = new NodeProcess("nb", "127.0.0.1:" + LocalCluster.freePort(), b, List.of(a, c), dir.resolve("nb"));
    started.add(na);
    started.add(nb);
    na.start();
    nb.start();
    assertThat(na.awaitExit(START)).isEqualTo(1);
    assertThat(nb.awaitExit(START)).isEqualTo(1);
    assertThat(na.tail(5) + nb.tail(5)).contains("was started with the member list");
  }

  // ------------------------------------------------------------------------------------ helpers

  /** The URLs of a {@code /v1/machines} answer, sorted, as a list's string. */
  private static String sortedUrls(String machines) {
    return (machines.isEmpty() ? List.of() : java.util.Arrays.stream(machines.split(", ")).sorted().toList()).toString();
  }

  private static NodeProcess awaitLeader(List<NodeProcess> nodes) {
    return awaitUnchecked(() -> nodes.stream().filter(NodeProcess::isAlive)
            .filter(n -> Curl.get(n.clientUrl() + "/v1/stats/self", SHORT).body().contains("\"state\":\"leader\""))
            .findFirst().orElse(null),
        java.util.Objects::nonNull, "a leader");
  }

  /** A write through any of {@code nodes} (redirects followed), retried until acknowledged. */
  private static Curl.Reply writeThrough(List<NodeProcess> nodes, String key) throws InterruptedException {
    int[] attempt = {0};
    return await(() -> Curl.put(nodes.get(attempt[0]++ % nodes.size()).clientUrl() + "/v1/keys" + key, SHORT,
        "value", key), Curl.Reply::ok, "an acknowledged write of " + key);
  }

  private static String awaitConverged(List<NodeProcess> nodes, String dir) throws InterruptedException {
    return await(() -> {
      List<String> bodies = nodes.stream().map(n -> Curl.get(n.clientUrl() + "/v1/keys" + dir, SHORT).body()).toList();
      return bodies.stream().distinct().count() == 1 && bodies.get(0).startsWith("[") ? bodies.get(0) : null;
    }, java.util.Objects::nonNull, "replicas converged on " + dir);
  }

  private static <T> T awaitUnchecked(Supplier<T> value, java.util.function.Predicate<T> done, String what) {
    try {
      return await(value, done, what);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Polls {@code value} every 50 ms until {@code done} holds (30 s at most); returns the value. */
  private static <T> T await(Supplier<T> value, java.util.function.Predicate<T> done, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    T last = null;
    while (System.nanoTime() < deadline) {
      last = value.get();
      if (last != null && done.test(last)) {
        return last;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no " + what + " within 30 s; last: " + last);
  }
}
